#pragma once
// RISC-V IMSIC: per-hart interrupt files written by MSIs. An IMSIC alone identifies no
// writer; isolation comes from an IOMMU whose MSI page table redirects a device's MSIs
// to the interrupt files of its own guest (docs/platforms.md: known vs assumed).
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>

namespace passthru::platforms {

struct riscv_imsic {
    static constexpr std::string_view name = "RISC-V IMSIC";
    static constexpr isa arch = isa::riscv;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::iommu_msi_table,
        .msi_through_iommu = true,
        .msi_remap_flag_pre_6_3 = false, // the IOMMU driver postdates v6.3
    };
};

} // namespace passthru::platforms
