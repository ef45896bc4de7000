#pragma once
// AMD-Vi with the v1 (host) page table (SEMANTICS §I, §1.3, A.3).
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>
#include <passthru/platforms/iommu/x86_msi_window.hpp>

namespace passthru::platforms {

// SEMANTICS §1.3: HT_RANGE_START/END, reserved for HyperTransport.
inline constexpr interval amd_ht_range{0xFD'0000'0000, 0xFF'FFFF'FFFF};

// v1 page table: every power of two from 4K up, except 512 GiB (SEMANTICS §I).
inline constexpr std::uint64_t amd_v1_pgsizes = ~std::uint64_t{0xFFF} & ~(std::uint64_t{1} << 39);

// `HtRangeIgnored`: newer kernels skip the HT reservation when firmware says the range
// can be ignored (amd_iommu_ht_range_ignore, SEMANTICS §I).
template <bool HtRangeIgnored = false>
struct amd_vi {
    static constexpr std::string_view name = "AMD-Vi";
    static constexpr isa arch = isa::x86;
    static constexpr pgsize_bitmap pgsizes{amd_v1_pgsizes}; // SEMANTICS §I
    static constexpr interval aperture = whole_space;              // SEMANTICS §I: v1 [0, 2^64-1]
    static constexpr auto reserved_regions = [] {
        if constexpr (HtRangeIgnored)
            return std::array{reserved_region{x86_msi_window, resv_type::msi, prot::none}};
        else
            return std::array{reserved_region{x86_msi_window, resv_type::msi, prot::none},
                              reserved_region{amd_ht_range, resv_type::reserved, prot::none}};
    }();
    static constexpr iommu_caps caps{
        .cache_coherency = true,                              // §I
        .enforce_cache_coherency = true,                      // A.3: AMD always true
        .noexec = false,                                      // §I
        .dirty_tracking = true,                               // HDSup (PGTABLE §4.3)
        .intr_remap = intr_remap_cap::when_remapping_enabled, // H.3
        .msi_table = false,
    };
};

// Firmware reserved regions from the ACPI IVRS table (SEMANTICS §I,
// amd_iommu_get_resv_regions), for attach_facts::firmware_regions.

// An IVMD unity-map block: identity-mapped with the IVMD's read/write permissions.
constexpr reserved_region amd_ivmd_unity(interval range, prot perm) noexcept {
    return {range, resv_type::direct, perm};
}

// An IVMD exclusion range: the IOMMU does not translate it, so it can never be mapped.
constexpr reserved_region amd_ivmd_exclusion(interval range) noexcept {
    return {range, resv_type::reserved, prot::none};
}

} // namespace passthru::platforms
