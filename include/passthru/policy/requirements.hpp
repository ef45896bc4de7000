#pragma once
// static_assert helpers for static partitioning: a platform that cannot assign devices
// safely fails to compile, with a message naming the missing property and the option
// that overrides it. Use as `static_assert(passthru::require_isolated_msi<P>());`.
// Each message is the sentence P::reason gives for the same cause (policy/reason.hpp);
// C++20 static_assert messages must be literals, so they are spelled here again, and
// tests/unit/policy/reason_text.cpp holds the two to the same words.
#include <passthru/concepts/platform.hpp>
#include <passthru/policy/platform.hpp> // what a Platform is built with
#include <passthru/policy/verdict.hpp>

namespace passthru {

template <Platform P>
consteval bool require_isolated_msi() {
    constexpr bool refused = P::decision == attach_decision::refuse;
    constexpr isolation_cause why = P::isolation.cause;
    static_assert(!(refused && why == isolation_cause::no_isolation),
                  "passthru: MSI isolation missing: the interrupt controller neither remaps "
                  "MSIs nor tags them with a hardware DeviceID; add the option "
                  "passthru::allow_unsafe_interrupts (or set type1's allow_unsafe_interrupts) "
                  "to attach anyway");
    static_assert(!(refused && why == isolation_cause::iommu_lacks_msi_table),
                  "passthru: MSI isolation missing: the interrupt controller relies on an IOMMU "
                  "MSI table that validates MSI data, which this IOMMU lacks; add the option "
                  "passthru::allow_unsafe_interrupts (or set type1's allow_unsafe_interrupts) "
                  "to attach anyway");
    static_assert(!(refused && why == isolation_cause::exclusive_bank_unknown),
                  "passthru: MSI isolation missing: the selected kernel rule does not recognise "
                  "exclusive MSI banks (use passthru::rules::exclusive_bank_aware); add the "
                  "option passthru::allow_unsafe_interrupts (or set type1's "
                  "allow_unsafe_interrupts) to attach anyway");
    static_assert(!(refused && why == isolation_cause::no_cap_no_flag),
                  "passthru: MSI isolation missing: the IOMMU does not report "
                  "IOMMU_CAP_INTR_REMAP and the MSI domains do not remap under the selected "
                  "kernel rule; add the option passthru::allow_unsafe_interrupts (or set "
                  "type1's allow_unsafe_interrupts) to attach anyway");
    static_assert(P::decision != attach_decision::at_attach,
                  "passthru: MSI isolation is decided at attach (exclusive MSI bank): it cannot "
                  "be proven at compile time; isolated only if the domain owns its MSI bank "
                  "exclusively, which passthru::plan_attach checks");
    return true;
}

template <Platform P>
consteval bool require_cache_coherent() {
    static_assert(P::cache_coherent,
                  "passthru: the IOMMU is not cache coherent (IOMMU_CAP_CACHE_COHERENCY): "
                  "VFIO refuses such devices and no option overrides it");
    return true;
}

// Everything a static-partitioning hypervisor needs before it hands a device over.
template <Platform P>
consteval bool require_assignable() {
    return require_cache_coherent<P>() && require_isolated_msi<P>();
}

} // namespace passthru
