#pragma once
// The answer to "are MSIs isolated for a device on this platform?" and why.
#include <cstdint>
#include <string_view>

namespace passthru {

enum class msi_verdict : std::uint8_t {
    isolated,     // attach is safe
    not_isolated, // attach is refused with EPERM unless allow_unsafe_interrupts
    runtime,      // decided per domain at attach (e.g. an exclusive MSI bank)
};

// Which property made the verdict what it is; selects the wording of reasons and of
// static_assert messages.
enum class isolation_cause : std::uint8_t {
    isolating_irq_domain,      // an irq domain in the MSI path isolates (v6.3+ rule)
    arch_isolated,             // arch_is_isolated_msi() (s390)
    iommu_msi_table,           // the IOMMU's MSI table validates what a device may raise
    intr_remap_cap,            // the IOMMU reported IOMMU_CAP_INTR_REMAP (pre-v6.3 rules)
    global_msi_remap,          // every MSI domain had MSI_REMAP, or none existed (v4.11-v6.2)
    bus_check_skipped,         // the 2014 RFC skipped the check for non-PCI buses
    no_isolation,              // the interrupt controller does not isolate MSIs
    iommu_lacks_msi_table,     // isolation needs an MSI-validating IOMMU table this IOMMU lacks
    exclusive_bank_unknown,    // an exclusive MSI bank, which the selected rule ignores
    exclusive_bank_at_runtime, // an exclusive MSI bank: checked per domain at attach
    no_cap_no_flag,            // pre-v6.3: neither INTR_REMAP nor a global MSI_REMAP
};

struct isolation_verdict {
    msi_verdict verdict;
    isolation_cause cause;
    constexpr bool operator==(const isolation_verdict&) const = default;
};

constexpr std::string_view to_string(msi_verdict v) noexcept {
    switch (v) {
    case msi_verdict::isolated: return "isolated";
    case msi_verdict::not_isolated: return "not isolated";
    case msi_verdict::runtime: return "decided at attach";
    }
    return "?";
}

} // namespace passthru
