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
#include <type_traits>

#include <passthru/concepts/bus.hpp>
#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/concepts/iommu.hpp>
#include <passthru/core/interval_set.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/core/reserved_region.hpp>
#include <passthru/policy/detail/static_string.hpp>
#include <passthru/policy/kernel_rules.hpp>
#include <passthru/policy/msi_strategy.hpp>
#include <passthru/policy/options.hpp>
#include <passthru/policy/verdict.hpp>

namespace passthru {

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

namespace detail {

template <class... Options>
struct find_rule {
    using type = rules::current;
};
template <class First, class... Rest>
struct find_rule<First, Rest...> {
    using type = std::conditional_t<KernelRule<First>, First, typename find_rule<Rest...>::type>;
};

template <class Option>
inline constexpr bool is_known_option_v =
    std::is_same_v<Option, allow_unsafe_interrupts> || KernelRule<Option>;

inline constexpr std::string_view sp = " ", lp = " (", rp = ")";
inline constexpr std::string_view txt_isolates = " isolates MSIs: ";
inline constexpr std::string_view txt_arch = ": the architecture isolates MSIs (arch_is_isolated_msi)";
inline constexpr std::string_view txt_translates = " translates MSIs through its MSI table for ";
inline constexpr std::string_view txt_cap = " reports IOMMU_CAP_INTR_REMAP with ";
inline constexpr std::string_view txt_global =
    ": every MSI irq domain carries MSI_REMAP, or there is none (global check before v6.3)";
inline constexpr std::string_view txt_skipped = ": MSI check skipped for a non-PCI bus (2014 RFC)";
inline constexpr std::string_view txt_override = "; set allow_unsafe_interrupts to attach anyway";
inline constexpr std::string_view txt_overridden =
    "; attached anyway: the platform sets allow_unsafe_interrupts";
// The end of a refusal's reason: how to override it, or that it was overridden.
template <bool Overridden>
inline constexpr const std::string_view& override_suffix = txt_override;
template <>
inline constexpr const std::string_view& override_suffix<true> = txt_overridden;
inline constexpr std::string_view txt_none = " provides no MSI isolation";
inline constexpr std::string_view txt_lacks_table =
    " needs an IOMMU MSI table that validates MSI data, which ";
inline constexpr std::string_view txt_lacks_table2 = " lacks";
inline constexpr std::string_view txt_bank_unknown =
    ": the selected kernel rule does not recognise exclusive MSI banks";
inline constexpr std::string_view txt_bank_runtime =
    ": isolated only if the domain owns its MSI bank exclusively; checked at attach";
inline constexpr std::string_view txt_no_cap = " does not report IOMMU_CAP_INTR_REMAP and ";
inline constexpr std::string_view txt_no_cap2 = " MSI domains do not remap";

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
    if (!C::msi_window) return true;
    for (const reserved_region& r : merged_reserved_regions<I>())
        if (r.type == resv_type::msi && r.range.contains(*C::msi_window)) return true;
    return false;
}

template <Iommu I, InterruptController C, Bus B, bool Overridden>
struct reason_text {
    static constexpr const std::string_view& txt_override = override_suffix<Overridden>;
    static constexpr std::string_view kind = to_string(C::isolation);
    using iname = name_of<I>;
    using cname = name_of<C>;
    using bname = name_of<B>;

    static constexpr std::string_view for_cause(isolation_cause cause) noexcept {
        switch (cause) {
        case isolation_cause::isolating_irq_domain:
            return join_v<cname::value, txt_isolates, kind>;
        case isolation_cause::arch_isolated: return join_v<cname::value, txt_arch>;
        case isolation_cause::iommu_msi_table:
            return join_v<iname::value, txt_translates, cname::value>;
        case isolation_cause::intr_remap_cap: return join_v<iname::value, txt_cap, cname::value>;
        case isolation_cause::global_msi_remap: return join_v<cname::value, txt_global>;
        case isolation_cause::bus_check_skipped: return join_v<bname::value, txt_skipped>;
        case isolation_cause::no_isolation: return join_v<cname::value, txt_none, txt_override>;
        case isolation_cause::iommu_lacks_msi_table:
            return join_v<cname::value, txt_lacks_table, iname::value, txt_lacks_table2,
                          txt_override>;
        case isolation_cause::exclusive_bank_unknown:
            return join_v<cname::value, txt_bank_unknown, txt_override>;
        case isolation_cause::exclusive_bank_at_runtime:
            return join_v<cname::value, txt_bank_runtime>;
        case isolation_cause::no_cap_no_flag:
            return join_v<iname::value, txt_no_cap, cname::value, txt_no_cap2, txt_override>;
        }
        return {};
    }
};

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
    static_assert(C::isolation != msi_isolation::remapped ||
                      I::caps.intr_remap != intr_remap_cap::never,
                  "passthru::platform: interrupt remapping is done by the IOMMU, and this "
                  "IOMMU cannot remap interrupts");

    using iommu = I;
    using irq = C;
    using bus = B;
    using rule = typename detail::find_rule<Options...>::type;

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
        detail::reason_text<I, C, B, allows_unsafe_interrupts>::for_cause(isolation.cause);

    // The IOMMU's reserved regions, merged (SEMANTICS G.2, G.3).
    static constexpr reserved_region_list reserved_regions() {
        return detail::merged_reserved_regions<I>();
    }

    // Aperture minus every non-relaxable reserved region (SEMANTICS §A.1).
    static constexpr interval_list usable_iova_ranges() {
        return subtract(interval_list{I::aperture}, excluded_iova(reserved_regions()));
    }

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

template <class T>
inline constexpr bool is_platform_v = false;
template <class I, class C, class B, class... O>
inline constexpr bool is_platform_v<platform<I, C, B, O...>> = true;

// Concept for anything built with platform<...>.
template <class P>
concept Platform = is_platform_v<P>;

} // namespace passthru
