#pragma once
// The answer to "are MSIs isolated for a device on this platform?", why, and what type1's
// attach does about it.
#include <cstdint>
#include <string_view>

namespace passthru {

enum class msi_verdict : std::uint8_t {
    isolated,     // attach is safe
    not_isolated, // attach is refused with EPERM unless allow_unsafe_interrupts
    runtime,      // decided per domain at attach (e.g. an exclusive MSI bank)
};

// Which property made the verdict what it is; selects the wording (policy/reason.hpp).
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
    // Known only at attach (policy/attach.hpp):
    no_msi_domain, // v6.3+: a device has no MSI irq domain and the arch default is false
    bank_shared,   // the domain's exclusive-bank controller shares its bank
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

// What type1's attach does with a verdict, given the options.
enum class attach_decision : std::uint8_t {
    allow,        // MSIs are isolated
    allow_unsafe, // not isolated, attached anyway because of allow_unsafe_interrupts
    refuse,       // not isolated: type1 returns EPERM
    at_attach,    // only the instance can tell (see policy/attach.hpp)
};

constexpr std::string_view to_string(attach_decision d) noexcept {
    switch (d) {
    case attach_decision::allow: return "allow";
    case attach_decision::allow_unsafe: return "allow (unsafe)";
    case attach_decision::refuse: return "refuse (EPERM)";
    case attach_decision::at_attach: return "check at attach";
    }
    return "?";
}

} // namespace passthru
