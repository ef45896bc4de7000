#pragma once
// s390 adapter interrupts for zPCI (SEMANTICS H.2): no irq domains before v6.3;
// arch_is_isolated_msi() is true. Note: this isolates between GISAs (guests), which is
// weaker than x86 IR or an ITS (H.2).
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>

namespace passthru::platforms {

struct s390_zpci_irq {
    static constexpr std::string_view name = "s390 zPCI adapter interrupts";
    static constexpr isa arch = isa::s390;
    static constexpr irq_caps caps{
        .isolation = msi_isolation::arch_isolated, // H.1, H.2
        .generic_msi_domains = false, // H.2: no irq domains
    };
};

} // namespace passthru::platforms
