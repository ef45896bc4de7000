#pragma once
// The run-time half of the attach policy: what only an instance knows, checked with
// the same wording as the compile-time verdict (DESIGN "Compile time, then run time").
// Mirrors the order of type1's attach (SEMANTICS §A): usable IOVA (A11) before the MSI
// check (A13), and cache coherency first, since VFIO refuses to even register a device
// behind an incoherent IOMMU (A.3).
#include <optional>
#include <span>

#include <passthru/core/error.hpp>
#include <passthru/core/interval_set.hpp>
#include <passthru/core/reserved_region.hpp>
#include <passthru/policy/msi_strategy.hpp>
#include <passthru/policy/platform.hpp>

namespace passthru {

// Facts of one group attach that no type can know.
struct attach_facts {
    // type1's module parameter allow_unsafe_interrupts, read at attach (SEMANTICS §1.2).
    bool allow_unsafe_interrupts = false;
    // Exclusive-bank controllers: no other domain can reach this domain's MSI bank.
    bool msi_bank_exclusive = false;
    // Every device of the group has an MSI irq domain. Under per-device rules (v6.3+,
    // H.1) a device without one falls back to arch_is_isolated_msi().
    bool devices_have_msi_domain = true;
    // Firmware reserved regions of the group's devices: RMRRs (DIRECT or
    // DIRECT_RELAXABLE), IVMD unity maps, IORT RMRs and ITS HW-MSI regions (§I, G.5).
    std::span<const reserved_region> firmware_regions{};
    // The instance's aperture when it differs from the type's (e.g. a 39-bit VT-d).
    std::optional<interval> aperture{};
};

// What the attach decided and how the domain must be set up.
struct attach_plan {
    bool unsafe_interrupts = false; // attached without MSI isolation (allowed by an option)
    msi_setup msi{};
    reserved_region_list reserved;  // the group's merged reserved regions (G.2, G.3)
    interval_list usable;           // aperture minus non-relaxable regions (§A.1)
    prot map_prot = prot::none;     // added to every mapping (A.3)
    bool enforce_cache_coherency = false;
};

namespace detail {
// A.11: what to say when reserved regions leave nothing usable. The range the error
// carries is the region that covers most of the aperture: the one to look at first.
constexpr tl::unexpected<error> no_usable_iova(const interval& aperture,
                                               const reserved_region_list& regions) {
    const reserved_region* worst = nullptr;
    std::uint64_t most = 0;
    for (const reserved_region& r : regions) {
        if (!r.excludes_iova()) continue;
        const auto part = intersect(r.range, aperture);
        if (part && (!worst || part->span() > most)) {
            worst = &r;
            most = part->span();
        }
    }
    const auto why = [](resv_type t) -> std::string_view {
        switch (t) {
        case resv_type::direct:
            return "reserved regions leave no usable IOVA in the aperture; the one covering most "
                   "of it is this direct-mapped region (RMRR, IVMD unity map, IORT RMR)";
        case resv_type::reserved:
            return "reserved regions leave no usable IOVA in the aperture; the one covering most "
                   "of it is this reserved region";
        case resv_type::msi:
            return "reserved regions leave no usable IOVA in the aperture; the one covering most "
                   "of it is this hardware MSI window";
        case resv_type::sw_msi:
            return "reserved regions leave no usable IOVA in the aperture; the one covering most "
                   "of it is this software-managed MSI window";
        case resv_type::direct_relaxable: break; // never excludes IOVA
        }
        return "reserved regions leave no usable IOVA in the aperture";
    };
    return worst ? fail(errc::einval, why(worst->type), worst->range)
                 : fail(errc::einval, why(resv_type::direct_relaxable));
}
} // namespace detail

// The platform's wording for a cause known only at attach.
template <Platform P, isolation_cause Cause>
constexpr std::string_view reason() noexcept {
    return detail::reason_for<typename P::iommu, typename P::irq, typename P::bus,
                              P::allows_unsafe_interrupts, Cause>.view();
}

// The MSI verdict for this attach, refining the platform's static one with the facts.
template <Platform P>
constexpr result<bool> msi_isolated_at_attach(const attach_facts& f) {
    using C = typename P::irq;
    bool isolated = P::verdict == msi_verdict::isolated;
    isolation_cause why = P::isolation.cause;
    if (P::verdict == msi_verdict::runtime) {
        isolated = f.msi_bank_exclusive;
        why = isolation_cause::bank_shared;
    }
    if (isolated && P::rule::facts.per_device && !f.devices_have_msi_domain &&
        C::caps.isolation != msi_isolation::arch_isolated) {
        isolated = false;
        why = isolation_cause::no_msi_domain;
    }
    if (!isolated && !P::allows_unsafe_interrupts && !f.allow_unsafe_interrupts) // SEMANTICS A13
        return fail(errc::eperm, why == isolation_cause::bank_shared
                                     ? reason<P, isolation_cause::bank_shared>()
                                 : why == isolation_cause::no_msi_domain
                                     ? reason<P, isolation_cause::no_msi_domain>()
                                     : P::reason);
    return isolated;
}

template <Platform P>
result<attach_plan> plan_attach(const attach_facts& f = {}) {
    using I = typename P::iommu;
    using C = typename P::irq;
    if (!P::cache_coherent) // A.3
        return fail(errc::einval, "the IOMMU is not cache coherent (no "
                                  "IOMMU_CAP_CACHE_COHERENCY); VFIO refuses such devices");
    // A reversed interval is bad input, never an empty set (it would pass every check).
    if (f.aperture && f.aperture->first > f.aperture->last)
        return fail(errc::einval, "the instance aperture ends before it starts", *f.aperture);
    for (const reserved_region& r : f.firmware_regions)
        if (r.range.first > r.range.last)
            return fail(errc::einval, "a firmware reserved region ends before it starts", r.range);

    attach_plan plan;
    plan.reserved = merge_resv_regions(I::reserved_regions, f.firmware_regions);
    const interval aperture = f.aperture.value_or(I::aperture);
    plan.usable = subtract(interval_list{aperture}, excluded_iova(plan.reserved));
    if (plan.usable.empty()) return detail::no_usable_iova(aperture, plan.reserved); // A11

    auto isolated = msi_isolated_at_attach<P>(f); // A13
    if (!isolated) return tl::unexpected(isolated.error());
    plan.unsafe_interrupts = !*isolated;
    plan.msi = select_msi_setup<I, C>(plan.reserved); // A12
    plan.map_prot = P::map_prot;
    plan.enforce_cache_coherency = I::caps.enforce_cache_coherency; // A14
    return plan;
}

} // namespace passthru
