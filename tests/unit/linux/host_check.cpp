// The host check against the booted kernels: for each of the 30 transcripts, the facts
// the guest read before any VFIO call (its kernel release and architecture, the
// /sys/class/iommu entries, the irq chips, the device tree's MSI controllers, the module
// parameter) are laid out as a filesystem, read back by read_host_facts, and the verdict
// predict_attach gives must be what SET_IOMMU then did, and what its retry did after
// allow_unsafe_interrupts was written (SEMANTICS P8).
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/linux/host_check.hpp>

#include "fake_fs.hpp"
#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::linux_vfio;
using passthru::testing::fake_fs;
using passthru::testing::err;
using passthru::testing::einval;

namespace {


std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    if (s == "-") return out;
    std::size_t from = 0;
    for (std::size_t at; (at = s.find(',', from)) != std::string::npos; from = at + 1) out.push_back(s.substr(from, at - from));
    out.push_back(s.substr(from));
    return out;
}

std::string after(const std::string& line, const std::string& key) {
    const auto at = line.find(key);
    if (at == std::string::npos) return {};
    const auto from = at + key.size();
    return line.substr(from, line.find(' ', from) - from);
}

} // namespace

TEST_CASE("linux host check: from what each booted kernel showed before VFIO, SET_IOMMU's errno and the usable IOVA ranges") {
    int files = 0, retries = 0, ranges = 0;
    for (const auto& entry : std::filesystem::directory_iterator(PASSTHRU_KERNEL_TRANSCRIPTS)) {
        INFO(entry.path().filename().string());
        std::ifstream in(entry.path());
        fake_fs fs;
        std::string set_iommu, retry, group, regions;
        interval_list usable; // what GET_INFO reported once attached
        for (std::string l; std::getline(in, l);) {
            if (l.rfind("PROBE uname_release=", 0) == 0) fs.add("/proc/sys/kernel/osrelease", l.substr(20) + "\n");
            if (l.rfind("PROBE uname_machine=", 0) == 0) fs.add("/proc/sys/kernel/arch", l.substr(20) + "\n");
            if (l.rfind("PROBE host iommu_class=", 0) == 0)
                for (const auto& n : split(l.substr(23))) fs.add("/sys/class/iommu/" + n + "/device", "");
            if (l.rfind("PROBE host vtd_cap=", 0) == 0) {
                fs.add("/sys/class/iommu/dmar0/intel-iommu/cap", after(l, "vtd_cap=") + "\n");
                fs.add("/sys/class/iommu/dmar0/intel-iommu/ecap", after(l, "vtd_ecap=") + "\n");
            }
            if (l.rfind("PROBE iommu_group=", 0) == 0) group = l.substr(18);
            if (l.rfind("PROBE all_groups group=" + group + " ", 0) == 0 && !group.empty())
                regions += l.substr(l.find("region=") + 7) + "\n";
            if (l.rfind("PROBE iova_range tag=initial ", 0) == 0)
                usable.push_back({std::stoull(after(l, "start="), nullptr, 16), std::stoull(after(l, "end="), nullptr, 16)});
            if (l.rfind("PROBE host irq_chips=", 0) == 0) {
                int irq = 1;
                for (const auto& c : split(l.substr(21))) fs.add("/sys/kernel/irq/" + std::to_string(irq++) + "/chip_name", c + "\n");
            }
            if (l.rfind("PROBE host dt_msi_controllers=", 0) == 0) {
                int node = 0;
                for (const auto& c : split(l.substr(30))) {
                    const std::string dir = "/proc/device-tree/intc@8000000/msi@" + std::to_string(node++);
                    fs.add(dir + "/msi-controller", "");
                    fs.add(dir + "/compatible", c);
                }
                fs.add("/proc/device-tree/compatible", "linux,dummy-virt");
            }
            if (l.rfind("PROBE param allow_unsafe_interrupts=", 0) == 0) {
                const std::string p = "/sys/module/vfio_iommu_type1/parameters/";
                fs.add(p + "allow_unsafe_interrupts", l.substr(36) + "\n");
                fs.add(p + "dma_entry_limit", "65535\n");
                fs.add(p + "disable_hugepages", "N\n");
            }
            if (l.rfind("PROBE set_iommu ", 0) == 0) set_iommu = after(l, "errno=");
            if (l.rfind("PROBE set_iommu_retry_unsafe ", 0) == 0) retry = after(l, "errno=");
        }
        auto host = read_host_facts(fs);
        REQUIRE(host);
        const auto firmware = parse_reserved_regions(regions, host->x86 ? resv_type::msi : resv_type::sw_msi);
        REQUIRE(firmware);
        const auto v = predict_attach(*host, *firmware);
        REQUIRE(v);
        INFO(v->platform << ": " << v->reason);
        CHECK((v->error ? std::string(describe(*v->error).name) : "0") == set_iommu);
        interval_list predicted = v->usable;
        if (!retry.empty()) {
            host->allow_unsafe_interrupts = true;
            const auto r = predict_attach(*host, *firmware);
            CHECK((r->error ? std::string(describe(*r->error).name) : "0") == retry);
            CHECK(r->unsafe);
            predicted = r->usable;
            ++retries;
        }
        // The usable IOVA ranges, from the registers and reserved_regions alone.
        if (!usable.empty()) {
            CHECK(predicted == usable);
            ++ranges;
        }
        ++files;
    }
    CHECK(files == 30);
    CHECK(retries >= 8);
    CHECK(ranges == 30);
}

