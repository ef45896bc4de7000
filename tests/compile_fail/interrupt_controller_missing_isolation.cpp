// A type that misses a member of InterruptController is rejected, and the diagnostic
// names the concept and the missing member (issue #2 §3).
#include <optional>
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>

struct irqchip_without_isolation {
    static constexpr std::string_view name = "no isolation member";
    static constexpr passthru::isa arch = passthru::isa::arm;
#ifdef PASSTHRU_CONTROL
    static constexpr passthru::msi_isolation isolation = passthru::msi_isolation::none;
#endif
    static constexpr bool msi_through_iommu = true;
    static constexpr std::optional<passthru::interval> msi_window{};
    static constexpr bool generic_msi_domains = true;
    static constexpr bool msi_remap_flag_pre_6_3 = false;
};

template <passthru::InterruptController C>
constexpr bool accepted = true;

static_assert(accepted<irqchip_without_isolation>);

int main() {}
// expect: InterruptController
// expect: T::isolation
