#pragma once
// The host check: what a Linux host says about itself before any VFIO call, and what
// type1 will therefore do at SET_IOMMU. The facts come from files anyone can read:
//   /proc/sys/kernel/osrelease             the kernel, hence the MSI rule set (§H)
//   /sys/class/iommu/<name>                dmar* (VT-d), ivhd* (AMD-Vi), smmu3.* (SMMUv3)
//   /sys/class/iommu/dmar*/intel-iommu/{cap,ecap}
//                                          VT-d's address width (MGAW) and snoop control
//   /sys/kernel/irq/<n>/chip_name          x86: IR-IO-APIC means interrupt remapping is on
//   /proc/sys/kernel/arch                  x86_64 or aarch64
//   /proc/device-tree/**/msi-controller    ARM: the MSI controller's compatible
//                                          (arm,gic-v3-its; arm,gic-v2m-frame; none)
//   /sys/firmware/acpi/tables/APIC         ARM without a device tree (ACPI): the MADT's
//                                          GIC ITS and GIC MSI frame entries (root may
//                                          read it; otherwise the irq chips ITS-* and
//                                          GICv2m-* tell, when a device has MSIs)
//   /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
// They pick the catalog platform, and plan_attach gives the verdict and the reason: the
// same text as the compile-time verdict.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <passthru/concepts/kernel_rule.hpp>
#include <passthru/core/error.hpp>
#include <passthru/linux/sysfs.hpp>
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>
#include <passthru/policy/kernel_rules.hpp>

