// sysfs as booted kernels printed it: every transcript's raw reserved_regions lines of
// every IOMMU group (the `all_groups` lines) parsed and compared with the group's regions
// as the probe decoded them, the group type and the module parameter; then the readers
// over a filesystem double, and the errors for text the kernel never prints.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/linux/sysfs.hpp>

#include "fake_fs.hpp"
#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::linux_vfio;
using passthru::testing::fake_fs;
using passthru::testing::err;
using passthru::testing::einval;
using passthru::testing::enoent;

namespace {

// "PROBE key=value key=value rest..." lines of one transcript.
std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}
std::string field(const std::string& line, const std::string& key) {
    const auto at = line.find(" " + key + "=");
    if (at == std::string::npos) return {};
    const auto from = at + key.size() + 2;
    return line.substr(from, line.find(' ', from) - from);
}

static_assert(Filesystem<fake_fs>);

} // namespace

TEST_CASE("linux sysfs: every transcript's reserved_regions, group type and parameter parse as the probe read them") {
    int files = 0, regions = 0;
    for (const auto& entry : std::filesystem::directory_iterator(PASSTHRU_KERNEL_TRANSCRIPTS)) {
        const auto lines = lines_of(entry.path());
        INFO(entry.path().filename().string());
        bool arm = false;
        std::string group;
        std::map<std::string, std::string> raw; // group -> its reserved_regions text
        std::vector<reserved_region> decoded;   // the device's group, as the probe printed it
        for (const std::string& l : lines) {
            if (l.rfind("PROBE uname_machine=aarch64", 0) == 0) arm = true;
            if (l.rfind("PROBE iommu_group=", 0) == 0) group = l.substr(18);
            if (l.rfind("PROBE all_groups ", 0) == 0) raw[field(l, "group")] += l.substr(l.find("region=") + 7) + "\n";
            if (l.rfind("PROBE group_type=", 0) == 0) CHECK(parse_group_type(l.substr(17) + "\n"));
            if (l.rfind("PROBE param allow_unsafe_interrupts=", 0) == 0)
                CHECK(*parse_bool_param(l.substr(36) + "\n") == (l.back() == 'Y'));
            if (l.rfind("PROBE resv_region ", 0) == 0) {
                const std::string t = field(l, "type");
                const resv_type type = t == "msi" ? (arm ? resv_type::sw_msi : resv_type::msi)
                                       : t == "reserved" ? resv_type::reserved
                                       : t == "direct" ? resv_type::direct : resv_type::direct_relaxable;
                decoded.push_back({{std::stoull(field(l, "start"), nullptr, 16), std::stoull(field(l, "end"), nullptr, 16)}, type});
            }
        }
        for (const auto& [g, text] : raw) {
            const auto parsed = parse_reserved_regions(text, arm ? resv_type::sw_msi : resv_type::msi);
            REQUIRE(parsed);
            regions += static_cast<int>(parsed->size());
            if (g != group) continue;
            REQUIRE(parsed->size() == decoded.size());
            for (std::size_t i = 0; i < decoded.size(); ++i) {
                CHECK(parsed->at(i).range == decoded[i].range);
                CHECK(parsed->at(i).type == decoded[i].type);
            }
        }
        ++files;
    }
    CHECK(files == 30);
    CHECK(regions >= 90);
}

