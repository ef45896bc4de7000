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

// An `InterruptController` type declares:
//   name                     display name                                          (static)
//   arch                     isa it belongs to                                     (static)
//   isolation                msi_isolation kind                                    (static)
//   msi_through_iommu        MSI writes are translated by the IOMMU, so each
//                            doorbell page must be IOMMU-mapped for MSIs to arrive (static)
//   msi_window               optional hardware window that bypasses translation
//                            (x86 0xFEE00000-0xFEEFFFFF); the IOMMU must reserve it (static)
//   generic_msi_domains      it creates generic MSI irq domains: what the pre-v6.3
//                            global irq_domain_check_msi_remap() looked at (SEMANTICS H.3) (static)
//   msi_remap_flag_pre_6_3   those domains carried IRQ_DOMAIN_FLAG_MSI_REMAP (v4.11-v6.2) (static)
template <class T>
concept InterruptController = requires {
    { T::name } -> std::convertible_to<std::string_view>;
    { T::arch } -> std::convertible_to<isa>;
    { T::isolation } -> std::convertible_to<msi_isolation>;
    { T::msi_through_iommu } -> std::convertible_to<bool>;
    { T::msi_window } -> std::convertible_to<std::optional<interval>>;
    { T::generic_msi_domains } -> std::convertible_to<bool>;
    { T::msi_remap_flag_pre_6_3 } -> std::convertible_to<bool>;
};

} // namespace passthru
