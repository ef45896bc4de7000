#pragma once
// The facts each catalog component declares, read from its type, with the SEMANTICS
// rules its header cites: the component tables of docs/platforms.md.
#include <optional>
#include <string_view>
#include <vector>

#include <passthru/platforms/catalog.hpp>

namespace report {

struct iommu_facts {
    std::string_view name;
    std::string_view arch;
    passthru::pgsize_bitmap pgsizes;
    passthru::interval aperture;
    passthru::reserved_region_list reserved; // merged as the IOMMU core does (SEMANTICS G.2)
    passthru::iommu_caps caps;
    std::string_view semantics; // the rules the component's header cites
};

struct irq_facts {
    std::string_view name;
    std::string_view arch;
    passthru::msi_isolation isolation{};
    bool msi_through_iommu = false;
    std::optional<passthru::interval> msi_window;
    bool generic_msi_domains = false;
    bool msi_remap_flag_pre_6_3 = false;
    std::string_view semantics;
};

template <passthru::Iommu I>
iommu_facts facts_of(std::string_view semantics, std::string_view label = I::name) {
    return {label, passthru::to_string(I::arch), I::pgsizes, I::aperture,
            passthru::merge_resv_regions(I::reserved_regions), I::caps, semantics};
}

template <passthru::InterruptController C>
irq_facts facts_of(std::string_view semantics) {
    return {C::name,
            passthru::to_string(C::arch),
            C::caps.isolation,
            C::caps.msi_through_iommu,
            C::caps.msi_window,
            C::caps.generic_msi_domains,
            C::caps.msi_remap_flag_pre_6_3,
            semantics};
}

// "assumed": the catalog's own guess where SEMANTICS says nothing (docs/platforms.md,
// "Known vs assumed").
inline std::vector<iommu_facts> catalog_iommus() {
    using namespace passthru::platforms;
    return {
        facts_of<arm_smmuv3<>>("§I, §1.3, H.3"),
        facts_of<arm_smmuv2<>>("§I, §1.3, H.3"),
        facts_of<intel_vtd<>>("§I, §1.3, A.3, H.3"),
        facts_of<amd_vi<>>("§I, §1.3, A.3, H.3"),
        facts_of<fsl_pamu>("H.6, §I; page size and aperture assumed"),
        facts_of<s390_iommu>("H.2, H.3, §I; page size and aperture assumed"),
        facts_of<riscv_iommu<>>("RISC-V IOMMU spec v1.0, riscv-iommu#646; geometry assumed"),
        facts_of<riscv_iommu<true, true>>("proposed (riscv-iommu#646)",
                                          "RISC-V IOMMU (validating MSI table, proposed)"),
    };
}

inline std::vector<irq_facts> catalog_irqchips() {
    using namespace passthru::platforms;
    return {
        facts_of<gicv3_its>("H.2, H.3"),
        facts_of<gicv3_its_synquacer>("H.2"),
        facts_of<gicv3_no_its>("H.1, H.3"),
        facts_of<gicv2m>("H.2"),
        facts_of<gicv3_mbi>("H.2 [inferred]"),
        facts_of<x86_intel_ir>("H.2, H.3, §1.3"),
        facts_of<x86_amd_ir>("H.2, H.3, §1.3"),
        facts_of<x86_apic_no_ir>("H.2, §1.3"),
        facts_of<fsl_msi>("H.2, H.6; generic MSI domains [inferred]"),
        facts_of<s390_zpci_irq>("H.1, H.2"),
        facts_of<riscv_imsic>("assumed (not in SEMANTICS)"),
    };
}

} // namespace report
