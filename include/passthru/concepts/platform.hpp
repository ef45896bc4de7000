#pragma once
// Concept `Platform`: an IOMMU, an interrupt controller and a bus composed into what
// type1's attach would conclude (policy/platform.hpp builds one with platform<...>).
// Stated as what its users read, so the attach plan and the static_assert helpers accept
// exactly the types that give them everything they need.
#include <concepts>
#include <string_view>

#include <passthru/concepts/bus.hpp>
#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/concepts/iommu.hpp>
#include <passthru/concepts/kernel_rule.hpp>
#include <passthru/core/prot.hpp>

namespace passthru {

// A `Platform` P declares (all static):
//   iommu, irq, bus, rule       its components and the kernel rule it is judged by
//   isolation, verdict, decision, msi
//                               the verdict, its cause, the attach decision and the MSI
//                               setup (policy/verdict.hpp, policy/msi_strategy.hpp)
//   reason                      the verdict in words
//   allows_unsafe_interrupts, cache_coherent, assignable, dma_cc_iommu
//   map_prot                    added to every mapping (SEMANTICS A.3)
template <class P>
concept Platform = Iommu<typename P::iommu> && InterruptController<typename P::irq> &&
                   Bus<typename P::bus> && KernelRule<typename P::rule> && requires {
    P::isolation;
    P::verdict;
    P::decision;
    P::msi;
    { P::reason } -> std::convertible_to<std::string_view>;
    { P::allows_unsafe_interrupts } -> std::convertible_to<bool>;
    { P::cache_coherent } -> std::convertible_to<bool>;
    { P::assignable } -> std::convertible_to<bool>;
    { P::dma_cc_iommu } -> std::convertible_to<bool>;
    { P::map_prot } -> std::convertible_to<prot>;
};

} // namespace passthru
