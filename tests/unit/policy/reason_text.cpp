// policy/reason.hpp: every verdict worded once. A refusal's reason names the component and
// then says exactly what the compile-time check of policy/requirements.hpp prints for it:
// the sentences below are the `// expect:` lines of the compile-fail tests, which hold
// the static_assert messages to the same words.
#include <string_view>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>
#include <passthru/policy/reason.hpp>

using namespace passthru;
using namespace passthru::platforms;

namespace {
bool contains(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }
constexpr std::string_view override_hint = "add the option passthru::allow_unsafe_interrupts";
} // namespace

TEST_CASE("SEMANTICS A13: each refusal's reason is the sentence its static_assert prints") {
    // tests/compile_fail/require_isolated_msi_gicv2m.cpp
    CHECK(arm_smmuv2_gicv2m<>::reason.starts_with("GICv2m: "));
    CHECK(contains(arm_smmuv2_gicv2m<>::reason,
                   "MSI isolation missing: the interrupt controller neither remaps MSIs nor tags "
                   "them with a hardware DeviceID"));
    CHECK(contains(arm_smmuv2_gicv2m<>::reason, override_hint));
    // tests/compile_fail/require_isolated_msi_no_msi_table.cpp
    CHECK(contains(riscv_iommu_imsic<>::reason,
                   "relies on an IOMMU MSI table that validates MSI data, which this IOMMU lacks"));
    CHECK(contains(riscv_iommu_imsic<>::reason, override_hint));
    // tests/compile_fail/require_isolated_msi_bank_unknown.cpp
    CHECK(contains(fsl_pamu_msi<>::reason, "does not recognise exclusive MSI banks (use "
                                           "passthru::rules::exclusive_bank_aware)"));
    CHECK(contains(fsl_pamu_msi<>::reason, override_hint));
    // tests/compile_fail/require_isolated_msi_pre_v4_11.cpp
    using v3_15 = arm_smmuv3_its<pci_bus, rules::linux_v3_15>;
    CHECK(contains(v3_15::reason, "the IOMMU does not report IOMMU_CAP_INTR_REMAP and the MSI "
                                  "domains do not remap"));
    CHECK(contains(v3_15::reason, override_hint));
    // tests/compile_fail/require_isolated_msi_at_attach.cpp
    using bank = fsl_pamu_msi<fsl_mc_bus, rules::exclusive_bank_aware>;
    CHECK(contains(bank::reason, "MSI isolation is decided at attach (exclusive MSI bank): it "
                                 "cannot be proven at compile time"));
    CHECK(contains(bank::reason, "passthru::plan_attach"));
}

TEST_CASE("SEMANTICS A13: an overridden refusal says so instead of how to override it") {
    using unsafe = arm_smmuv2_gicv2m<platform_bus, allow_unsafe_interrupts>;
    CHECK(contains(unsafe::reason, "; attached anyway: the platform sets allow_unsafe_interrupts"));
    CHECK_FALSE(contains(unsafe::reason, override_hint));
}

TEST_CASE("SEMANTICS H.1: the run-time refusals use the same wording and name the controller") {
    attach_facts no_domain;
    no_domain.devices_have_msi_domain = false;
    auto arm = plan_attach<arm_smmuv3_its<platform_bus>>(no_domain);
    REQUIRE_FALSE(arm);
    CHECK(arm.error().reason.starts_with("GICv3 ITS: a device of the group has no MSI irq domain"));
    CHECK(contains(arm.error().reason, override_hint));
    auto shared = plan_attach<fsl_pamu_msi<fsl_mc_bus, rules::exclusive_bank_aware>>();
    REQUIRE_FALSE(shared);
    CHECK(shared.error().reason.starts_with("Freescale MSI bank: the domain's MSI bank is shared"));
}

TEST_CASE("policy/reason.hpp: every cause has words, built in constant evaluation") {
    constexpr reason_names names{"IOMMU X", "IRQ Y", "BUS Z", msi_isolation::remapped};
    static_assert(isolation_reason(isolation_cause::isolating_irq_domain, names).view() ==
                  "IRQ Y isolates MSIs: interrupt remapping");
    static_assert(isolation_reason(isolation_cause::bus_check_skipped, names).view() ==
                  "BUS Z: MSI check skipped for a non-PCI bus (2014 RFC)");
    for (unsigned c = 0; c <= static_cast<unsigned>(isolation_cause::bank_shared); ++c) {
        INFO("cause " << c);
        const auto text = isolation_reason(static_cast<isolation_cause>(c), names);
        CHECK(text.view().size() > 20);
        CHECK(text.view().size() < reason_text::capacity);
    }
}
