#pragma once
// Freescale PAMU (SEMANTICS H.6, §I). PAMU is window based: a domain's geometry is set
// by its user. The page size and aperture below are assumptions (docs/platforms.md):
// 4 KiB sub-windows over a 36-bit (e500mc) physical space.
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>

namespace passthru::platforms {

struct fsl_pamu {
    static constexpr std::string_view name = "Freescale PAMU";
    static constexpr isa arch = isa::powerpc;
    static constexpr pgsize_bitmap pgsizes{4 * KiB};                 // assumed
    static constexpr interval aperture{0, (std::uint64_t{1} << 36) - 1}; // assumed
    static constexpr std::array<reserved_region, 0> reserved_regions{};  // none reported
    static constexpr iommu_caps caps{
        .cache_coherency = true, // H.6 / §I: capable() only reports CACHE_COHERENCY
        .enforce_cache_coherency = false,
        .noexec = false,
        .dirty_tracking = false,
        .intr_remap = intr_remap_cap::never, // H.6: never claimed INTR_REMAP
        .msi_table = false,
    };
};

} // namespace passthru::platforms
