#pragma once
// Freescale MPIC MSI banks (SEMANTICS H.2, H.6). Each bank is a doorbell register; a
// device that can write a bank can raise every interrupt of that bank. A bank given to
// one domain only cannot be used against others: isolation is per domain, at run time.
// The kernel never set an isolation flag for fsl_msi (H.2), and the banks are legacy
// PowerPC MSI, not generic MSI irq domains ([inferred], docs/platforms.md).
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>

namespace passthru::platforms {

struct fsl_msi {
    static constexpr std::string_view name = "Freescale MSI bank";
    static constexpr isa arch = isa::powerpc;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::exclusive_bank, // H.6
        .msi_through_iommu = true, // the bank page is mapped through PAMU
        .generic_msi_domains = false, // [inferred]
    };
};

} // namespace passthru::platforms
