// The verdict matrix: every catalog IOMMU x interrupt controller (of one architecture)
// x bus x option x kernel rule set. The expected table is written out by hand from
// SEMANTICS §H (H.1-H.3, H.6) and §I; it is not computed by the code under test.
#include <string_view>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>

using namespace passthru;
using namespace passthru::platforms;

namespace {

constexpr msi_verdict I = msi_verdict::isolated;
constexpr msi_verdict N = msi_verdict::not_isolated;
constexpr msi_verdict R = msi_verdict::runtime;

struct row {
    std::string_view iommu, irq;
    // v6.3+, v4.11-v6.2, v3.15-v4.10, 2014 RFC on PCI, 2014 RFC on other buses,
    // v6.3 + exclusive banks
    msi_verdict v6_3, v4_11, v3_15, rfc_pci, rfc_other, bank_aware;
};

// SEMANTICS H.2 (who isolates), H.3 (pre-6.3: global MSI_REMAP check, vacuous without MSI
// domains, OR the IOMMU's INTR_REMAP cap), H.6 (fsl_msi: no flag; PAMU: no cap).
const std::vector<row> expected = {
    //  IOMMU                 interrupt controller               6.3 4.11 3.15 rfcP rfcO bank
    {"ARM SMMUv3", "GICv3 ITS",                                  I, I, N, N, I, I},
    {"ARM SMMUv3", "GICv3 ITS (SynQuacer pre-ITS)",              N, N, N, N, I, N},
    {"ARM SMMUv3", "GICv3 (no ITS)",                             N, I, N, N, I, N},
    {"ARM SMMUv3", "GICv2m",                                     N, N, N, N, I, N},
    {"ARM SMMUv3", "GICv3 MBI",                                  N, N, N, N, I, N},
    {"ARM SMMUv2/MMU-500", "GICv3 ITS",                          I, I, N, N, I, I},
    {"ARM SMMUv2/MMU-500", "GICv3 ITS (SynQuacer pre-ITS)",      N, N, N, N, I, N},
    {"ARM SMMUv2/MMU-500", "GICv3 (no ITS)",                     N, I, N, N, I, N},
    {"ARM SMMUv2/MMU-500", "GICv2m",                             N, N, N, N, I, N},
    {"ARM SMMUv2/MMU-500", "GICv3 MBI",                          N, N, N, N, I, N},
    {"Intel VT-d", "Intel interrupt remapping",                  I, I, I, I, I, I},
    {"Intel VT-d", "x86 APIC (no interrupt remapping)",          N, N, N, N, I, N},
    {"AMD-Vi", "AMD-Vi interrupt remapping",                     I, I, I, I, I, I},
    {"AMD-Vi", "x86 APIC (no interrupt remapping)",              N, N, N, N, I, N},
    {"Freescale PAMU", "Freescale MSI bank",                     N, I, N, N, I, R},
    {"s390 zPCI IOMMU", "s390 zPCI adapter interrupts",          I, I, I, I, I, I},
    // v1.0: the MSI table redirects addresses but validates nothing (riscv-iommu#646).
    {"RISC-V IOMMU", "RISC-V IMSIC",                             N, N, N, N, I, N},
};
// A RISC-V IOMMU whose MSI table validates MSI data (the proposal of riscv-iommu#646),
// and one with no MSI table at all, named separately from the catalog row above.
const row riscv_validating = {"RISC-V IOMMU", "RISC-V IMSIC", I, N, N, N, I, I};
const row riscv_no_msi_table = {"RISC-V IOMMU", "RISC-V IMSIC", N, N, N, N, I, N};

template <class Iommu, class Irq>
struct pair {
    using iommu = Iommu;
    using irq = Irq;
};

using catalog_pairs = std::tuple<
    pair<arm_smmuv3<>, gicv3_its>, pair<arm_smmuv3<>, gicv3_its_synquacer>,
    pair<arm_smmuv3<>, gicv3_no_its>, pair<arm_smmuv3<>, gicv2m>, pair<arm_smmuv3<>, gicv3_mbi>,
    pair<arm_smmuv2<>, gicv3_its>, pair<arm_smmuv2<>, gicv3_its_synquacer>,
    pair<arm_smmuv2<>, gicv3_no_its>, pair<arm_smmuv2<>, gicv2m>, pair<arm_smmuv2<>, gicv3_mbi>,
    pair<intel_vtd<>, x86_intel_ir>, pair<intel_vtd<>, x86_apic_no_ir>,
    pair<amd_vi<>, x86_amd_ir>, pair<amd_vi<>, x86_apic_no_ir>, pair<fsl_pamu, fsl_msi>,
    pair<s390_iommu, s390_zpci_irq>, pair<riscv_iommu<>, riscv_imsic>>;

using buses = std::tuple<pci_bus, platform_bus, fsl_mc_bus>;

const row& row_for(std::string_view iommu, std::string_view irq) {
    for (const row& r : expected)
        if (r.iommu == iommu && r.irq == irq) return r;
    FAIL("no expected row for " << iommu << " + " << irq);
    return expected.front();
}

attach_decision decision_for(msi_verdict v, bool unsafe_option) {
    if (v == I) return attach_decision::allow;
    if (unsafe_option) return attach_decision::allow_unsafe;
    return v == R ? attach_decision::at_attach : attach_decision::refuse;
}

template <class Iommu, class Irq, class Bus>
void check_bus(const row& r) {
    const bool pci = Bus::kind == bus_kind::pci;
    INFO(Iommu::name << " + " << Irq::name << " on " << Bus::name);
    CHECK(platform<Iommu, Irq, Bus>::verdict == r.v6_3);
    CHECK(platform<Iommu, Irq, Bus, rules::linux_v6_3>::verdict == r.v6_3);
    CHECK(platform<Iommu, Irq, Bus, rules::linux_v4_11>::verdict == r.v4_11);
    CHECK(platform<Iommu, Irq, Bus, rules::linux_v3_15>::verdict == r.v3_15);
    CHECK(platform<Iommu, Irq, Bus, rules::rfc_2014>::verdict == (pci ? r.rfc_pci : r.rfc_other));
    CHECK(platform<Iommu, Irq, Bus, rules::exclusive_bank_aware>::verdict == r.bank_aware);

    // The option only turns a refusal into an unsafe attach; it never changes a verdict.
    CHECK(platform<Iommu, Irq, Bus>::decision == decision_for(r.v6_3, false));
    CHECK(platform<Iommu, Irq, Bus, allow_unsafe_interrupts>::decision == decision_for(r.v6_3, true));
    CHECK(platform<Iommu, Irq, Bus, allow_unsafe_interrupts>::verdict == r.v6_3);
    CHECK(platform<Iommu, Irq, Bus, rules::linux_v3_15, allow_unsafe_interrupts>::decision ==
          decision_for(r.v3_15, true));
    CHECK(platform<Iommu, Irq, Bus, allow_unsafe_interrupts, rules::exclusive_bank_aware>::decision ==
          decision_for(r.bank_aware, true));
}

template <class Pair>
void check_pair(const row& r) {
    std::apply([&](auto... bus) {
        (check_bus<typename Pair::iommu, typename Pair::irq, decltype(bus)>(r), ...);
    }, buses{});
}

template <class Rule, class Iommu, class Irq>
constexpr bool bus_invariant() {
    constexpr auto v = Rule::template decide<Iommu, Irq, pci_bus>();
    return v == Rule::template decide<Iommu, Irq, platform_bus>() &&
           v == Rule::template decide<Iommu, Irq, fsl_mc_bus>();
}

} // namespace

