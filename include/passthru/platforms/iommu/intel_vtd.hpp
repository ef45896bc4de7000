#pragma once
// Intel VT-d (SEMANTICS §I, A.3, H.2).
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>
#include <passthru/pgtable/vtd_ss.hpp>
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

    // Domains use second-stage tables with one level per 9 bits above 30 (PGTABLE
    // §3.1), the superpages the bitmap allows, and SNP on every leaf when the unit can
    // force snooping: type1 always asks for enforced coherency (SEMANTICS A14).
    static_assert(Gaw == 39 || Gaw == 48 || Gaw == 57,
                  "intel_vtd: Gaw must be 39, 48 or 57 (3, 4 or 5 table levels)");
    static constexpr pgtable::vtd_ss_config table_config{
        .levels = (Gaw - 30) / 9 + 2,
        .superpage_levels = (Pgsizes & GiB) ? 2u : (Pgsizes & 2 * MiB) ? 1u : 0u,
        .force_snoop = SnoopControl};
    using table_format = pgtable::vtd_ss<table_config>;
    // SSADS: the unit sets D (bit 9) on written leaves once the PASID entry asks (§8).
    using dirty_table_format = pgtable::vtd_ss<pgtable::vtd_ss_config{
        .levels = table_config.levels, .superpage_levels = table_config.superpage_levels,
        .force_snoop = SnoopControl, .dirty_tracking = true}>;
};

// Firmware reserved regions of a VT-d instance (SEMANTICS §I, intel_iommu_get_resv_regions),
// passed to plan_attach in attach_facts::firmware_regions.

// The class of the device an ACPI RMRR's scope names. USB and graphics RMRRs are
// relaxable (device_rmrr_is_relaxable): the firmware stops using them once the device
// is assigned, so they do not remove IOVA space.
enum class rmrr_device : std::uint8_t { usb, graphics, other };

// An ACPI RMRR covering [first, last] for a device of class `dev`: identity-mapped R/W.
constexpr reserved_region intel_rmrr(interval range, rmrr_device dev) noexcept {
    return {range, dev == rmrr_device::other ? resv_type::direct : resv_type::direct_relaxable,
            prot::read | prot::write};
}

// A device behind an ISA bridge gets [0, 16 MiB) relaxable (the floppy DMA workaround).
inline constexpr reserved_region intel_isa_bridge_region{
    {0, 16 * MiB - 1}, resv_type::direct_relaxable, prot::read | prot::write};

} // namespace passthru::platforms
