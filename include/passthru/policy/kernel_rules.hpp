#pragma once
// What "MSIs are isolated" meant to each Linux kernel (SEMANTICS H.1, H.3), as policy
// types. Each rule decides, for an IOMMU, an interrupt controller and a bus, what
// type1's attach check would conclude, so one platform can be asked what every kernel
// would do. `rules::current` (v6.3+) is the default of platform<...>.
//
// Every rule but rfc_2014 ignores the bus: MSI safety is a property of the IOMMU and the
// interrupt controller. rfc_2014 is here to show the flaw the 2014 review found.
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <passthru/concepts/bus.hpp>
#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/concepts/iommu.hpp>
#include <passthru/concepts/kernel_rule.hpp>
#include <passthru/policy/verdict.hpp>

namespace passthru::rules {

// v6.3+: iommu_group_has_isolated_msi(). A device is isolated when an irq domain in its
// MSI path carries IRQ_DOMAIN_FLAG_ISOLATED_MSI (ITS, x86 IR, and an IOMMU MSI table
// only if it validates MSI data, which RISC-V IOMMU v1.0 does not: docs/platforms.md),
// else when arch_is_isolated_msi() (s390). An exclusive MSI bank has no such flag, so
// the kernel refuses it (SEMANTICS H.6).
struct linux_v6_3 {
    static constexpr rule_facts facts{.name = "Linux v6.3+", .per_device = true, .first = kernel_version{6, 3}};
    template <Iommu I, InterruptController C, Bus B>
    static constexpr isolation_verdict decide() noexcept {
        switch (C::caps.isolation) {
        case msi_isolation::remapped:
        case msi_isolation::device_id_translated:
            return {msi_verdict::isolated, isolation_cause::isolating_irq_domain};
        case msi_isolation::arch_isolated:
            return {msi_verdict::isolated, isolation_cause::arch_isolated};
        case msi_isolation::iommu_msi_table:
            if (I::caps.msi_table && I::caps.msi_table_validates_data)
                return {msi_verdict::isolated, isolation_cause::iommu_msi_table};
            return {msi_verdict::not_isolated, isolation_cause::iommu_lacks_msi_table};
        case msi_isolation::exclusive_bank:
            return {msi_verdict::not_isolated, isolation_cause::exclusive_bank_unknown};
        case msi_isolation::none: break;
        }
        return {msi_verdict::not_isolated, isolation_cause::no_isolation};
    }
};

namespace detail {
// IOMMU_CAP_INTR_REMAP as the IOMMU driver answered it before v6.3.
template <Iommu I, InterruptController C>
constexpr bool intr_remap_capable() noexcept {
    return I::caps.intr_remap == intr_remap_cap::always ||
           (I::caps.intr_remap == intr_remap_cap::when_remapping_enabled &&
            C::caps.isolation == msi_isolation::remapped);
}
} // namespace detail

// v4.11-v5.19, and v6.0-v6.2 (where the capability query became per device, with the same
// verdicts: a group's devices sit behind one IOMMU): irq_domain_check_msi_remap() ||
// IOMMU_CAP_INTR_REMAP. The irq-domain check was global and vacuously true on a system
// with no MSI domains at all. Debian bookworm's 6.1 is in the v6.0-v6.2 row.
struct linux_v4_11 {
    static constexpr rule_facts facts{.name = "Linux v4.11-v6.2", .first = kernel_version{4, 11},
                                      .last = kernel_version{6, 2}};
    template <Iommu I, InterruptController C, Bus B>
    static constexpr isolation_verdict decide() noexcept {
        if (!C::caps.generic_msi_domains || C::caps.msi_remap_flag_pre_6_3)
            return {msi_verdict::isolated, isolation_cause::global_msi_remap};
        if (detail::intr_remap_capable<I, C>())
            return {msi_verdict::isolated, isolation_cause::intr_remap_cap};
        return {msi_verdict::not_isolated, isolation_cause::no_cap_no_flag};
    }
};

// v3.15-v4.10: iommu_capable(bus, IOMMU_CAP_INTR_REMAP) alone.
struct linux_v3_15 {
    static constexpr rule_facts facts{.name = "Linux v3.15-v4.10", .first = kernel_version{3, 15},
                                      .last = kernel_version{4, 10}};
    template <Iommu I, InterruptController C, Bus B>
    static constexpr isolation_verdict decide() noexcept {
        if (detail::intr_remap_capable<I, C>())
            return {msi_verdict::isolated, isolation_cause::intr_remap_cap};
        return {msi_verdict::not_isolated, isolation_cause::no_cap_no_flag};
    }
};

// The 2014 RFC that let VFIO take ARM platform devices: it kept the v3.15 check for
// PCI and skipped it for every other bus. Its verdict depends on the bus, and it admits
// a platform device behind an SMMU with a GICv2m, which can forge any MSI.
struct rfc_2014 {
    static constexpr rule_facts facts{.name = "2014 RFC (skip for non-PCI)"};
    template <Iommu I, InterruptController C, Bus B>
    static constexpr isolation_verdict decide() noexcept {
        if (B::kind != bus_kind::pci)
            return {msi_verdict::isolated, isolation_cause::bus_check_skipped};
        return linux_v3_15::decide<I, C, B>();
    }
};

// passthru's own reading of the 2014 review, never merged upstream (SEMANTICS H.6): the
// v6.3 rule, except that an exclusive MSI bank is decided per domain at attach, since
// only the instance knows whether the bank is shared.
struct exclusive_bank_aware {
    static constexpr rule_facts facts{.name = "v6.3 + exclusive MSI banks", .per_device = true};
    template <Iommu I, InterruptController C, Bus B>
    static constexpr isolation_verdict decide() noexcept {
        if (C::caps.isolation == msi_isolation::exclusive_bank)
            return {msi_verdict::runtime, isolation_cause::exclusive_bank_at_runtime};
        return linux_v6_3::decide<I, C, B>();
    }
};

using current = linux_v6_3;

// The rules Linux releases applied, oldest first (SEMANTICS H.3). Before v3.15 type1 checked
// once, when the container was opened; that rule is not modelled.
using shipped = std::tuple<linux_v3_15, linux_v4_11, linux_v6_3>;

namespace detail {
template <class Tuple>
struct rule_for;
template <class... R>
struct rule_for<std::tuple<R...>> {
    static constexpr std::optional<rule_facts> facts(kernel_version v) noexcept {
        std::optional<rule_facts> out;
        ((R::facts.applied_in(v) ? (void)(out = R::facts) : (void)0), ...);
        return out;
    }
    static constexpr std::size_t index(kernel_version v) noexcept {
        std::size_t i = 0, n = 0;
        ((R::facts.applied_in(v) ? (void)(i = n++) : (void)n++), ...);
        return i;
    }
    template <unsigned Major, unsigned Minor>
    using type = std::tuple_element_t<index({Major, Minor}), std::tuple<R...>>;
};
} // namespace detail

// What the kernel Linux major.minor applied: for_kernel(6, 1) is linux_v4_11's facts (the
// v6.0-v6.2 row), for_kernel(6, 12) linux_v6_3's; nothing before v3.15.
constexpr std::optional<rule_facts> for_kernel(unsigned major, unsigned minor) noexcept {
    return detail::rule_for<shipped>::facts({major, minor});
}

// The same as a type, for platform<..., rules::for_kernel_t<6, 1>>.
template <unsigned Major, unsigned Minor>
    requires(for_kernel(Major, Minor).has_value())
using for_kernel_t = detail::rule_for<shipped>::template type<Major, Minor>;

} // namespace passthru::rules
