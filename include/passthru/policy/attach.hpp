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
inline constexpr std::string_view txt_incoherent =
    "the IOMMU is not cache coherent (no IOMMU_CAP_CACHE_COHERENCY); VFIO refuses such devices";
inline constexpr std::string_view txt_no_usable =
    "reserved regions leave no usable IOVA inside the aperture";
inline constexpr std::string_view txt_no_msi_domain =
    "a device of the group has no MSI irq domain, and v6.3+ then falls back to "
    "arch_is_isolated_msi(), false here; set allow_unsafe_interrupts to attach anyway";
inline constexpr std::string_view txt_bank_shared =
    "the domain's MSI bank is shared with another domain, so MSIs are not isolated; "
    "set allow_unsafe_interrupts to attach anyway";
} // namespace detail

// The MSI verdict for this attach, refining the platform's static one with the facts.
template <Platform P>
constexpr result<bool> msi_isolated_at_attach(const attach_facts& f) {
    using C = typename P::irq;
    bool isolated = P::verdict == msi_verdict::isolated;
    std::string_view why = P::reason;
    if (P::verdict == msi_verdict::runtime) {
        isolated = f.msi_bank_exclusive;
        why = detail::txt_bank_shared;
    }
    if (isolated && P::rule::per_device && !f.devices_have_msi_domain &&
        C::isolation != msi_isolation::arch_isolated) {
        isolated = false;
        why = detail::txt_no_msi_domain;
    }
    if (!isolated && !P::allows_unsafe_interrupts && !f.allow_unsafe_interrupts)
        return fail(errc::eperm, why); // SEMANTICS A13
    return isolated;
}

template <Platform P>
result<attach_plan> plan_attach(const attach_facts& f = {}) {
    using I = typename P::iommu;
    using C = typename P::irq;
    if (!P::cache_coherent) return fail(errc::einval, detail::txt_incoherent); // A.3

    attach_plan plan;
    plan.reserved = merge_resv_regions(I::reserved_regions, f.firmware_regions);
    const interval aperture = f.aperture.value_or(I::aperture);
    plan.usable = subtract(interval_list{aperture}, excluded_iova(plan.reserved));
    if (plan.usable.empty()) return fail(errc::einval, detail::txt_no_usable); // A11

    auto isolated = msi_isolated_at_attach<P>(f); // A13
    if (!isolated) return tl::unexpected(isolated.error());
    plan.unsafe_interrupts = !*isolated;
    plan.msi = select_msi_setup<I, C>(plan.reserved); // A12
    plan.map_prot = P::map_prot;
    plan.enforce_cache_coherency = I::caps.enforce_cache_coherency; // A14
    return plan;
}

} // namespace passthru
