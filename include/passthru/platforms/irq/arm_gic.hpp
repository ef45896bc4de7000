#pragma once
// ARM GIC MSI controllers (SEMANTICS H.2, H.3). All of them receive MSIs as writes that
// go through the SMMU, so their doorbells are mapped into the SW_MSI window.
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>

namespace passthru::platforms {

// GICv3 ITS: the ITS translates (DeviceID, EventID), and the DeviceID is derived by
// hardware from the requester, so a device cannot raise another's interrupt.
// H.2: IRQ_DOMAIN_FLAG_ISOLATED_MSI on every ITS node (MSI_REMAP since v4.11).
struct gicv3_its {
    static constexpr std::string_view name = "GICv3 ITS";
    static constexpr isa arch = isa::arm;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::device_id_translated, // H.2
        .msi_through_iommu = true,
        .msi_remap_flag_pre_6_3 = true, // H.3: MSI_REMAP since v4.11
    };
};

// The Socionext SynQuacer "pre-ITS": DeviceIDs are not trustworthy, and the quirk clears
// the isolation flag (H.2 its_enable_quirk_socionext_synquacer).
struct gicv3_its_synquacer {
    static constexpr std::string_view name = "GICv3 ITS (SynQuacer pre-ITS)";
    static constexpr isa arch = isa::arm;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::none, // H.2
        .msi_through_iommu = true,
        .msi_remap_flag_pre_6_3 = false, // the quirk cleared MSI_REMAP too
    };
};

// GICv3 with no ITS: no MSI controller at all, so no MSI domain exists (H.3: the pre-v6.3
// global check was vacuously true; v6.3+ falls back to arch_is_isolated_msi(), false).
struct gicv3_no_its {
    static constexpr std::string_view name = "GICv3 (no ITS)";
    static constexpr isa arch = isa::arm;
    static constexpr irq_caps caps{
        .generic_msi_domains = false,
    };
};

// GICv2m: a frame of SPIs raised by writes to one doorbell; nothing identifies the
// writer (H.2: only the MSI_PARENT flag).
struct gicv2m {
    static constexpr std::string_view name = "GICv2m";
    static constexpr isa arch = isa::arm;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::none, // H.2
        .msi_through_iommu = true,
    };
};

// GICv3 MBI (message-based SPIs): like GICv2m, no source identification
// (H.2, [inferred]: no flag set in irq-gic-v3-mbi.c).
struct gicv3_mbi {
    static constexpr std::string_view name = "GICv3 MBI";
    static constexpr isa arch = isa::arm;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::none, // H.2
        .msi_through_iommu = true,
    };
};

} // namespace passthru::platforms
