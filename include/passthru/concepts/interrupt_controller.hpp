#pragma once
// Concept `InterruptController`: how an interrupt controller receives MSIs, and
// whether it keeps one device from forging another's. An MSI is a DMA write to a
// doorbell; isolation needs either an interrupt path that authenticates the source or
// a doorbell no other domain can reach (DESIGN "The one idea", SEMANTICS §H).
#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>

#include <passthru/concepts/isa.hpp>
#include <passthru/core/interval.hpp>

namespace passthru {

enum class msi_isolation : std::uint8_t {
    none,                 // any DMA-capable device can write any doorbell (GICv2m, x86 without IR)
    remapped,             // x86 interrupt remapping: the IOMMU checks the requester (VT-d, AMD-Vi IR)
    device_id_translated, // GICv3 ITS: the hardware tags each MSI with the requester's DeviceID
    exclusive_bank,       // an MSI bank reachable by one domain only (Freescale); per domain, at run time
    iommu_msi_table,      // MSIs go through the IOMMU's own MSI table; isolated only if it validates them
    arch_isolated,        // the architecture isolates (s390: arch_is_isolated_msi() is true)
};

constexpr std::string_view to_string(msi_isolation m) noexcept {
    switch (m) {
    case msi_isolation::none: return "none";
    case msi_isolation::remapped: return "interrupt remapping";
    case msi_isolation::device_id_translated: return "DeviceID translation";
    case msi_isolation::exclusive_bank: return "exclusive MSI bank";
    case msi_isolation::iommu_msi_table: return "IOMMU MSI table";
    case msi_isolation::arch_isolated: return "architecture";
    }
    return "?";
}

// What an interrupt controller is, for MSI isolation (SEMANTICS §H). An aggregate with
// defaults, like iommu_caps: a component states what differs from the defaults, and a fact
// added later does not break it.
struct irq_caps {
    msi_isolation isolation = msi_isolation::none;
    // MSI writes are translated by the IOMMU, so each doorbell page must be IOMMU-mapped
    // for MSIs to arrive.
    bool msi_through_iommu = false;
    // A hardware window that bypasses translation (x86 0xFEE00000-0xFEEFFFFF); the IOMMU
    // must reserve it.
    std::optional<interval> msi_window{};
    // It creates generic MSI irq domains: what the pre-v6.3 global
    // irq_domain_check_msi_remap() looked at (SEMANTICS H.3).
    bool generic_msi_domains = true;
    // Those domains carried IRQ_DOMAIN_FLAG_MSI_REMAP (v4.11-v6.2).
    bool msi_remap_flag_pre_6_3 = false;
};

// An `InterruptController` type declares, all static:
//   name    display name
//   arch    isa it belongs to
//   caps    irq_caps
template <class T>
concept InterruptController = requires {
    { T::name } -> std::convertible_to<std::string_view>;
    { T::arch } -> std::convertible_to<isa>;
    { T::caps } -> std::convertible_to<irq_caps>;
};

} // namespace passthru