TEST_CASE("linux host check: the facts it reads, and a host it cannot judge") {
    CHECK(*parse_release("6.12.118+deb12-amd64") == kernel_version{6, 12});
    CHECK(*parse_release("6.1.0-57-arm64") == kernel_version{6, 1});
    CHECK(!parse_release("six"));
    CHECK(classify_iommu({"dmar0", "dmar1"}) == host_iommu::intel_vtd);
    CHECK(classify_iommu({"ivhd0"}) == host_iommu::amd_vi);
    CHECK(classify_iommu({"smmu3.0x0000000009050000"}) == host_iommu::arm_smmuv3);
    CHECK(classify_iommu({}) == host_iommu::none);
    CHECK(classify_msi(true, {"IR-IO-APIC", "XT-PIC"}, {}) == host_msi::x86_remapped);
    CHECK(classify_msi(true, {"IO-APIC"}, {}) == host_msi::x86_not_remapped);
    CHECK(classify_msi(false, {"GICv3"}, {"arm,gic-v2m-frame", "arm,gic-v3-its"}) == host_msi::gicv3_its);
    CHECK(classify_msi(false, {}, {}) == host_msi::no_controller);
    host_facts none;
    none.release = "6.12.1";
    none.kernel = {6, 12};
    CHECK(passthru::testing::err(predict_attach(none)) == static_cast<int>(errc::enodev));
    fake_fs empty;
    CHECK(passthru::testing::err(read_host_facts(empty)) == static_cast<int>(errc::enoent));
}

namespace {
// A MADT: the 44-byte head, then entries of (type, length, body).
std::string madt(std::initializer_list<std::pair<unsigned char, unsigned char>> entries) {
    std::string t = "APIC";
    t.resize(44, '\0');
    for (const auto& [type, len] : entries) {
        t += static_cast<char>(type);
        t += static_cast<char>(len);
        t.append(len - 2, '\0');
    }
    const auto n = static_cast<std::uint32_t>(t.size());
    for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<char>(n >> (8 * i));
    return t;
}
// An arm64 host booted from ACPI: no /proc/device-tree.
fake_fs acpi_host() {
    fake_fs fs;
    fs.add("/proc/sys/kernel/osrelease", "6.12.118+deb12-arm64\n");
    fs.add("/proc/sys/kernel/arch", "aarch64\n");
    fs.add("/sys/class/iommu/smmu3.0x0000000009050000/device", "");
    fs.add("/sys/kernel/irq/1/chip_name", "GICv3\n");
    return fs;
}
} // namespace

TEST_CASE("linux host check: an ARM host without a device tree reads its MSI controller from the ACPI MADT, else from the irq chips") {
    // GICC (0xB, 80 bytes) entries, a GICD (0xC), then an ITS (0xF) or an MSI frame (0xD).
    CHECK(*parse_madt_msi(madt({{0xB, 80}, {0xC, 24}, {0xF, 20}})) == std::vector<std::string>{"arm,gic-v3-its"});
    CHECK(*parse_madt_msi(madt({{0xB, 80}, {0xD, 24}})) == std::vector<std::string>{"arm,gic-v2m-frame"});
    CHECK(parse_madt_msi(madt({{0xB, 80}, {0xC, 24}}))->empty());
    CHECK(err(parse_madt_msi("FACP" + madt({}).substr(4))) == einval);
    auto cut = madt({{0xB, 80}});
    cut[45] = static_cast<char>(120); // an entry longer than the table
    CHECK(err(parse_madt_msi(cut)) == einval);

    auto its = acpi_host();
    its.add("/sys/firmware/acpi/tables/APIC", madt({{0xB, 80}, {0xC, 24}, {0xF, 20}}));
    auto h = read_host_facts(its);
    REQUIRE(h);
    CHECK(!h->x86);
    CHECK(h->msi == host_msi::gicv3_its);
    CHECK(h->msi_source == msi_evidence::acpi_madt);
    CHECK(!predict_attach(*h)->error);

    auto v2m = acpi_host();
    v2m.add("/sys/firmware/acpi/tables/APIC", madt({{0xB, 80}, {0xD, 24}}));
    CHECK(predict_attach(*read_host_facts(v2m))->error == errc::eperm);

    // Not root: the MADT cannot be read. An ITS irq chip tells; nothing at all is EACCES.
    auto chips = acpi_host();
    chips.add("/sys/kernel/irq/40/chip_name", "ITS-PCI-MSI\n");
    h = read_host_facts(chips);
    REQUIRE(h);
    CHECK(h->msi == host_msi::gicv3_its);
    CHECK(h->msi_source == msi_evidence::irq_chips);
    auto blind = acpi_host();
    h = read_host_facts(blind);
    REQUIRE(h);
    CHECK(h->msi_source == msi_evidence::unknown);
    CHECK(err(predict_attach(*h)) == static_cast<int>(errc::eacces));
}
