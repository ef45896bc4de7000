#pragma once
// RISC-V IOMMU with Sv48 first-stage tables. Known: spec v1.0 defines an MSI page table
// (capabilities.MSI_FLAT) that redirects a device's writes to IMSIC interrupt files;
// it translates addresses only and cannot validate which interrupt a device raises, so
// Linux does not call those MSIs isolated (riscv-non-isa/riscv-iommu#646, 2025).
// `ValidatesMsiData` models the data remapping that issue proposes for a later spec.
// Assumed (docs/platforms.md): Sv48 geometry, 4K/2M/1G leaves.
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>

namespace passthru::platforms {

template <bool MsiTable = true, bool ValidatesMsiData = false>
struct riscv_iommu {
    static constexpr std::string_view name = "RISC-V IOMMU";
    static constexpr isa arch = isa::riscv;
    static constexpr pgsize_bitmap pgsizes{4 * KiB | 2 * MiB | 1 * GiB}; // Sv48
    static constexpr interval aperture{0, (std::uint64_t{1} << 47) - 1};   // Sv48 lower half
    static constexpr std::array<reserved_region, 0> reserved_regions{};
    static constexpr iommu_caps caps{
        .cache_coherency = true,
        .enforce_cache_coherency = false,
        .noexec = true,
        .dirty_tracking = true, // Sv48 A/D bits
        .intr_remap = intr_remap_cap::never,
        .msi_table = MsiTable, // capabilities.MSI_FLAT
        .msi_table_validates_data = MsiTable && ValidatesMsiData,
    };
};

} // namespace passthru::platforms
