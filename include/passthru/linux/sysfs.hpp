#pragma once
// What sysfs says about IOMMU groups and vfio_iommu_type1, read as the kernel prints it:
//   /sys/kernel/iommu_groups/<id>/reserved_regions   "0x%016llx 0x%016llx <type>\n" per
//        region (drivers/iommu/iommu.c), type one of direct, direct-relaxable, reserved,
//        msi; both the hardware MSI window and the software-managed one print as "msi"
//   /sys/kernel/iommu_groups/<id>/type               the default domain's type: DMA,
//        DMA-FQ, identity, blocked, unmanaged (or "auto" being written)
//   /sys/kernel/iommu_groups/<id>/devices/           one entry per device
//   /sys/module/vfio_iommu_type1/parameters/*        Y/N or a number
// The parsers take the text; the readers take a `Filesystem`, the seam a test stands
// behind:
//   fs.read(path) -> std::optional<std::string>                the whole file
//   fs.list(dir)  -> std::optional<std::vector<std::string>>   entry names, sorted
#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru::linux_vfio {

template <class F>
concept Filesystem = requires(F& fs, const std::string& path) {
    { fs.read(path) } -> std::same_as<std::optional<std::string>>;
    { fs.list(path) } -> std::same_as<std::optional<std::vector<std::string>>>;
};

struct real_filesystem {
    std::optional<std::string> read(const std::string& path) const {
        std::ifstream in(path, std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream s;
        s << in.rdbuf();
        return std::move(s).str();
    }
    std::optional<std::vector<std::string>> list(const std::string& dir) const {
        std::error_code ec;
        std::filesystem::directory_iterator it(dir, ec);
        if (ec) return std::nullopt;
        std::vector<std::string> names;
        for (const auto& e : it) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};
static_assert(Filesystem<real_filesystem>);

namespace detail {
inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}
inline std::optional<std::uint64_t> number(std::string_view s, int base) noexcept {
    if (base == 16) {
        if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return std::nullopt;
        s.remove_prefix(2);
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}
} // namespace detail

// reserved_regions. `msi_as` says which MSI kind the platform's "msi" lines are: msi on
// x86 (the interrupt window), sw_msi behind an ARM SMMU (the cookie window).
inline result<std::vector<reserved_region>> parse_reserved_regions(std::string_view text, resv_type msi_as) {
    std::vector<reserved_region> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = detail::trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty()) continue;
        const auto a = line.find(' ');
        const auto b = a == std::string_view::npos ? a : line.find(' ', a + 1);
        if (b == std::string_view::npos)
            return fail(errc::einval, "reserved_regions: a line is not \"start end type\"");
        const auto first = detail::number(line.substr(0, a), 16), last = detail::number(line.substr(a + 1, b - a - 1), 16);
        if (!first || !last || *first > *last)
            return fail(errc::einval, "reserved_regions: a region's start or end is not a hex address, or end < start");
        const std::string_view kind = line.substr(b + 1);
        resv_type t;
        if (kind == "direct") t = resv_type::direct;
        else if (kind == "direct-relaxable") t = resv_type::direct_relaxable;
        else if (kind == "reserved") t = resv_type::reserved;
        else if (kind == "msi") t = msi_as;
        else return fail(errc::einval, "reserved_regions: an unknown region type");
        out.push_back({{*first, *last}, t});
    }
    return out;
}

// The default domain a group's devices use.
enum class group_domain : std::uint8_t { dma, dma_fq, identity, blocked, unmanaged };
inline result<group_domain> parse_group_type(std::string_view text) {
    const std::string_view t = detail::trim(text);
    if (t == "DMA") return group_domain::dma;
    if (t == "DMA-FQ") return group_domain::dma_fq;
    if (t == "identity") return group_domain::identity;
    if (t == "blocked") return group_domain::blocked;
    if (t == "unmanaged") return group_domain::unmanaged;
    return fail(errc::einval, "iommu_groups/<id>/type: an unknown domain type");
}

// A bool module parameter ("Y"/"N"; writes also accept 1/0).
inline result<bool> parse_bool_param(std::string_view text) {
    const std::string_view t = detail::trim(text);
    if (t == "Y" || t == "y" || t == "1") return true;
    if (t == "N" || t == "n" || t == "0") return false;
    return fail(errc::einval, "a bool module parameter is not Y or N");
}
inline result<std::uint64_t> parse_uint_param(std::string_view text) {
    if (const auto v = detail::number(detail::trim(text), 10)) return *v;
    return fail(errc::einval, "an unsigned module parameter is not a decimal number");
}

