#pragma once
// The platform catalog: every component, and ready-made platforms for the common
// pairings. A platform is nothing but a type instantiation; add your own the same way
// (docs/add-your-own-platform.md).
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include <passthru/platforms/bus/buses.hpp>
#include <passthru/platforms/iommu/amd_vi.hpp>
#include <passthru/platforms/iommu/arm_smmu.hpp>
#include <passthru/platforms/iommu/fsl_pamu.hpp>
#include <passthru/platforms/iommu/intel_vtd.hpp>
#include <passthru/platforms/iommu/riscv_iommu.hpp>
#include <passthru/platforms/iommu/s390_iommu.hpp>
#include <passthru/platforms/irq/arm_gic.hpp>
#include <passthru/platforms/irq/fsl_msi.hpp>
#include <passthru/platforms/irq/riscv_imsic.hpp>
#include <passthru/platforms/irq/s390_irq.hpp>
#include <passthru/platforms/irq/x86.hpp>
#include <passthru/policy/platform.hpp>

namespace passthru {

namespace detail {
// A catalog alias's platform: the default IOMMU unless an Iommu type is among the options,
// in which case that instance replaces it (its address width, snoop control, granule...).
template <class DefaultIommu, class Irq, class Bus, class... Options>
struct catalog_platform {
    static constexpr std::size_t given() noexcept {
        constexpr bool is_iommu[] = {Iommu<Options>..., false};
        for (std::size_t i = 0; i < sizeof...(Options); ++i)
            if (is_iommu[i]) return i;
        return sizeof...(Options);
    }
    using iommu = std::tuple_element_t<given(), std::tuple<Options..., DefaultIommu>>;
    template <class Tuple>
    struct apply;
    template <class... Rest>
    struct apply<std::tuple<Rest...>> {
        using type = platform<iommu, Irq, Bus, Rest...>;
    };
    using others = decltype(std::tuple_cat(
        std::declval<std::conditional_t<Iommu<Options>, std::tuple<>, std::tuple<Options>>>()...));
    using type = typename apply<others>::type;
};
} // namespace detail

// Ready-made platforms: `alias<Bus, Options...>`. An Iommu among the options replaces the
// alias's default instance, e.g. QEMU's default VT-d (39-bit, no snoop control):
//     x86_vtd_ir<platforms::pci_bus, platforms::intel_vtd<39, false>>
template <class DefaultIommu, class Irq, class Bus, class... Options>
using catalog_platform = typename detail::catalog_platform<DefaultIommu, Irq, Bus, Options...>::type;

template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv3_its = catalog_platform<platforms::arm_smmuv3<>, platforms::gicv3_its, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv3_gicv2m = catalog_platform<platforms::arm_smmuv3<>, platforms::gicv2m, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv3_gicv3_no_its =
    catalog_platform<platforms::arm_smmuv3<>, platforms::gicv3_no_its, Bus, Options...>;
template <class Bus = platforms::platform_bus, class... Options>
using arm_smmuv2_gicv2m = catalog_platform<platforms::arm_smmuv2<>, platforms::gicv2m, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv2_its = catalog_platform<platforms::arm_smmuv2<>, platforms::gicv3_its, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_vtd_ir = catalog_platform<platforms::intel_vtd<>, platforms::x86_intel_ir, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_vtd_no_ir = catalog_platform<platforms::intel_vtd<>, platforms::x86_apic_no_ir, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_amdvi_ir = catalog_platform<platforms::amd_vi<>, platforms::x86_amd_ir, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_amdvi_no_ir = catalog_platform<platforms::amd_vi<>, platforms::x86_apic_no_ir, Bus, Options...>;
template <class Bus = platforms::fsl_mc_bus, class... Options>
using fsl_pamu_msi = catalog_platform<platforms::fsl_pamu, platforms::fsl_msi, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using s390_zpci = catalog_platform<platforms::s390_iommu, platforms::s390_zpci_irq, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using riscv_iommu_imsic =
    catalog_platform<platforms::riscv_iommu<>, platforms::riscv_imsic, Bus, Options...>;

} // namespace passthru