TEST_CASE("SEMANTICS H.3: verdict matrix over catalog x bus x option x kernel rule set") {
    std::size_t checked = 0;
    std::apply([&](auto... p) {
        ((check_pair<decltype(p)>(row_for(decltype(p)::iommu::name, decltype(p)::irq::name)),
          ++checked), ...);
    }, catalog_pairs{});
    CHECK(checked == expected.size());

    // Only an MSI table that validates MSI data isolates IMSIC writes.
    check_bus<riscv_iommu<true, true>, riscv_imsic, pci_bus>(riscv_validating);
    check_bus<riscv_iommu<true, true>, riscv_imsic, platform_bus>(riscv_validating);
    check_bus<riscv_iommu<false>, riscv_imsic, pci_bus>(riscv_no_msi_table);
    check_bus<riscv_iommu<false>, riscv_imsic, platform_bus>(riscv_no_msi_table);
}

TEST_CASE("DESIGN one idea: every rule but the 2014 RFC gives a bus-invariant verdict") {
    auto all_invariant = []<class Rule>(Rule) {
        return std::apply([](auto... p) {
            return (bus_invariant<Rule, typename decltype(p)::iommu, typename decltype(p)::irq>() && ...);
        }, catalog_pairs{});
    };
    CHECK(all_invariant(rules::linux_v6_3{}));
    CHECK(all_invariant(rules::linux_v4_11{}));
    CHECK(all_invariant(rules::linux_v3_15{}));
    CHECK(all_invariant(rules::exclusive_bank_aware{}));
    CHECK_FALSE(all_invariant(rules::rfc_2014{}));
    static_assert(bus_invariant<rules::current, arm_smmuv2<>, gicv2m>());
    static_assert(!bus_invariant<rules::rfc_2014, arm_smmuv2<>, gicv2m>());
}

