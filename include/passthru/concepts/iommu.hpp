#pragma once
// Concept `Iommu`: the compile-time facts of an IOMMU implementation that decide how a
// device behind it may be assigned. These are type-level facts (static constexpr
// members) so that `platform<...>` can fold them in constant evaluation. What only an
// instance knows (firmware RMRRs, the granule a driver picked at probe) is supplied at
// run time; see policy/attach.hpp.
#include <concepts>
#include <cstdint>
#include <string_view>

#include <range/v3/range/concepts.hpp>
#include <range/v3/range/traits.hpp>

#include <passthru/concepts/isa.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru {

// What `iommu_capable(dev, IOMMU_CAP_INTR_REMAP)` answered before v6.3 removed the
// capability (SEMANTICS H.3). Intel and AMD reported it iff their interrupt remapping
// was enabled; s390 always; ARM SMMUs and PAMU never.
enum class intr_remap_cap : std::uint8_t { never, when_remapping_enabled, always };

// The capability answers of the IOMMU driver (SEMANTICS §I `capable()` summary, A.3).
struct iommu_caps {
    // IOMMU_CAP_CACHE_COHERENCY: DMA through this IOMMU snoops CPU caches. VFIO refuses
    // to register a device whose IOMMU lacks it (SEMANTICS A.3).
    bool cache_coherency = false;
    // enforce_cache_coherency: the IOMMU can block no-snoop transactions; decides
    // domain compatibility (A15) and VFIO_DMA_CC_IOMMU.
    bool enforce_cache_coherency = false;
    // IOMMU_CAP_NOEXEC: mappings can be made non-executable.
    bool noexec = false;
    // The page-table format records device writes (dirty tracking).
    bool dirty_tracking = false;
    intr_remap_cap intr_remap = intr_remap_cap::never;
    // The IOMMU translates MSI writes through an MSI table of its own (the RISC-V
    // IOMMU's MSI_FLAT page table), redirecting them to the interrupt files it maps.
    bool msi_table = false;
    // That table also validates the interrupt a device may raise (its MSI data), which is
    // what Linux requires to call MSIs isolated. RISC-V IOMMU v1.0 translates addresses
    // only (riscv-non-isa/riscv-iommu#646), so it does not isolate.
    bool msi_table_validates_data = false;
};

// An `Iommu` type declares:
//   name              display name                                          (static)
//   arch              isa it belongs to                                     (static)
//   pgsizes           leaf sizes a domain supports, a pgsize_bitmap (§I)    (static)
//   aperture          IOVA window a domain translates, inclusive            (static)
//   reserved_regions  IOVA regions every device behind it reserves, as a
//                     range of reserved_region (SW_MSI, MSI windows, HT...)  (static)
//   caps              iommu_caps                                            (static)
template <class T>
concept Iommu = requires {
    { T::name } -> std::convertible_to<std::string_view>;
    { T::arch } -> std::convertible_to<isa>;
    { T::pgsizes } -> std::convertible_to<pgsize_bitmap>;
    { T::aperture } -> std::convertible_to<interval>;
    { T::caps } -> std::convertible_to<iommu_caps>;
    requires ranges::range<decltype(T::reserved_regions)>;
    requires std::convertible_to<ranges::range_value_t<decltype(T::reserved_regions)>,
                                 reserved_region>;
};

} // namespace passthru
