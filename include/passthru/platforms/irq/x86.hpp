#pragma once
// x86 MSI delivery (SEMANTICS H.2, H.3). MSIs are writes to [0xFEE00000, 0xFEEFFFFF],
// a window that bypasses DMA translation; the IOMMU reports it as an MSI region.
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/platforms/iommu/x86_msi_window.hpp>

namespace passthru::platforms {

// Interrupt remapping by the IOMMU: the IRTE is selected and checked by requester ID.
// H.2: the IR irq domains carry ISOLATED_MSI since v6.3; before that the IOMMU reported
// IOMMU_CAP_INTR_REMAP instead, and the domains had no MSI_REMAP flag.
struct x86_intel_ir {
    static constexpr std::string_view name = "Intel interrupt remapping";
    static constexpr isa arch = isa::x86;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::remapped, // H.2
        .msi_window = x86_msi_window,
        .msi_remap_flag_pre_6_3 = false, // H.3
    };
};

struct x86_amd_ir {
    static constexpr std::string_view name = "AMD-Vi interrupt remapping";
    static constexpr isa arch = isa::x86;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::remapped, // H.2
        .msi_window = x86_msi_window,
        .msi_remap_flag_pre_6_3 = false, // H.3
    };
};

// Local APIC MSI without remapping: the address/data format names the target vector,
// and any device can write any of them (H.2).
struct x86_apic_no_ir {
    static constexpr std::string_view name = "x86 APIC (no interrupt remapping)";
    static constexpr isa arch = isa::x86;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::none, // H.2
        .msi_window = x86_msi_window,
    };
};

} // namespace passthru::platforms