namespace passthru::linux_vfio {

enum class host_iommu : std::uint8_t { none, intel_vtd, amd_vi, arm_smmuv3, other };
enum class host_msi : std::uint8_t {
    x86_remapped,     // IR-IO-APIC: the IOMMU remaps interrupts
    x86_not_remapped, // no IR chip: interrupts go straight to the APIC
    gicv3_its,        // an ITS tags every MSI with the device's ID
    gicv2m,           // a GICv2m frame: any device can raise any of its SPIs
    no_controller,    // an ARM host with no MSI controller
};

// Where a host's MSI controller was read from. `unknown`: an ACPI host whose MADT this
// process cannot read and whose irq chips name none (no verdict is given: run as root).
enum class msi_evidence : std::uint8_t { irq_chips, device_tree, acpi_madt, unknown };
constexpr std::string_view to_string(msi_evidence e) noexcept {
    switch (e) {
    case msi_evidence::irq_chips: return "irq chips";
    case msi_evidence::device_tree: return "device tree";
    case msi_evidence::acpi_madt: return "ACPI MADT";
    case msi_evidence::unknown: return "unknown";
    }
    return "?";
}

struct host_facts {
    std::string release;        // "6.12.118+deb12-amd64"
    kernel_version kernel{};    // 6.12
    bool x86 = true;
    std::vector<std::string> iommus; // /sys/class/iommu
    host_iommu iommu = host_iommu::none;
    host_msi msi = host_msi::x86_not_remapped;
    msi_evidence msi_source = msi_evidence::irq_chips; // where `msi` came from
    bool allow_unsafe_interrupts = false;
    std::optional<std::uint64_t> vtd_cap, vtd_ecap; // the first DMAR unit's registers
};

// VT-d CAP.MGAW (bits 21:16) + 1: the address width second-stage tables may use.
constexpr unsigned vtd_address_width(std::uint64_t cap) noexcept { return static_cast<unsigned>((cap >> 16) & 0x3f) + 1; }
// VT-d ECAP.SC (bit 7): snoop control, what DMA_CC_IOMMU and enforce_cache_coherency need.
constexpr bool vtd_snoop_control(std::uint64_t ecap) noexcept { return (ecap >> 7) & 1; }

// "6.12.118+deb12-amd64" -> 6.12.
inline std::optional<kernel_version> parse_release(std::string_view r) {
    const auto dot = r.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const auto major = detail::number(r.substr(0, dot), 10);
    std::size_t end = dot + 1;
    while (end < r.size() && r[end] >= '0' && r[end] <= '9') ++end;
    const auto minor = detail::number(r.substr(dot + 1, end - dot - 1), 10);
    if (!major || !minor) return std::nullopt;
    return kernel_version{static_cast<unsigned>(*major), static_cast<unsigned>(*minor)};
}

inline host_iommu classify_iommu(const std::vector<std::string>& names) {
    for (const std::string& n : names) {
        if (n.rfind("dmar", 0) == 0) return host_iommu::intel_vtd;
        if (n.rfind("ivhd", 0) == 0) return host_iommu::amd_vi;
        if (n.rfind("smmu3.", 0) == 0) return host_iommu::arm_smmuv3;
    }
    return names.empty() ? host_iommu::none : host_iommu::other;
}

// x86 from the irq chips; ARM from the device tree's MSI controllers.
inline host_msi classify_msi(bool x86, const std::vector<std::string>& irq_chips,
                             const std::vector<std::string>& dt_msi_controllers) {
    if (x86) {
        for (const std::string& c : irq_chips)
            if (c.rfind("IR-", 0) == 0) return host_msi::x86_remapped;
        return host_msi::x86_not_remapped;
    }
    for (const std::string& c : dt_msi_controllers)
        if (c.find("gic-v3-its") != std::string::npos) return host_msi::gicv3_its;
    for (const std::string& c : dt_msi_controllers)
        if (c.find("gic-v2m") != std::string::npos) return host_msi::gicv2m;
    return host_msi::no_controller;
}

// The MSI controllers of an ACPI MADT (the bytes of /sys/firmware/acpi/tables/APIC) as
// device-tree compatibles, for classify_msi: a GIC ITS entry (type 0xF) is
// "arm,gic-v3-its", a GIC MSI frame (type 0xD) "arm,gic-v2m-frame". EINVAL for bytes that
// are not a MADT: a wrong signature, or entries that leave the table.
inline result<std::vector<std::string>> parse_madt_msi(std::string_view t) {
    constexpr std::size_t entries_at = 44; // the ACPI header (36), the local controller address and flags
    if (t.size() < entries_at || t.substr(0, 4) != "APIC") return fail(errc::einval, "not an ACPI MADT");
    const std::size_t length = static_cast<unsigned char>(t[4]) | static_cast<unsigned char>(t[5]) << 8 |
                               static_cast<std::size_t>(static_cast<unsigned char>(t[6])) << 16 |
                               static_cast<std::size_t>(static_cast<unsigned char>(t[7])) << 24;
    if (length < entries_at || length > t.size()) return fail(errc::einval, "the MADT's length is not its size");
    std::vector<std::string> out;
    for (std::size_t at = entries_at; at < length;) {
        if (length - at < 2) return fail(errc::einval, "a MADT entry leaves the table");
        const auto type = static_cast<unsigned char>(t[at]), len = static_cast<unsigned char>(t[at + 1]);
        if (len < 2 || len > length - at) return fail(errc::einval, "a MADT entry leaves the table");
        if (type == 0xF) out.emplace_back("arm,gic-v3-its");
        if (type == 0xD) out.emplace_back("arm,gic-v2m-frame");
        at += len;
    }
    return out;
}

namespace detail {
// Device-tree nodes with an msi-controller property, to `depth` levels: their compatibles.
template <Filesystem Fs>
void dt_msi_controllers(Fs& fs, const std::string& dir, int depth, std::vector<std::string>& out) {
    if (fs.read(dir + "/msi-controller"))
        if (auto c = fs.read(dir + "/compatible")) out.push_back(std::string(trim(*c)));
    if (depth == 0) return;
    if (const auto names = fs.list(dir)) // a property is a file: no listing
        for (const std::string& n : *names) dt_msi_controllers(fs, dir + "/" + n, depth - 1, out);
}
} // namespace detail

template <Filesystem Fs>
result<host_facts> read_host_facts(Fs& fs) {
    host_facts h;
    const auto release = fs.read("/proc/sys/kernel/osrelease");
    if (!release) return fail(errc::enoent, "no /proc/sys/kernel/osrelease: not a Linux host");
    h.release = std::string(detail::trim(*release));
    const auto v = parse_release(h.release);
    if (!v) return fail(errc::einval, "the kernel release is not major.minor...");
    h.kernel = *v;
    std::vector<std::string> chips, dt;
    if (const auto irqs = fs.list("/sys/kernel/irq"))
        for (const std::string& n : *irqs)
            if (auto c = fs.read("/sys/kernel/irq/" + n + "/chip_name")) chips.push_back(std::string(detail::trim(*c)));
    detail::dt_msi_controllers(fs, "/proc/device-tree", 3, dt);
    const auto arch = fs.read("/proc/sys/kernel/arch"); // uname -m
    h.x86 = arch ? detail::trim(*arch) == "x86_64" : !fs.list("/proc/device-tree").has_value();
    h.iommus = fs.list("/sys/class/iommu").value_or(std::vector<std::string>{});
    h.iommu = classify_iommu(h.iommus);
    for (const std::string& n : h.iommus) {
        if (n.rfind("dmar", 0) != 0) continue;
        const auto cap = fs.read("/sys/class/iommu/" + n + "/intel-iommu/cap");
        const auto ecap = fs.read("/sys/class/iommu/" + n + "/intel-iommu/ecap");
        if (cap && ecap) {
            h.vtd_cap = detail::number("0x" + std::string(detail::trim(*cap)), 16);
            h.vtd_ecap = detail::number("0x" + std::string(detail::trim(*ecap)), 16);
        }
        break;
    }
    h.msi = classify_msi(h.x86, chips, dt);
    if (!h.x86) h.msi_source = msi_evidence::device_tree;
    if (!h.x86 && !fs.list("/proc/device-tree")) { // ACPI: the MADT, else what the irq chips show
        if (const auto madt = fs.read("/sys/firmware/acpi/tables/APIC")) {
            auto ctrl = parse_madt_msi(*madt);
            if (!ctrl) return tl::unexpected(ctrl.error());
            h.msi = classify_msi(false, chips, *ctrl);
            h.msi_source = msi_evidence::acpi_madt;
        } else {
            std::vector<std::string> seen;
            for (const std::string& c : chips) {
                if (c.rfind("ITS", 0) == 0) seen.emplace_back("arm,gic-v3-its");
                if (c.rfind("GICv2m", 0) == 0) seen.emplace_back("arm,gic-v2m-frame");
            }
            h.msi = classify_msi(false, chips, seen);
            h.msi_source = seen.empty() ? msi_evidence::unknown : msi_evidence::irq_chips;
        }
    }
    if (auto p = read_type1_params(fs)) h.allow_unsafe_interrupts = p->allow_unsafe_interrupts;
    return h;
}

// What SET_IOMMU will do with a group of this host (its firmware regions as sysfs lists
// them, when given), under the rule set of the host's kernel.
struct host_verdict {
    std::string platform;       // "Intel VT-d + x86 interrupt remapping under Linux v4.11-v6.2"
    std::optional<errc> error;  // nullopt: the attach goes ahead
    bool unsafe = false;        // it goes ahead without MSI isolation (allow_unsafe_interrupts)
    std::string reason;         // the policy's sentence naming the component responsible
    interval_list usable;       // the container's IOVA ranges once attached
};

namespace detail {
template <class P>
host_verdict verdict_for(const host_facts& h, std::span<const reserved_region> firmware) {
    attach_facts f;
    f.allow_unsafe_interrupts = h.allow_unsafe_interrupts;
    f.devices_have_msi_domain = h.x86 || h.msi != host_msi::no_controller;
    f.firmware_regions = firmware;
    host_verdict v;
    v.platform = std::string(P::iommu::name) + " + " + std::string(P::irq::name) + " under " +
                 std::string(P::rule::facts.name);
    v.reason = std::string(P::reason);
    if (const auto plan = plan_attach<P>(f)) {
        v.unsafe = plan->unsafe_interrupts;
        v.usable = plan->usable;
    } else {
        v.error = plan.error().code;
        v.reason = std::string(plan.error().reason);
    }
    return v;
}
// Call f.template operator()<R>() with the shipped rule set kernel v applied.
template <class F, class... R>
auto with_rule(kernel_version v, F&& f, std::tuple<R...>*) {
    const std::size_t want = rules::detail::rule_for<rules::shipped>::index(v);
    std::size_t i = 0;
    decltype(f.template operator()<std::tuple_element_t<0, std::tuple<R...>>>()) out{};
    ((i++ == want ? (void)(out = f.template operator()<R>()) : (void)0), ...);
    return out;
}
} // namespace detail

// Calls f.template operator()<P>() with the catalog platform P these facts describe (the
// VT-d instance from its registers, the kernel's MSI rule set) and returns its result;
// ENODEV when the host has no IOMMU, or one this check does not know.
template <class F>
auto with_host_platform(const host_facts& h, F&& f)
    -> result<decltype(f.template operator()<x86_vtd_ir<>>())> {
    if (h.iommu == host_iommu::none) return fail(errc::enodev, "no IOMMU: /sys/class/iommu is empty (is it enabled on the kernel command line?)");
    if (h.iommu == host_iommu::other) return fail(errc::enodev, "an IOMMU this check does not know");
    if (h.msi_source == msi_evidence::unknown)
        return fail(errc::eacces, "an ACPI host whose MSI controller this process cannot see: the MADT "
                                  "(/sys/firmware/acpi/tables/APIC) is readable by root only, and no irq chip names one");
    if (!rules::for_kernel(h.kernel.major, h.kernel.minor))
        return fail(errc::einval, "a kernel older than VFIO's MSI rules (v3.15)");
    // The VT-d instance: its address width and snoop control, as the registers say (the
    // catalog's 48 bits with snoop control when sysfs has no registers to read).
    const unsigned gaw = h.vtd_cap ? vtd_address_width(*h.vtd_cap) : 48;
    const bool sc = h.vtd_ecap ? vtd_snoop_control(*h.vtd_ecap) : true;
    if (h.iommu == host_iommu::intel_vtd && gaw != 39 && gaw != 48 && gaw != 57)
        return fail(errc::enodev, "a VT-d address width (CAP.MGAW) other than 39, 48 or 57 bits");
    auto pick = [&]<class Rule>() {
        using pci = platforms::pci_bus;
        auto vtd = [&]<unsigned W, bool SC>() {
            using I = platforms::intel_vtd<W, SC>;
            return h.msi == host_msi::x86_remapped ? f.template operator()<x86_vtd_ir<pci, I, Rule>>()
                                                   : f.template operator()<x86_vtd_no_ir<pci, I, Rule>>();
        };
        switch (h.iommu) {
        case host_iommu::intel_vtd:
            if (gaw == 39) return sc ? vtd.template operator()<39, true>() : vtd.template operator()<39, false>();
            if (gaw == 48) return sc ? vtd.template operator()<48, true>() : vtd.template operator()<48, false>();
            return sc ? vtd.template operator()<57, true>() : vtd.template operator()<57, false>();
        case host_iommu::amd_vi:
            // The 6.1 driver reported page sizes of 2^52 and up too; 6.12 does not (SEMANTICS
            // P2; the release in between that dropped them is not recorded here).
            if (h.kernel < kernel_version{6, 12}) {
                using I = platforms::amd_vi<false, platforms::amd_v1_pgsizes_6_1>;
                return h.msi == host_msi::x86_remapped ? f.template operator()<x86_amdvi_ir<pci, I, Rule>>()
                                                       : f.template operator()<x86_amdvi_no_ir<pci, I, Rule>>();
            }
            return h.msi == host_msi::x86_remapped ? f.template operator()<x86_amdvi_ir<pci, Rule>>()
                                                   : f.template operator()<x86_amdvi_no_ir<pci, Rule>>();
        default:
            return h.msi == host_msi::gicv3_its ? f.template operator()<arm_smmuv3_its<pci, Rule>>()
                   : h.msi == host_msi::gicv2m  ? f.template operator()<arm_smmuv3_gicv2m<pci, Rule>>()
                                                : f.template operator()<arm_smmuv3_gicv3_no_its<pci, Rule>>();
        }
    };
    return detail::with_rule(h.kernel, pick, static_cast<rules::shipped*>(nullptr));
}

// The verdict for this host (a group of it, with its firmware regions as sysfs lists them).
inline result<host_verdict> predict_attach(const host_facts& h, std::span<const reserved_region> firmware = {}) {
    return with_host_platform(h, [&]<class P>() { return detail::verdict_for<P>(h, firmware); });
}

} // namespace passthru::linux_vfio
