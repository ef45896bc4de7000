// Interrupt remapping is done by the IOMMU (SEMANTICS H.2): an IOMMU that cannot remap
// cannot be paired with a remapping interrupt controller.
#include <array>
#include <string_view>

#include <passthru/platforms/catalog.hpp>

struct x86_iommu_without_ir {
    static constexpr std::string_view name = "x86 IOMMU without IR";
    static constexpr passthru::isa arch = passthru::isa::x86;
    static constexpr passthru::pgsize_bitmap pgsizes{4096};
    static constexpr passthru::interval aperture{0, (std::uint64_t{1} << 48) - 1};
    static constexpr std::array reserved_regions{passthru::reserved_region{
        passthru::platforms::x86_msi_window, passthru::resv_type::msi, passthru::prot::none}};
#ifdef PASSTHRU_CONTROL
    static constexpr passthru::iommu_caps caps{
        .cache_coherency = true,
        .intr_remap = passthru::intr_remap_cap::when_remapping_enabled};
#else
    static constexpr passthru::iommu_caps caps{.cache_coherency = true};
#endif
};
using board = passthru::platform<x86_iommu_without_ir, passthru::platforms::x86_intel_ir,
                                 passthru::platforms::pci_bus>;
static_assert(board::assignable);

int main() {}
// expect: interrupt remapping is done by the IOMMU, and this IOMMU cannot remap interrupts
