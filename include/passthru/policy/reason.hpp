#pragma once
// The words of every MSI-isolation verdict (SEMANTICS A13, §H), in one place: one
// constexpr function, one switch over the cause, the literals inline. A reason names the
// component responsible, so it is built in a small fixed-capacity buffer in constant
// evaluation and kept in static storage (platform<...>::reason, plan_attach's errors
// point into it): no allocation, usable in error{} and in a static_assert.
//
// A refusal reads "<component>: " followed by the sentence the compile-time check of
// policy/requirements.hpp prints for it: C++20 static_assert messages must be literals,
// so those sentences are repeated there, and tests/unit/policy/reason_text.cpp holds the
// two to the same words.
#include <cstddef>
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/policy/verdict.hpp>

namespace passthru {

class reason_text {
public:
    static constexpr std::size_t capacity = 320;

    constexpr reason_text& operator<<(std::string_view s) noexcept {
        if (s.size() > capacity - size_) too_long(); // a compile error in constant evaluation
        for (char c : s)
            if (size_ < capacity) chars_[size_++] = c;
        return *this;
    }
    constexpr std::string_view view() const noexcept { return {chars_, size_}; }

private:
    static void too_long() noexcept {} // not constexpr: reaching it fails constant evaluation
    char chars_[capacity]{};
    std::size_t size_ = 0;
};

// The components a reason can name.
struct reason_names {
    std::string_view iommu, irq, bus;
    msi_isolation kind = msi_isolation::none; // the interrupt controller's
};

// Why the verdict is what it is. `overridden`: the platform attaches anyway because of
// allow_unsafe_interrupts, which the reason then says instead of how to override.
constexpr reason_text isolation_reason(isolation_cause cause, const reason_names& n,
                                       bool overridden = false) noexcept {
    reason_text r;
    const std::string_view anyway = overridden
        ? "; attached anyway: the platform sets allow_unsafe_interrupts"
        : "; add the option passthru::allow_unsafe_interrupts (or set type1's "
          "allow_unsafe_interrupts) to attach anyway";
    switch (cause) {
    case isolation_cause::isolating_irq_domain:
        r << n.irq << " isolates MSIs: " << to_string(n.kind);
        break;
    case isolation_cause::arch_isolated:
        r << n.irq << ": the architecture isolates MSIs (arch_is_isolated_msi)";
        break;
    case isolation_cause::iommu_msi_table:
        r << n.iommu << " translates MSIs through its MSI table for " << n.irq;
        break;
    case isolation_cause::intr_remap_cap:
        r << n.iommu << " reports IOMMU_CAP_INTR_REMAP with " << n.irq;
        break;
    case isolation_cause::global_msi_remap:
        r << n.irq << ": every MSI irq domain carries MSI_REMAP, or there is none (global "
                      "check before v6.3)";
        break;
    case isolation_cause::bus_check_skipped:
        r << n.bus << ": MSI check skipped for a non-PCI bus (2014 RFC)";
        break;
    case isolation_cause::no_isolation:
        r << n.irq << ": MSI isolation missing: the interrupt controller neither remaps MSIs "
                      "nor tags them with a hardware DeviceID" << anyway;
        break;
    case isolation_cause::iommu_lacks_msi_table:
        r << n.irq << " with " << n.iommu << ": MSI isolation missing: the interrupt "
             "controller relies on an IOMMU MSI table that validates MSI data, which this "
             "IOMMU lacks" << anyway;
        break;
    case isolation_cause::exclusive_bank_unknown:
        r << n.irq << ": MSI isolation missing: the selected kernel rule does not recognise "
                      "exclusive MSI banks (use passthru::rules::exclusive_bank_aware)" << anyway;
        break;
    case isolation_cause::exclusive_bank_at_runtime:
        r << n.irq << ": MSI isolation is decided at attach (exclusive MSI bank): it cannot "
                      "be proven at compile time; isolated only if the domain owns its MSI "
                      "bank exclusively, which passthru::plan_attach checks";
        break;
    case isolation_cause::no_cap_no_flag:
        r << n.iommu << " with " << n.irq << ": MSI isolation missing: the IOMMU does not "
             "report IOMMU_CAP_INTR_REMAP and the MSI domains do not remap under the selected "
             "kernel rule" << anyway;
        break;
    case isolation_cause::no_msi_domain:
        r << n.irq << ": a device of the group has no MSI irq domain, and v6.3+ then falls "
                      "back to arch_is_isolated_msi(), false here" << anyway;
        break;
    case isolation_cause::bank_shared:
        r << n.irq << ": the domain's MSI bank is shared with another domain, so MSIs are "
                      "not isolated" << anyway;
        break;
    }
    return r;
}

} // namespace passthru
