#pragma once
// A group as the container sees it at attach (SEMANTICS §A, G.3): what kind of group it
// is, which IOMMU unit its devices sit behind, and the facts of its devices that no type
// can know (firmware reserved regions, MSI irq domains, an exclusive MSI bank).
#include <cstdint>
#include <vector>

#include <passthru/core/reserved_region.hpp>

namespace passthru::type1 {

struct group {
    std::uint32_t id = 0;
    // VFIO_EMULATED_IOMMU (an mdev): no domain, no aperture, no reserved regions and no
    // MSI check; its pages are pinned by the emulating driver (SEMANTICS A4, A.5).
    bool emulated = false;
    // The IOMMU unit the group's devices sit behind. A domain of one unit cannot take a
    // device of another (the driver's attach fails), so A15 reuse only happens within one.
    std::uint32_t iommu_unit = 0;
    // RMRRs, IVMD unity maps, IORT RMRs and ITS HW-MSI regions of the group's devices; the
    // IOMMU's own regions come from the domain (iommu_get_group_resv_regions, G.3).
    std::vector<reserved_region> firmware_regions{};
    // Exclusive-bank interrupt controllers: no other domain reaches this group's MSI bank.
    bool msi_bank_exclusive = false;
    // Every device has an MSI irq domain (v6.3+ falls back to arch_is_isolated_msi, H.1).
    bool devices_have_msi_domain = true;

    constexpr bool operator==(const group&) const = default;
};

} // namespace passthru::type1
