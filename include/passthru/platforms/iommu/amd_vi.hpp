#pragma once
// AMD-Vi with the v1 (host) page table (SEMANTICS §I, §1.3, A.3).
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>
#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/platforms/iommu/x86_msi_window.hpp>

namespace passthru::platforms {

// SEMANTICS §1.3: HT_RANGE_START/END, reserved for HyperTransport.
inline constexpr interval amd_ht_range{0xFD'0000'0000, 0xFF'FFFF'FFFF};

// v1 page table: every power of two from 4K to 2^51, except 512 GiB (SEMANTICS §I;
// GENMASK(51,12) ^ SZ_512G, as a booted 6.12 kernel reports it: 0x000FFF7FFFFFF000 in
// tests/kernel/observed.md). Kernels up to 6.1 also claimed 2^52..2^63.
inline constexpr std::uint64_t amd_v1_pgsizes = low_mask(51) & ~low_mask(11) & ~(std::uint64_t{1} << 39);
// What the 6.1 driver reported (SEMANTICS P2): 0xFFFFFF7FFFFFF000, sizes of 2^52 and up too.
inline constexpr std::uint64_t amd_v1_pgsizes_6_1 = ~low_mask(11) & ~(std::uint64_t{1} << 39);

// `HtRangeIgnored`: newer kernels skip the HT reservation when firmware says the range
// can be ignored (amd_iommu_ht_range_ignore, SEMANTICS §I). `Pgsizes`: the page sizes the
// driver reports (amd_v1_pgsizes_6_1 for a 6.1 kernel's instance).
template <bool HtRangeIgnored = false, std::uint64_t Pgsizes = amd_v1_pgsizes>
struct amd_vi {
    static constexpr std::string_view name = "AMD-Vi";
    static constexpr isa arch = isa::x86;
    static constexpr pgsize_bitmap pgsizes{Pgsizes}; // SEMANTICS §I, P2
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
    // The v1 host table with all six levels, so the whole 64-bit aperture translates.
    // (Linux starts at three levels and adds more as mappings need them, PGTABLE §4.)
    using table_format = pgtable::amd_v1<pgtable::amd_v1_config{.mode = 6}>;
    // Host dirty tracking (HDSup): the unit sets D (bit 6) once the DTE's HAD asks (§4.3).
    using dirty_table_format =
        pgtable::amd_v1<pgtable::amd_v1_config{.mode = 6, .dirty_tracking = true}>;
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
