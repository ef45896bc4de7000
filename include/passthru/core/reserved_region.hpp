#pragma once
// IOMMU reserved regions (SEMANTICS §1.3, §G.2, §G.3): IOVA ranges a domain must not
// hand out, with the kernel's five kinds, and the list-merge rule of
// iommu_insert_resv_region.
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include <passthru/core/interval.hpp>
#include <passthru/core/prot.hpp>

namespace passthru {

// Enum order is the kernel's (enum iommu_resv_type); sorting uses it.
enum class resv_type : std::uint8_t {
    direct = 0,           // identity-mapped for firmware (RMRR, IVMD unity, IORT RMR)
    direct_relaxable = 1, // direct, but may be dropped when a device is assigned (USB/GFX RMRR)
    reserved = 2,         // never mapped (HyperTransport, AMD exclusion ranges)
    msi = 3,              // hardware MSI window, bypasses translation (x86 0xFEE00000)
    sw_msi = 4,           // software-managed MSI window: doorbells mapped here on demand (ARM)
};

constexpr std::string_view to_string(resv_type t) noexcept {
    switch (t) {
    case resv_type::direct: return "direct";
    case resv_type::direct_relaxable: return "direct-relaxable";
    case resv_type::reserved: return "reserved";
    case resv_type::msi: return "msi";
    case resv_type::sw_msi: return "sw-msi";
    }
    return "?";
}

// The type as /sys/kernel/iommu_groups/*/reserved_regions prints it (SEMANTICS G.3).
// Booted 6.1 and 6.12 kernels print SW_MSI as "msi", like a hardware window
// (tests/kernel/observed.md), so sysfs cannot tell the two apart.
constexpr std::string_view sysfs_name(resv_type t) noexcept {
    return t == resv_type::sw_msi ? "msi" : to_string(t);
}

struct reserved_region {
    interval range;
    resv_type type = resv_type::reserved;
    prot perm = prot::none;

    // Every kind but DIRECT_RELAXABLE removes its range from the usable IOVA space
    // (SEMANTICS A10, A.1 step 3).
    constexpr bool excludes_iova() const noexcept { return type != resv_type::direct_relaxable; }
    constexpr bool operator==(const reserved_region&) const = default;
};

using reserved_region_list = std::vector<reserved_region>;

// Insert `r` into a list kept sorted by (start, type), merging it with regions of the
// same type that overlap or touch it (SEMANTICS G.2). Regions of different types are
// never merged, even when identical. The merged region keeps the prot of the first
// region of the run; like iommu_insert_resv_region, a new region goes before one with
// the same start and type, so on such a tie its prot is the one kept.
constexpr void insert_resv_region(reserved_region_list& list, reserved_region r) {
    auto less = [](const reserved_region& a, const reserved_region& b) {
        return a.range.first != b.range.first ? a.range.first < b.range.first : a.type < b.type;
    };
    list.insert(std::lower_bound(list.begin(), list.end(), r, less), r);

    // Re-merge runs of one type. Lists are short (a handful of regions per group).
    reserved_region_list out;
    for (const reserved_region& cur : list) {
        bool merged = false;
        for (reserved_region& o : out) {
            if (o.type != cur.type) continue;
            const bool touches = o.range.last == ~std::uint64_t{0} ||
                                 cur.range.first <= o.range.last + 1;
            if (touches) { // list order guarantees o.first <= cur.first
                o.range.first = std::min(o.range.first, cur.range.first);
                o.range.last = std::max(o.range.last, cur.range.last);
                merged = true;
                break;
            }
        }
        if (!merged) out.push_back(cur);
    }
    std::sort(out.begin(), out.end(), less);
    list = std::move(out);
}

// Every region of `lists`, in order, inserted into one list: the union
// iommu_get_group_resv_regions builds from its devices' regions (SEMANTICS G.3).
template <class... Lists>
constexpr reserved_region_list merge_resv_regions(const Lists&... lists) {
    reserved_region_list out;
    [[maybe_unused]] auto insert_all = [&out](const auto& list) {
        for (const reserved_region& r : list) insert_resv_region(out, r);
    };
    (insert_all(lists), ...);
    return out;
}

// The IOVA intervals a region list removes from the usable space (relaxable ones skipped).
constexpr std::vector<interval> excluded_iova(const reserved_region_list& list) {
    std::vector<interval> out;
    for (const reserved_region& r : list)
        if (r.excludes_iova()) out.push_back(r.range);
    return out;
}

} // namespace passthru
