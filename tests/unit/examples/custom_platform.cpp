// docs/add-your-own-platform.md shows examples/custom_platform/acme.hpp and claims what
// passthru makes of it; this file checks every one of those claims, so the doc cannot
// rot. Expected values are worked out by hand from the header's facts and SEMANTICS.
#include <array>
#include <string_view>

#include <catch2/catch.hpp>

#include <passthru/platforms/bus/buses.hpp>
#include <passthru/policy/attach.hpp>
#include <passthru/policy/requirements.hpp>

#include "custom_platform/acme.hpp"
#include "report/catalog_rows.hpp"
#include "report/format.hpp"

namespace pt = passthru;
using pt::interval_list;
using pt::msi_verdict;
using pt::platforms::pci_bus;
using pt::platforms::platform_bus;
using acme_pci = acme::board<pci_bus>;

// Compile time: the verdict, its reason and the IOVA layout (docs: "What you get").
static_assert(pt::require_assignable<acme_pci>());
static_assert(acme_pci::verdict == msi_verdict::isolated);   // SEMANTICS H.1
static_assert(acme_pci::decision == pt::attach_decision::allow);
static_assert(acme_pci::reason == "ACME doorbell isolates MSIs: DeviceID translation");
// 40-bit aperture minus the SW_MSI window and the mailbox (SEMANTICS §A.1).
static_assert(acme_pci::usable_iova_ranges() ==
              interval_list{{0x0, 0xFFFFFFF}, {0x10100000, 0xEFFFFFFF}, {0xF0100000, 0xFFFFFFFFFF}});
// SEMANTICS A12: the SW_MSI region's start becomes the MSI cookie.
static_assert(acme_pci::msi == pt::msi_setup{pt::msi_strategy::sw_msi_cookie, 0x10000000});
// Bus-invariant, as for every catalog platform (DESIGN "The one idea").
static_assert(acme::board<platform_bus>::verdict == acme_pci::verdict);
// Older kernels: the MSI_REMAP flag made v4.11-v6.2 agree (H.3); v3.15 only knew the
// IOMMU's INTR_REMAP capability, which this IOMMU does not report.
static_assert(acme::board<pci_bus, pt::rules::linux_v4_11>::verdict == msi_verdict::isolated);
static_assert(acme::board<pci_bus, pt::rules::linux_v3_15>::verdict == msi_verdict::not_isolated);

TEST_CASE("custom platform (docs/add-your-own-platform.md): plan_attach at run time") {
    SECTION("no firmware facts: the compile-time layout") {
        const auto plan = pt::plan_attach<acme_pci>();
        REQUIRE(plan);
        CHECK_FALSE(plan->unsafe_interrupts);
        CHECK(plan->usable == interval_list{{0x0, 0xFFFFFFF},
                                            {0x10100000, 0xEFFFFFFF},
                                            {0xF0100000, 0xFFFFFFFFFF}});
        CHECK(plan->msi.cookie_base == 0x10000000);
        CHECK(plan->map_prot == pt::prot::cache); // A.3
    }
    SECTION("a firmware DIRECT region removes IOVA, a relaxable one does not (A10, A.1)") {
        const std::array firmware{
            pt::reserved_region{{0x8000'0000, 0x800F'FFFF}, pt::resv_type::direct, pt::prot_rw},
            pt::reserved_region{{0x2000'0000, 0x2FFF'FFFF}, pt::resv_type::direct_relaxable,
                                pt::prot_rw}};
        const auto plan = pt::plan_attach<acme_pci>({.firmware_regions = firmware});
        REQUIRE(plan);
        CHECK(plan->usable == interval_list{{0x0, 0xFFFFFFF},
                                            {0x10100000, 0x7FFFFFFF},
                                            {0x80100000, 0xEFFFFFFF},
                                            {0xF0100000, 0xFFFFFFFFFF}});
    }
    SECTION("a device without an MSI irq domain is refused under v6.3+ (H.1)") {
        const auto plan = pt::plan_attach<acme_pci>({.devices_have_msi_domain = false});
        REQUIRE_FALSE(plan);
        CHECK(plan.error().code == pt::errc::eperm);
        const auto unsafe = pt::plan_attach<acme_pci>(
            {.allow_unsafe_interrupts = true, .devices_have_msi_domain = false});
        REQUIRE(unsafe);
        CHECK(unsafe->unsafe_interrupts);
    }
}

TEST_CASE("custom platform (docs/add-your-own-platform.md): the report formats it too") {
    const report::platform_row row = report::make_row<acme::iommu, acme::msi_controller>();
    CHECK(report::pgsizes(row.pgsizes) == "4K|2M");
    CHECK(report::msi_setup(row.msi) == "SW_MSI cookie at 0x10000000");
    CHECK(report::ranges(row.usable) ==
          "[0x0, 0xFFFFFFF] [0x10100000, 0xEFFFFFFF] [0xF0100000, 0xFFFFFFFFFF]");
    CHECK(row.v3_15.verdict == msi_verdict::not_isolated);
}
