#pragma once
// s390 PCI IOMMU (SEMANTICS H.2, §I). The DMA window comes from the zPCI function
// (start_dma/end_dma); the catalog assumes the whole 64-bit space and
// 4 KiB pages (docs/platforms.md says what is assumed).
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>

namespace passthru::platforms {

struct s390_iommu {
    static constexpr std::string_view name = "s390 zPCI IOMMU";
    static constexpr isa arch = isa::s390;
    static constexpr pgsize_bitmap pgsizes{4 * KiB};                 // assumed
    static constexpr interval aperture = whole_space; // assumed: the zPCI DMA window is per function
    static constexpr std::array<reserved_region, 0> reserved_regions{};
    static constexpr iommu_caps caps{
        .cache_coherency = true, // §I
        .enforce_cache_coherency = false,
        .noexec = false,
        .dirty_tracking = false,
        .intr_remap = intr_remap_cap::always, // H.3: reported INTR_REMAP until v6.3
        .msi_table = false,
    };
};

} // namespace passthru::platforms