TEST_CASE("SEMANTICS H.2: the 2014 RFC rule admits a platform device on SMMU + GICv2m") {
    using rfc_platform_dev = platform<arm_smmuv2<>, gicv2m, platform_bus, rules::rfc_2014>;
    using rfc_pci_dev = platform<arm_smmuv2<>, gicv2m, pci_bus, rules::rfc_2014>;
    static_assert(rfc_platform_dev::decision == attach_decision::allow);
    static_assert(rfc_platform_dev::isolation.cause == isolation_cause::bus_check_skipped);
    static_assert(rfc_pci_dev::decision == attach_decision::refuse);
    // The same hardware under the current rule: refused whatever the bus.
    static_assert(platform<arm_smmuv2<>, gicv2m, platform_bus>::decision == attach_decision::refuse);
    CHECK(rfc_platform_dev::decision == attach_decision::allow);
    CHECK(platform<arm_smmuv2<>, gicv2m, platform_bus>::decision == attach_decision::refuse);
}

TEST_CASE("Catalog aliases: ARM SMMUv3 + ITS and x86 VT-d with IR are safe, GICv2m and no-IR are not") {
    static_assert(arm_smmuv3_its<>::assignable && arm_smmuv3_its<platform_bus>::assignable);
    static_assert(x86_vtd_ir<>::assignable && x86_amdvi_ir<>::assignable);
    static_assert(!x86_vtd_no_ir<>::assignable && !arm_smmuv2_gicv2m<>::assignable);
    static_assert(x86_vtd_no_ir<pci_bus, allow_unsafe_interrupts>::assignable);
    static_assert(s390_zpci<>::assignable && !riscv_iommu_imsic<>::assignable);
    static_assert(!fsl_pamu_msi<>::assignable);
    static_assert(fsl_pamu_msi<fsl_mc_bus, rules::exclusive_bank_aware>::decision ==
                  attach_decision::at_attach);
    // The reason names the component, then says what the compile-time check says
    // (policy/reason.hpp, tests/unit/policy/reason_text.cpp).
    CHECK(arm_smmuv2_gicv2m<>::reason ==
          "GICv2m: MSI isolation missing: the interrupt controller neither remaps MSIs nor tags "
          "them with a hardware DeviceID; add the option passthru::allow_unsafe_interrupts (or "
          "set type1's allow_unsafe_interrupts) to attach anyway");
    CHECK(arm_smmuv3_its<>::reason == "GICv3 ITS isolates MSIs: DeviceID translation");
    // Once the option is set, the reason says the refusal was overridden.
    CHECK(arm_smmuv2_gicv2m<platform_bus, allow_unsafe_interrupts>::reason ==
          "GICv2m: MSI isolation missing: the interrupt controller neither remaps MSIs nor tags "
          "them with a hardware DeviceID; attached anyway: the platform sets "
          "allow_unsafe_interrupts");
    CHECK(platform<arm_smmuv3<>, gicv3_its, pci_bus, rules::linux_v3_15>::reason ==
          "ARM SMMUv3 with GICv3 ITS: MSI isolation missing: the IOMMU does not report "
          "IOMMU_CAP_INTR_REMAP and the MSI domains do not remap under the selected kernel rule; "
          "add the option passthru::allow_unsafe_interrupts (or set type1's "
          "allow_unsafe_interrupts) to attach anyway");
    CHECK(platform<riscv_iommu<>, riscv_imsic, pci_bus>::reason ==
          "RISC-V IMSIC with RISC-V IOMMU: MSI isolation missing: the interrupt controller "
          "relies on an IOMMU MSI table that validates MSI data, which this IOMMU lacks; add the "
          "option passthru::allow_unsafe_interrupts (or set type1's allow_unsafe_interrupts) to "
          "attach anyway");
}
