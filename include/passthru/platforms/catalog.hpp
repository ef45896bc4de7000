#pragma once
// The platform catalog: every component, and ready-made platforms for the common
// pairings. A platform is nothing but a type instantiation; add your own the same way
// (docs/add-your-own-platform.md).
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

template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv3_its = platform<platforms::arm_smmuv3<>, platforms::gicv3_its, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv3_gicv2m = platform<platforms::arm_smmuv3<>, platforms::gicv2m, Bus, Options...>;
template <class Bus = platforms::platform_bus, class... Options>
using arm_smmuv2_gicv2m = platform<platforms::arm_smmuv2<>, platforms::gicv2m, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using arm_smmuv2_its = platform<platforms::arm_smmuv2<>, platforms::gicv3_its, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_vtd_ir = platform<platforms::intel_vtd<>, platforms::x86_intel_ir, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_vtd_no_ir = platform<platforms::intel_vtd<>, platforms::x86_apic_no_ir, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using x86_amdvi_ir = platform<platforms::amd_vi<>, platforms::x86_amd_ir, Bus, Options...>;
template <class Bus = platforms::fsl_mc_bus, class... Options>
using fsl_pamu_msi = platform<platforms::fsl_pamu, platforms::fsl_msi, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using s390_zpci = platform<platforms::s390_iommu, platforms::s390_zpci_irq, Bus, Options...>;
template <class Bus = platforms::pci_bus, class... Options>
using riscv_iommu_imsic = platform<platforms::riscv_iommu<>, platforms::riscv_imsic, Bus, Options...>;

} // namespace passthru
