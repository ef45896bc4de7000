// A type that misses a member of InterruptController is rejected, and the diagnostic
// names the concept and the missing member (issue #2 §3): here the caps aggregate that
// holds its isolation kind (issue #6 §2).
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>

struct irqchip_without_caps {
    static constexpr std::string_view name = "no caps member";
    static constexpr passthru::isa arch = passthru::isa::arm;
#ifdef PASSTHRU_CONTROL
    static constexpr passthru::irq_caps caps{.isolation = passthru::msi_isolation::none};
#endif
};

template <passthru::InterruptController C>
constexpr bool accepted = true;

static_assert(accepted<irqchip_without_caps>);

int main() {}
// expect: InterruptController
// expect: T::caps