TEST_CASE("linux sysfs: text the kernel never prints is EINVAL, a missing group or module ENOENT") {
    CHECK(err(parse_reserved_regions("0xfee00000 0xfeefffff msi\n", resv_type::msi)) == 0); // short hex is fine
    CHECK(err(parse_reserved_regions("0x0000000000002000 0x0000000000001fff reserved\n", resv_type::msi)) == einval);
    CHECK(err(parse_reserved_regions("0x0000000000001000 reserved\n", resv_type::msi)) == einval);
    CHECK(err(parse_reserved_regions("0x1000 0x1fff sw-msi\n", resv_type::msi)) == einval);
    CHECK(err(parse_reserved_regions("1000 0x1fff reserved\n", resv_type::msi)) == einval);
    CHECK(parse_reserved_regions("", resv_type::msi)->empty());
    CHECK(err(parse_group_type("DMA_FQ\n")) == einval);
    CHECK(err(parse_bool_param("yes\n")) == einval);
    CHECK(err(parse_uint_param("65535x\n")) == einval);
    CHECK(*parse_uint_param("65535\n") == 65535);

    fake_fs fs;
    CHECK(err(read_type1_params(fs)) == enoent);
    CHECK(err(read_group(fs, 3, resv_type::msi)) == enoent);
    CHECK(list_groups(fs).empty());
    const std::string p = "/sys/module/vfio_iommu_type1/parameters/";
    fs.files = {{p + "allow_unsafe_interrupts", "N\n"}, {p + "dma_entry_limit", "4\n"}, {p + "disable_hugepages", "Y\n"},
                {"/sys/kernel/iommu_groups/12/type", "DMA-FQ\n"},
                {"/sys/kernel/iommu_groups/12/reserved_regions",
                 "0x00000000fee00000 0x00000000feefffff msi\n0x000000fd00000000 0x000000ffffffffff reserved\n"}};
    fs.dirs = {{"/sys/kernel/iommu_groups", {"10", "12", "9"}}, {"/sys/kernel/iommu_groups/12/devices", {"0000:00:02.0"}}};
    CHECK(*read_type1_params(fs) == type1_params{false, 4, true});
    CHECK(list_groups(fs) == std::vector<unsigned>{9, 10, 12});
    const auto g = read_group(fs, 12, resv_type::msi);
    REQUIRE(g);
    CHECK(g->domain == group_domain::dma_fq);
    CHECK(g->devices == std::vector<std::string>{"0000:00:02.0"});
    REQUIRE(g->regions.size() == 2);
    CHECK(g->regions[1].range == interval{0xfd00000000, 0xffffffffff});
    CHECK(g->regions[1].type == resv_type::reserved);
}

TEST_CASE("linux sysfs: the real filesystem reader") {
    real_filesystem fs;
    CHECK(fs.read("/proc/self/stat").has_value());
    CHECK(!fs.read("/nonexistent/file").has_value());
    const auto root = fs.list("/");
    REQUIRE(root);
    CHECK(std::find(root->begin(), root->end(), "proc") != root->end());
}

TEST_CASE("linux sysfs: a group is viable when no device is bound to a driver of its own, and a device names its group") {
    CHECK(parse_uevent_driver("DRIVER=vfio-pci\nPCI_CLASS=20000\n") == "vfio-pci");
    CHECK(parse_uevent_driver("PCI_CLASS=20000\nDRIVER=e1000e\n") == "e1000e");
    CHECK(parse_uevent_driver("PCI_CLASS=20000\n").empty());
    for (const char* ok : {"", "vfio-pci", "vfio-platform", "mlx5_vfio_pci", "pci-stub", "pcieport"}) CHECK(driver_allows_vfio(ok));
    for (const char* no : {"e1000e", "nvme", "igb", "ahci"}) CHECK(!driver_allows_vfio(no));

    fake_fs fs;
    const std::string g = "/sys/kernel/iommu_groups/";
    for (const char* id : {"3", "4"}) {
        fs.add(g + id + "/type", "DMA\n");
        fs.add(g + id + "/reserved_regions", "");
    }
    fs.add(g + "3/devices/0000:01:00.0/uevent", "DRIVER=vfio-pci\n");
    fs.add(g + "3/devices/0000:00:1c.0/uevent", "DRIVER=pcieport\n");
    fs.add(g + "4/devices/0000:02:00.0/uevent", "DRIVER=vfio-pci\n");
    fs.add(g + "4/devices/0000:02:00.1/uevent", "DRIVER=e1000e\nPCI_ID=8086:10D3\n");
    const auto three = read_group(fs, 3, resv_type::msi), four = read_group(fs, 4, resv_type::msi);
    REQUIRE(three);
    REQUIRE(four);
    CHECK(three->drivers.size() == three->devices.size());
    CHECK(three->viable());
    CHECK(!four->viable()); // 0000:02:00.1 is still the NIC's
    CHECK(four->drivers[1] == "e1000e");
    fs.files[g + "4/devices/0000:02:00.1/uevent"] = "PCI_ID=8086:10D3\n"; // unbound
    CHECK(read_group(fs, 4, resv_type::msi)->viable());
    CHECK(*group_of_device(fs, "0000:02:00.1") == 4);
    CHECK(*group_of_device(fs, "0000:00:1c.0") == 3);
    CHECK(err(group_of_device(fs, "0000:09:00.0")) == enoent);
}
