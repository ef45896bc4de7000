// The x86 MSI window bypasses translation (SEMANTICS H.5): an IOMMU that does not
// reserve it as an MSI region would let a guest map DMA over interrupts.
#include <array>
#include <string_view>

#include <passthru/platforms/catalog.hpp>

struct x86_iommu_forgets_window {
    static constexpr std::string_view name = "x86 IOMMU, no MSI region";
    static constexpr passthru::isa arch = passthru::isa::x86;
    static constexpr passthru::pgsize_bitmap pgsizes{4096};
    static constexpr passthru::interval aperture{0, (std::uint64_t{1} << 48) - 1};
#ifdef PASSTHRU_CONTROL
    static constexpr std::array reserved_regions{passthru::reserved_region{
        passthru::platforms::x86_msi_window, passthru::resv_type::msi, passthru::prot::none}};
#else
    // Reserved, but as the wrong kind: it must be an MSI region.
    static constexpr std::array reserved_regions{passthru::reserved_region{
        passthru::platforms::x86_msi_window, passthru::resv_type::reserved, passthru::prot::none}};
#endif
    static constexpr passthru::iommu_caps caps{
        .cache_coherency = true,
        .intr_remap = passthru::intr_remap_cap::when_remapping_enabled};
};
using board = passthru::platform<x86_iommu_forgets_window, passthru::platforms::x86_intel_ir,
                                 passthru::platforms::pci_bus>;
static_assert(board::assignable);

int main() {}
// expect: the IOMMU does not reserve the interrupt controller's hardware MSI window as an MSI region
