#pragma once
// platform<Iommu, InterruptController, Bus, Options...>: everything known from the types
// about assigning a device on this platform, computed in constant evaluation and
// readable top to bottom like type1's attach (SEMANTICS §A):
//   isolation  which MSI-isolation verdict the selected kernel rule reaches (A13, §H)
//   decision   allow / allow_unsafe / refuse (EPERM) / decided at attach
//   reason     a sentence naming the component responsible
//   msi        how MSIs get through (A12: hardware window, SW_MSI cookie, ...)
//   reserved_regions(), usable_iova_ranges()  aperture minus reserved regions (§A.1)
//   map_prot   what type1 adds to every mapping (A.3: IOMMU_CACHE since v5.19)
// Options: passthru::allow_unsafe_interrupts, and at most one kernel rule set
// (passthru::rules::*, default rules::current).
#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include <passthru/concepts/bus.hpp>
#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/concepts/iommu.hpp>
#include <passthru/concepts/kernel_rule.hpp>
#include <passthru/concepts/platform.hpp>
#include <passthru/core/interval_set.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/core/reserved_region.hpp>
#include <passthru/policy/kernel_rules.hpp>
#include <passthru/policy/msi_strategy.hpp>
#include <passthru/policy/options.hpp>
#include <passthru/policy/reason.hpp>
#include <passthru/policy/verdict.hpp>

namespace passthru {

namespace detail {

// The one kernel rule among the options, else the current one (Mp11-style: a constexpr
// bool array over the pack and a loop, no recursion).
template <class... Options>
constexpr std::size_t rule_index() noexcept {
    constexpr bool is_rule[] = {KernelRule<Options>..., false};
    for (std::size_t i = 0; i < sizeof...(Options); ++i)
        if (is_rule[i]) return i;
    return sizeof...(Options);
}
template <class... Options>
using find_rule = std::tuple_element_t<rule_index<Options...>(), std::tuple<Options..., rules::current>>;

template <class Option>
inline constexpr bool is_known_option_v =
    std::is_same_v<Option, allow_unsafe_interrupts> || KernelRule<Option>;

// The IOMMU's static reserved regions, merged as iommu_get_group_resv_regions does
// (SEMANTICS G.2, G.3).
template <Iommu I>
constexpr reserved_region_list merged_reserved_regions() {
    return merge_resv_regions(I::reserved_regions);
}

// The x86 MSI window bypasses translation, so the IOMMU must keep it out of every
// domain; a catalog entry that forgets would let a guest map over interrupts.
template <Iommu I, InterruptController C>
constexpr bool reserves_msi_window() {
    if (!C::caps.msi_window) return true;
    for (const reserved_region& r : merged_reserved_regions<I>())
        if (r.type == resv_type::msi && r.range.contains(*C::caps.msi_window)) return true;
    return false;
}

// The reason for `Cause` on these components, in static storage (policy/reason.hpp).
template <Iommu I, InterruptController C, Bus B, bool Overridden, isolation_cause Cause>
inline constexpr reason_text reason_for =
    isolation_reason(Cause, {I::name, C::name, B::name, C::caps.isolation}, Overridden);

} // namespace detail

template <Iommu I, InterruptController C, Bus B, class... Options>
struct platform {
    static_assert((detail::is_known_option_v<Options> && ...),
                  "passthru::platform: an option is neither allow_unsafe_interrupts nor a "
                  "kernel rule set (passthru::rules::*)");
    static_assert((0 + ... + (KernelRule<Options> ? 1 : 0)) <= 1,
                  "passthru::platform: give at most one kernel rule set");
    static_assert(I::arch == C::arch,
                  "passthru::platform: the IOMMU and the interrupt controller belong to "
                  "different architectures");
    static_assert(C::caps.isolation != msi_isolation::remapped ||
                      I::caps.intr_remap != intr_remap_cap::never,
                  "passthru::platform: interrupt remapping is done by the IOMMU, and this "
                  "IOMMU cannot remap interrupts");

    using iommu = I;
    using irq = C;
    using bus = B;
    using rule = detail::find_rule<Options...>;

    static constexpr bool allows_unsafe_interrupts =
        has_option<allow_unsafe_interrupts, Options...>;

    // SEMANTICS A13 / §H under the selected rule.
    static constexpr isolation_verdict isolation = rule::template decide<I, C, B>();
    static constexpr msi_verdict verdict = isolation.verdict;

    // With allow_unsafe_interrupts a verdict only known at attach no longer matters for
    // the decision: the attach goes ahead either way, and plan_attach reports whether it
    // turned out unsafe.
    static constexpr attach_decision decision =
        verdict == msi_verdict::isolated ? attach_decision::allow
        : allows_unsafe_interrupts       ? attach_decision::allow_unsafe
        : verdict == msi_verdict::runtime ? attach_decision::at_attach
                                          : attach_decision::refuse;

    static constexpr std::string_view reason =
        detail::reason_for<I, C, B, allows_unsafe_interrupts, isolation.cause>.view();

    // The IOMMU's reserved regions, merged (SEMANTICS G.2, G.3).
    static constexpr reserved_region_list reserved_regions() {
        return detail::merged_reserved_regions<I>();
    }

    // Aperture minus every non-relaxable reserved region (SEMANTICS §A.1).
    static constexpr interval_list usable_iova_ranges() {
        return subtract(interval_list{I::aperture}, excluded_iova(reserved_regions()));
    }
    // The same list as an array computed at compile time: reading it costs nothing at run
    // time and allocates nothing (usable_iova_ranges() builds a std::vector).
    static constexpr std::size_t usable_iova_count = [] { return usable_iova_ranges().size(); }();
    static constexpr auto usable_iova = [] {
        std::array<interval, usable_iova_count> out{};
        const interval_list ranges = usable_iova_ranges();
        std::copy(ranges.begin(), ranges.end(), out.begin());
        return out;
    }();

    static constexpr msi_setup msi = select_msi_setup<I, C>(detail::merged_reserved_regions<I>());

    // VFIO refuses to register a device whose IOMMU is not cache coherent (A.3).
    static constexpr bool cache_coherent = I::caps.cache_coherency;
    // Every type1 mapping carries IOMMU_CACHE (A.3, v5.19+).
    static constexpr prot map_prot = prot::cache;
    // VFIO_DMA_CC_IOMMU for a container holding only this platform's domains (A.3).
    static constexpr bool dma_cc_iommu = I::caps.enforce_cache_coherency;

    // Attachable without any run-time fact (static partitioning can rely on it).
    static constexpr bool assignable =
        cache_coherent && (decision == attach_decision::allow ||
                           decision == attach_decision::allow_unsafe);

    static_assert(detail::reserves_msi_window<I, C>(),
                  "passthru::platform: the IOMMU does not reserve the interrupt controller's "
                  "hardware MSI window as an MSI region");
};

} // namespace passthru
