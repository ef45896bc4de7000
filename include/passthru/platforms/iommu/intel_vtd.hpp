#pragma once
// Intel VT-d (SEMANTICS §I, A.3, H.2).
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>
#include <passthru/platforms/iommu/x86_msi_window.hpp>

namespace passthru::platforms {

// `Gaw` is the guest address width the hardware supports (48 typical, 57 with 5-level
// tables, 39 on some clients). `SnoopControl` is ECAP.SC: whether the IOMMU can force
// snooping, i.e. enforce_cache_coherency (A.3). Superpage support follows CAP.SLLPS;
// the default is 2M and 1G (v5.15+ reports real sizes, SEMANTICS §I).
template <unsigned Gaw = 48, bool SnoopControl = true,
          std::uint64_t Pgsizes = 4 * KiB | 2 * MiB | 1 * GiB>
struct intel_vtd {
    static constexpr std::string_view name = "Intel VT-d";
    static constexpr isa arch = isa::x86;
    static constexpr pgsize_bitmap pgsizes{Pgsizes};                 // SEMANTICS §I
    static constexpr interval aperture{0, (std::uint64_t{1} << Gaw) - 1}; // SEMANTICS §I
    // SEMANTICS §I: always the IOAPIC/MSI range as type MSI, prot 0. RMRRs are firmware
    // facts of an instance (see policy/attach.hpp).
    static constexpr std::array reserved_regions{
        reserved_region{x86_msi_window, resv_type::msi, prot::none}};
    static constexpr iommu_caps caps{
        .cache_coherency = true,                                   // §I
        .enforce_cache_coherency = SnoopControl,                   // A.3: ecap_sc_support
        .noexec = false,
        .dirty_tracking = true,                                    // SS A/D (PGTABLE §8)
        .intr_remap = intr_remap_cap::when_remapping_enabled,      // H.3
        .msi_table = false,
    };
    static constexpr unsigned gaw = Gaw;
};

} // namespace passthru::platforms