// vfio_iommu_type1's parameters (SEMANTICS §1.2), as the container reads them.
struct type1_params {
    bool allow_unsafe_interrupts = false;
    std::uint64_t dma_entry_limit = 65535;
    bool disable_hugepages = false;
    constexpr bool operator==(const type1_params&) const = default;
};
template <Filesystem Fs>
result<type1_params> read_type1_params(Fs& fs, const std::string& root = "/sys/module/vfio_iommu_type1/parameters") {
    const auto unsafe = fs.read(root + "/allow_unsafe_interrupts");
    const auto limit = fs.read(root + "/dma_entry_limit");
    const auto huge = fs.read(root + "/disable_hugepages");
    if (!unsafe || !limit || !huge) return fail(errc::enoent, "vfio_iommu_type1 is not loaded (no module parameters)");
    type1_params p;
    if (auto v = parse_bool_param(*unsafe); v) p.allow_unsafe_interrupts = *v;
    else return tl::unexpected(v.error());
    if (auto v = parse_uint_param(*limit); v) p.dma_entry_limit = *v;
    else return tl::unexpected(v.error());
    if (auto v = parse_bool_param(*huge); v) p.disable_hugepages = *v;
    else return tl::unexpected(v.error());
    return p;
}

// A device's driver, from the DRIVER= line of its uevent ("" when none is bound).
inline std::string parse_uevent_driver(std::string_view uevent) {
    for (std::size_t at = 0; at < uevent.size();) {
        const std::size_t nl = std::min(uevent.find('\n', at), uevent.size());
        const std::string_view line = uevent.substr(at, nl - at);
        if (line.rfind("DRIVER=", 0) == 0) return std::string(detail::trim(line.substr(7)));
        at = nl + 1;
    }
    return {};
}

// Whether a driver leaves the group usable by VFIO: the kernel lets a group into a
// container only when none of its devices is bound to a driver doing DMA of its own, that
// is every device is unbound or bound to a driver that declares driver_managed_dma: the
// VFIO drivers (vfio-pci, vfio-platform, the vendor *_vfio_pci variants), pci-stub, and
// pcieport for bridges in the group.
inline bool driver_allows_vfio(std::string_view driver) noexcept {
    return driver.empty() || driver.find("vfio") != std::string_view::npos || driver == "pci-stub" ||
           driver == "pcieport";
}

// One IOMMU group as sysfs shows it.
struct group_facts {
    unsigned id = 0;
    group_domain domain = group_domain::dma;
    std::vector<reserved_region> regions;
    std::vector<std::string> devices; // e.g. "0000:00:02.0"
    std::vector<std::string> drivers; // each device's driver, "" for none (same order)

    // GROUP_GET_STATUS's VIABLE: no device is bound to a driver that keeps it from VFIO.
    bool viable() const noexcept {
        return std::all_of(drivers.begin(), drivers.end(), [](const std::string& d) { return driver_allows_vfio(d); });
    }
};
template <Filesystem Fs>
result<group_facts> read_group(Fs& fs, unsigned id, resv_type msi_as, const std::string& root = "/sys/kernel/iommu_groups") {
    const std::string dir = root + "/" + std::to_string(id);
    const auto type = fs.read(dir + "/type");
    const auto regions = fs.read(dir + "/reserved_regions");
    auto devices = fs.list(dir + "/devices");
    if (!type || !regions || !devices) return fail(errc::enoent, "no such IOMMU group in sysfs");
    group_facts g{id, {}, {}, std::move(*devices), {}};
    for (const std::string& d : g.devices) {
        const auto uevent = fs.read(dir + "/devices/" + d + "/uevent");
        g.drivers.push_back(uevent ? parse_uevent_driver(*uevent) : std::string{});
    }
    if (auto t = parse_group_type(*type); t) g.domain = *t;
    else return tl::unexpected(t.error());
    if (auto r = parse_reserved_regions(*regions, msi_as); r) g.regions = std::move(*r);
    else return tl::unexpected(r.error());
    return g;
}

// Every IOMMU group's id, in numeric order; empty when the kernel has no IOMMU.
template <Filesystem Fs>
std::vector<unsigned> list_groups(Fs& fs, const std::string& root = "/sys/kernel/iommu_groups") {
    std::vector<unsigned> ids;
    if (const auto names = fs.list(root))
        for (const std::string& n : *names)
            if (const auto v = detail::number(n, 10)) ids.push_back(static_cast<unsigned>(*v));
    std::sort(ids.begin(), ids.end());
    return ids;
}

// The IOMMU group a device ("0000:01:00.0", or a platform device's name) is in: ENOENT
// when no group lists it (no IOMMU translates it, or no such device).
template <Filesystem Fs>
result<unsigned> group_of_device(Fs& fs, std::string_view device, const std::string& root = "/sys/kernel/iommu_groups") {
    for (unsigned id : list_groups(fs, root))
        if (const auto devs = fs.list(root + "/" + std::to_string(id) + "/devices"))
            if (std::find(devs->begin(), devs->end(), device) != devs->end()) return id;
    return fail(errc::enoent, "no IOMMU group lists this device (no IOMMU translates it, or no such device)");
}

} // namespace passthru::linux_vfio
