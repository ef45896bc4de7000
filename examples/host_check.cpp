// host_check: run on a Linux host, it reads sysfs and /proc and says, before any VFIO
// call, whether type1 will attach this host's IOMMU groups and why (the policy's own
// sentence), each group's reserved regions and usable IOVA ranges, and whether the
// locked-memory limit covers a guest of the given size (type1 charges every pinned page),
// and for each group whether VFIO can take it now: every device bound to vfio-pci (or to
// no driver), and /dev/vfio/<group> open to this user.
//   host_check [--guest-ram <MiB>] [--group <id> | --device <0000:01:00.0>]
// Exit status: 0 the attach goes ahead, 1 it is refused, 2 the host cannot be judged.
#include <sys/resource.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <passthru/linux/host_check.hpp>
#include <passthru/linux/sysfs.hpp>

namespace lv = passthru::linux_vfio;

namespace {
const char* msi_text(lv::host_msi m) {
    switch (m) {
    case lv::host_msi::x86_remapped: return "x86 interrupt remapping on (IR-IO-APIC)";
    case lv::host_msi::x86_not_remapped: return "no interrupt remapping";
    case lv::host_msi::gicv3_its: return "GICv3 ITS";
    case lv::host_msi::gicv2m: return "GICv2m frame";
    case lv::host_msi::no_controller: return "no MSI controller";
    }
    return "?";
}
} // namespace

int main(int argc, char** argv) {
    std::uint64_t ram_mib = 0;
    long only = -1;
    const char* device = nullptr;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--guest-ram")) ram_mib = std::strtoull(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--group")) only = std::strtol(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--device")) device = argv[i + 1];
    }
    lv::real_filesystem fs;
    const auto host = lv::read_host_facts(fs);
    if (!host) {
        std::printf("host_check: %.*s\n", static_cast<int>(host.error().reason.size()), host.error().reason.data());
        return 2;
    }
    std::printf("kernel: %s\n", host->release.c_str());
    std::string iommus;
    for (const auto& n : host->iommus) iommus += (iommus.empty() ? "" : ",") + n;
    std::printf("IOMMU: %s\nMSI: %s (from the %s)\nallow_unsafe_interrupts: %s\n", iommus.empty() ? "none" : iommus.c_str(),
                host->msi_source == lv::msi_evidence::unknown ? "?" : msi_text(host->msi),
                lv::to_string(host->msi_source).data(),
                host->allow_unsafe_interrupts ? "Y" : "N");
    rlimit lim{};
    if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0) {
        const bool unlimited = lim.rlim_cur == RLIM_INFINITY;
        std::printf("RLIMIT_MEMLOCK: %s", unlimited ? "unlimited" : (std::to_string(lim.rlim_cur >> 20) + " MiB").c_str());
        // type1 charges every pinned page of guest RAM (SEMANTICS B14), unless the VMM has
        // CAP_IPC_LOCK: the limit must cover all of it.
        if (ram_mib && (unlimited || (lim.rlim_cur >> 20) >= ram_mib))
            std::printf(" (enough for a %" PRIu64 " MiB guest)", ram_mib);
        else if (ram_mib)
            std::printf(" (a %" PRIu64 " MiB guest needs ulimit -l %" PRIu64 " (KiB) or more, or CAP_IPC_LOCK)",
                        ram_mib, ram_mib * 1024);
        std::printf("\n");
    }
    if (access("/dev/vfio/vfio", R_OK | W_OK) != 0) std::printf("/dev/vfio/vfio: not accessible (vfio module loaded? permissions?)\n");

    const auto base = lv::predict_attach(*host);
    if (!base) {
        std::printf("verdict: cannot judge: %.*s\n", static_cast<int>(base.error().reason.size()), base.error().reason.data());
        return 2;
    }
    std::printf("platform: %s\n", base->platform.c_str());
    const auto msi_as = host->x86 ? passthru::resv_type::msi : passthru::resv_type::sw_msi;
    if (device) {
        const auto id = lv::group_of_device(fs, device);
        if (!id) {
            std::printf("device %s: %.*s\n", device, static_cast<int>(id.error().reason.size()), id.error().reason.data());
            return 2;
        }
        only = *id;
    }
    int status = 0;
    for (unsigned id : lv::list_groups(fs)) {
        if (only >= 0 && id != static_cast<unsigned long>(only)) continue;
        const auto g = lv::read_group(fs, id, msi_as);
        if (!g) continue;
        const auto v = lv::predict_attach(*host, g->regions);
        std::printf("group %u (%zu device%s):", id, g->devices.size(), g->devices.size() == 1 ? "" : "s");
        for (std::size_t i = 0; i < g->devices.size(); ++i)
            std::printf(" %s [%s]", g->devices[i].c_str(), g->drivers[i].empty() ? "no driver" : g->drivers[i].c_str());
        if (!g->viable()) {
            std::printf("\n  not viable: bind every device of the group to vfio-pci first:");
            for (std::size_t i = 0; i < g->devices.size(); ++i)
                if (!lv::driver_allows_vfio(g->drivers[i])) std::printf(" %s (bound to %s)", g->devices[i].c_str(), g->drivers[i].c_str());
        }
        const std::string node = "/dev/vfio/" + std::to_string(id);
        if (g->viable() && access(node.c_str(), R_OK | W_OK) != 0)
            std::printf("\n  %s: not accessible to this user (permissions, or no VFIO driver bound yet)", node.c_str());
        if (!v) {
            std::printf("\n  cannot judge: %.*s\n", static_cast<int>(v.error().reason.size()), v.error().reason.data());
            status = 2;
            continue;
        }
        std::printf("\n  SET_IOMMU: %s%s: %s\n", v->error ? describe(*v->error).name.data() : "attaches",
                    v->unsafe ? " without MSI isolation" : "", v->reason.c_str());
        for (const auto& r : g->regions)
            std::printf("  reserved [%#" PRIx64 ", %#" PRIx64 "] %.*s\n", r.range.first, r.range.last,
                        static_cast<int>(to_string(r.type).size()), to_string(r.type).data());
        for (const auto& u : v->usable) std::printf("  usable   [%#" PRIx64 ", %#" PRIx64 "]\n", u.first, u.last);
        if (v->error && status == 0) status = 1;
    }
    if (base->error && status == 0) status = 1;
    std::printf("verdict: %s: %s\n", base->error ? "refused" : base->unsafe ? "attaches without MSI isolation" : "attaches",
                base->reason.c_str());
    return status;
}
