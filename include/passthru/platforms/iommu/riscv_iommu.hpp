#pragma once
// RISC-V IOMMU (spec v1.0) with Sv48 first-stage tables. Known: the specification
// defines an MSI page table that redirects writes aimed at a guest's IMSIC interrupt
// files, so MSIs are isolated per device context. Assumed (docs/platforms.md): that
// Linux marks that path as isolating, Sv48 geometry, 4K/2M/1G leaves.
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>

namespace passthru::platforms {

template <bool MsiTable = true>
struct riscv_iommu {
    static constexpr std::string_view name = "RISC-V IOMMU";
    static constexpr isa arch = isa::riscv;
    static constexpr pgsize_bitmap pgsizes{4 * KiB | 2 * MiB | 1 * GiB}; // Sv48
    static constexpr interval aperture{0, (std::uint64_t{1} << 47) - 1};       // Sv48 lower half
    static constexpr std::array<reserved_region, 0> reserved_regions{};
    static constexpr iommu_caps caps{
        .cache_coherency = true,
        .enforce_cache_coherency = false,
        .noexec = true,
        .dirty_tracking = true, // Sv48 A/D bits
        .intr_remap = intr_remap_cap::never,
        .msi_table = MsiTable, // capabilities.MSI_FLAT
    };
};

} // namespace passthru::platforms
