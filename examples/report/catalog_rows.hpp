#pragma once
// The report's rows: one per platform the catalog offers, i.e. every pairing of a
// catalog IOMMU with a catalog interrupt controller of the same architecture (the
// pairings tests/unit/policy/verdict_matrix.cpp checks), with what every kernel rule
// decides. Everything in a row is read from platform<...>; nothing is restated here.
#include <string_view>
#include <vector>

#include <passthru/platforms/catalog.hpp>

namespace report {

// Verdicts are asked of a PCI device. Every rule but the 2014 RFC is bus-invariant
// (DESIGN "The one idea", checked by verdict_matrix.cpp), so the bus only matters there.
using report_bus = passthru::platforms::pci_bus;

// What one kernel rule set concludes (policy/kernel_rules.hpp, SEMANTICS H.1, H.3).
struct rule_result {
    passthru::msi_verdict verdict{};
    std::string_view reason; // platform<...>::reason under that rule
};

template <class P>
constexpr rule_result result_of() {
    return {P::verdict, P::reason};
}

struct platform_row {
    std::string_view arch;
    std::string_view iommu; // the IOMMU's name, or a label for a non-default variant
    std::string_view irq;
    rule_result v6_3, v4_11, v3_15;
    rule_result rfc_2014_pci, rfc_2014_platform; // the one bus-dependent rule
    rule_result exclusive_bank_aware;
    // Under the current rule with no options (SEMANTICS A13).
    passthru::attach_decision decision{};
    passthru::msi_setup msi;         // SEMANTICS A12
    passthru::pgsize_bitmap pgsizes; // SEMANTICS §I
    passthru::interval aperture;     // SEMANTICS §I
    passthru::interval_list usable;  // SEMANTICS §A.1
};

template <passthru::Iommu I, passthru::InterruptController C>
platform_row make_row(std::string_view iommu_label = I::name) {
    namespace pt = passthru;
    using pt::platform;
    using pt::platforms::pci_bus;
    using pt::platforms::platform_bus;
    using current = platform<I, C, report_bus>;
    return {
        .arch = pt::to_string(I::arch),
        .iommu = iommu_label,
        .irq = C::name,
        .v6_3 = result_of<current>(),
        .v4_11 = result_of<platform<I, C, report_bus, pt::rules::linux_v4_11>>(),
        .v3_15 = result_of<platform<I, C, report_bus, pt::rules::linux_v3_15>>(),
        .rfc_2014_pci = result_of<platform<I, C, pci_bus, pt::rules::rfc_2014>>(),
        .rfc_2014_platform = result_of<platform<I, C, platform_bus, pt::rules::rfc_2014>>(),
        .exclusive_bank_aware =
            result_of<platform<I, C, report_bus, pt::rules::exclusive_bank_aware>>(),
        .decision = current::decision,
        .msi = current::msi,
        .pgsizes = I::pgsizes,
        .aperture = I::aperture,
        .usable = current::usable_iova_ranges(),
    };
}

// Every catalog pairing, grouped by architecture, plus the RISC-V IOMMU without an MSI
// table (a template variant whose verdict differs, so it earns a row of its own).
inline std::vector<platform_row> catalog_rows() {
    using namespace passthru::platforms;
    return {
        make_row<arm_smmuv3<>, gicv3_its>(),
        make_row<arm_smmuv3<>, gicv3_its_synquacer>(),
        make_row<arm_smmuv3<>, gicv3_no_its>(),
        make_row<arm_smmuv3<>, gicv2m>(),
        make_row<arm_smmuv3<>, gicv3_mbi>(),
        make_row<arm_smmuv2<>, gicv3_its>(),
        make_row<arm_smmuv2<>, gicv3_its_synquacer>(),
        make_row<arm_smmuv2<>, gicv3_no_its>(),
        make_row<arm_smmuv2<>, gicv2m>(),
        make_row<arm_smmuv2<>, gicv3_mbi>(),
        make_row<intel_vtd<>, x86_intel_ir>(),
        make_row<intel_vtd<>, x86_apic_no_ir>(),
        make_row<amd_vi<>, x86_amd_ir>(),
        make_row<amd_vi<>, x86_apic_no_ir>(),
        make_row<fsl_pamu, fsl_msi>(),
        make_row<s390_iommu, s390_zpci_irq>(),
        make_row<riscv_iommu<>, riscv_imsic>(),
        make_row<riscv_iommu<true, true>, riscv_imsic>("RISC-V IOMMU (validating MSI table, proposed)"),
    };
}

} // namespace report
