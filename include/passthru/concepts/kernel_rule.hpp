#pragma once
// Concept `KernelRule`: one answer to "are this device's MSIs isolated?", as some Linux
// kernel (or a proposal) gave it (SEMANTICS H.1, H.3). A rule is a policy type, so one
// platform can be asked what every kernel would decide; policy/kernel_rules.hpp has the
// catalog's rules and rules::for_kernel picks the one a kernel version applied.
#include <compare>
#include <concepts>
#include <optional>
#include <string_view>

namespace passthru {

// A Linux release, major.minor.
struct kernel_version {
    unsigned major = 0;
    unsigned minor = 0;
    constexpr auto operator<=>(const kernel_version&) const = default;
};

// What a rule is, as an aggregate with defaults (like iommu_caps and irq_caps).
struct rule_facts {
    std::string_view name;
    // Decided per device: a device with no MSI irq domain falls back to the arch default
    // (v6.3+, H.1); the older rules asked once for the whole system or bus.
    bool per_device = false;
    // The Linux releases that applied it, inclusive; no first release for a rule no
    // kernel shipped (the 2014 RFC), no last one for the current rule.
    std::optional<kernel_version> first{};
    std::optional<kernel_version> last{};

    constexpr bool applied_in(kernel_version v) const noexcept {
        return first && *first <= v && (!last || v <= *last);
    }
};

// A `KernelRule` R declares
//   facts                      rule_facts                                      (static)
//   decide<Iommu, Irq, Bus>()  the isolation_verdict it reaches (policy/verdict.hpp),
//                              constexpr                                       (static)
// The second cannot be checked without components; platform<...> instantiates it.
template <class R>
concept KernelRule = requires {
    { R::facts } -> std::convertible_to<rule_facts>;
};

} // namespace passthru
