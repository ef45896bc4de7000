#pragma once
// How MSIs reach the interrupt controller once a device sits in an isolated domain
// (SEMANTICS A12, G.4, H.5).
#include <cstdint>
#include <optional>
#include <string_view>

#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/concepts/iommu.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru {

enum class msi_strategy : std::uint8_t {
    untranslated,    // MSIs do not go through IOMMU translation and need nothing (s390)
    hw_window,       // a hardware MSI window bypasses translation; its IOVA is excluded (x86)
    sw_msi_cookie,   // the kernel maps each doorbell page into the SW_MSI window on demand (ARM)
    vmm_maps_doorbell, // MSIs are translated but no window is reserved: the VMM maps the
                       // doorbell page itself (Freescale MSI bank with the OOT PAMU driver)
    iommu_msi_table, // the IOMMU's MSI table redirects interrupt-file writes (RISC-V)
};

constexpr std::string_view to_string(msi_strategy s) noexcept {
    switch (s) {
    case msi_strategy::untranslated: return "untranslated";
    case msi_strategy::hw_window: return "hardware MSI window";
    case msi_strategy::sw_msi_cookie: return "SW_MSI cookie";
    case msi_strategy::vmm_maps_doorbell: return "VMM maps the doorbell";
    case msi_strategy::iommu_msi_table: return "IOMMU MSI table";
    }
    return "?";
}

struct msi_setup {
    msi_strategy strategy = msi_strategy::untranslated;
    // Base IOVA of the MSI cookie (sw_msi_cookie only).
    std::optional<std::uint64_t> cookie_base;
    constexpr bool operator==(const msi_setup&) const = default;
};

// SEMANTICS A12: any MSI region means a hardware window and no cookie; otherwise the
// last (highest-starting) SW_MSI region becomes the cookie base. Without either, the
// interrupt controller's own mechanics decide.
template <Iommu I, InterruptController C>
constexpr msi_setup select_msi_setup(const reserved_region_list& regions) noexcept {
    std::optional<std::uint64_t> sw;
    for (const reserved_region& r : regions) {
        if (r.type == resv_type::msi) return {msi_strategy::hw_window, std::nullopt};
        if (r.type == resv_type::sw_msi) sw = r.range.first;
    }
    if (sw) return {msi_strategy::sw_msi_cookie, sw};
    if (C::caps.isolation == msi_isolation::iommu_msi_table && I::caps.msi_table)
        return {msi_strategy::iommu_msi_table, std::nullopt};
    if (C::caps.msi_through_iommu) return {msi_strategy::vmm_maps_doorbell, std::nullopt};
    return {msi_strategy::untranslated, std::nullopt};
}

} // namespace passthru
