// The run-time half of the attach policy (policy/attach.hpp): what only an instance
// knows, checked in type1's order (SEMANTICS §A) with the compile-time wording.
#include <array>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>

using namespace passthru;
using namespace passthru::platforms;

namespace {
constexpr std::uint64_t top48 = (std::uint64_t{1} << 48) - 1;
}

TEST_CASE("SEMANTICS A13: a non-isolated platform is refused with EPERM and a reason naming the part") {
    auto plan = plan_attach<arm_smmuv2_gicv2m<>>();
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == errc::eperm);
    CHECK(plan.error().reason ==
          "GICv2m: MSI isolation missing: the interrupt controller neither remaps MSIs nor tags "
          "them with a hardware DeviceID; add the option passthru::allow_unsafe_interrupts (or set "
          "type1's allow_unsafe_interrupts) to attach anyway");
    CHECK(plan.error().error_code() == std::errc::operation_not_permitted);
}

TEST_CASE("SEMANTICS A13: allow_unsafe_interrupts at run time or as a type option attaches, flagged unsafe") {
    attach_facts unsafe;
    unsafe.allow_unsafe_interrupts = true;
    auto runtime = plan_attach<x86_vtd_no_ir<>>(unsafe);
    REQUIRE(runtime);
    CHECK(runtime->unsafe_interrupts);
    auto typed = plan_attach<x86_vtd_no_ir<pci_bus, allow_unsafe_interrupts>>();
    REQUIRE(typed);
    CHECK(typed->unsafe_interrupts);
    // An isolated platform is never flagged unsafe, whatever the switch says.
    auto safe = plan_attach<x86_vtd_ir<>>(unsafe);
    REQUIRE(safe);
    CHECK_FALSE(safe->unsafe_interrupts);
}

TEST_CASE("SEMANTICS H.1: under v6.3+ a device without an MSI irq domain falls back to arch_is_isolated_msi") {
    attach_facts no_domain;
    no_domain.devices_have_msi_domain = false;
    // ARM: arch default false → EPERM even behind an ITS.
    auto arm = plan_attach<arm_smmuv3_its<platform_bus>>(no_domain);
    REQUIRE_FALSE(arm);
    CHECK(arm.error().code == errc::eperm);
    CHECK(arm.error().reason.find("arch_is_isolated_msi") != std::string_view::npos);
    // s390: arch default true → isolated.
    auto s390 = plan_attach<s390_zpci<>>(no_domain);
    REQUIRE(s390);
    CHECK_FALSE(s390->unsafe_interrupts);
    // Before v6.3 the check was global, not per device (H.3): the same device passes.
    CHECK(plan_attach<arm_smmuv3_its<platform_bus, rules::linux_v4_11>>(no_domain));
}

TEST_CASE("SEMANTICS H.6: an exclusive MSI bank is decided per domain at attach") {
    using pamu = fsl_pamu_msi<fsl_mc_bus, rules::exclusive_bank_aware>;
    attach_facts exclusive;
    exclusive.msi_bank_exclusive = true;
    auto ok = plan_attach<pamu>(exclusive);
    REQUIRE(ok);
    CHECK_FALSE(ok->unsafe_interrupts);
    CHECK(ok->msi.strategy == msi_strategy::vmm_maps_doorbell);

    auto shared = plan_attach<pamu>();
    REQUIRE_FALSE(shared);
    CHECK(shared.error().code == errc::eperm);
    CHECK(shared.error().reason.find("shared") != std::string_view::npos);

    // The kernel's own rule ignores the bank: refused even when exclusive.
    CHECK(plan_attach<fsl_pamu_msi<>>(exclusive).error().code == errc::eperm);
}

TEST_CASE("SEMANTICS A.1: usable IOVA is the aperture minus every non-relaxable reserved region") {
    SECTION("VT-d: the MSI window [0xFEE00000, 0xFEEFFFFF] is cut out (SEMANTICS N)") {
        auto plan = plan_attach<x86_vtd_ir<>>();
        REQUIRE(plan);
        CHECK(plan->usable == interval_list{{0, 0xFEDF'FFFF}, {0xFEF0'0000, top48}});
        CHECK(plan->msi.strategy == msi_strategy::hw_window);
    }
    SECTION("AMD-Vi: the MSI window and the HyperTransport range") {
        auto plan = plan_attach<x86_amdvi_ir<>>();
        REQUIRE(plan);
        CHECK(plan->usable == interval_list{{0, 0xFEDF'FFFF},
                                            {0xFEF0'0000, 0xFC'FFFF'FFFF},
                                            {0x100'0000'0000, ~std::uint64_t{0}}});
    }
    SECTION("SMMUv3: the SW_MSI window, with an MSI cookie at its base (A12)") {
        auto plan = plan_attach<arm_smmuv3_its<>>();
        REQUIRE(plan);
        CHECK(plan->usable == interval_list{{0, 0x7FF'FFFF}, {0x810'0000, top48}});
        CHECK(plan->msi == msi_setup{msi_strategy::sw_msi_cookie, 0x800'0000});
    }
}

TEST_CASE("SEMANTICS §I: VT-d RMRRs from firmware: USB/graphics ones are relaxable, others reserve IOVA") {
    const std::array firmware{
        intel_rmrr({0x7000'0000, 0x700F'FFFF}, rmrr_device::usb),
        intel_rmrr({0x8000'0000, 0x8000'FFFF}, rmrr_device::other),
        intel_isa_bridge_region,
    };
    attach_facts f;
    f.firmware_regions = firmware;
    auto plan = plan_attach<x86_vtd_ir<>>(f);
    REQUIRE(plan);
    CHECK(firmware[0].type == resv_type::direct_relaxable);
    CHECK(firmware[1].type == resv_type::direct);
    CHECK(firmware[2] == reserved_region{{0, 0xFF'FFFF}, resv_type::direct_relaxable,
                                         prot::read | prot::write});
    // Only the DIRECT RMRR and the MSI window leave holes (A.1 step 3).
    CHECK(plan->usable == interval_list{{0, 0x7FFF'FFFF},
                                        {0x8001'0000, 0xFEDF'FFFF},
                                        {0xFEF0'0000, top48}});
    // All regions are reported, merged and sorted by (start, type) (G.2).
    REQUIRE(plan->reserved.size() == 4);
    CHECK(plan->reserved[0].range.first == 0);
    CHECK(plan->reserved[3].type == resv_type::msi);
}

TEST_CASE("SEMANTICS A12: an IORT ITS hardware MSI region wins over the SW_MSI window: no cookie") {
    const std::array firmware{iort_its_hw_msi({0x2F02'0000, 0x2F02'FFFF})};
    attach_facts f;
    f.firmware_regions = firmware;
    auto plan = plan_attach<arm_smmuv3_its<>>(f);
    REQUIRE(plan);
    CHECK(plan->msi == msi_setup{msi_strategy::hw_window, std::nullopt});
    // Both windows still leave the usable space (H.5).
    CHECK(plan->usable == interval_list{{0, 0x7FF'FFFF},
                                        {0x810'0000, 0x2F01'FFFF},
                                        {0x2F03'0000, top48}});
}

TEST_CASE("SEMANTICS A11: reserved regions that cover the aperture leave nothing usable: EINVAL") {
    const std::array firmware{iort_rmr({0, top48}, false)};
    attach_facts f;
    f.firmware_regions = firmware;
    auto plan = plan_attach<arm_smmuv3_its<>>(f);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == errc::einval);
    // Relaxable ones do not count (A.1 step 3).
    const std::array relaxable{iort_rmr({0, top48}, true)};
    f.firmware_regions = relaxable;
    CHECK(plan_attach<arm_smmuv3_its<>>(f));
}

TEST_CASE("SEMANTICS A: the IOVA checks (A11) run before the MSI check (A13)") {
    // A GICv2m board with no usable IOVA: EINVAL, not EPERM.
    const std::array firmware{iort_rmr({0, top48}, false)};
    attach_facts f;
    f.firmware_regions = firmware;
    auto plan = plan_attach<arm_smmuv2_gicv2m<>>(f);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == errc::einval);
}

TEST_CASE("SEMANTICS A.3: an incoherent IOMMU is refused (EINVAL) before anything else, and mappings carry CACHE") {
    using incoherent = platform<arm_smmuv3<4 * KiB, 48, false>, gicv3_its, pci_bus>;
    static_assert(!incoherent::cache_coherent && !incoherent::assignable);
    attach_facts unsafe;
    unsafe.allow_unsafe_interrupts = true;
    auto plan = plan_attach<incoherent>(unsafe);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == errc::einval);

    auto ok = plan_attach<x86_vtd_ir<>>();
    REQUIRE(ok);
    CHECK(ok->map_prot == prot::cache);
    CHECK(ok->enforce_cache_coherency);                  // VT-d with snoop control
    CHECK_FALSE(plan_attach<arm_smmuv3_its<>>()->enforce_cache_coherency); // no CANWBS
    CHECK(plan_attach<platform<arm_smmuv3<4 * KiB, 48, true, true>, gicv3_its, pci_bus>>()
              ->enforce_cache_coherency);
}

TEST_CASE("SEMANTICS §I: an instance aperture narrower than the type's (39-bit VT-d)") {
    attach_facts f;
    f.aperture = interval{0, (std::uint64_t{1} << 39) - 1};
    auto plan = plan_attach<x86_vtd_ir<>>(f);
    REQUIRE(plan);
    CHECK(plan->usable.back() == interval{0xFEF0'0000, 0x7F'FFFF'FFFF});
}

TEST_CASE("SEMANTICS A11: the error names the reserved region that leaves no usable IOVA") {
    // One direct RMR over everything, beside the SW_MSI window.
    const std::array firmware{iort_rmr({0, top48}, false)};
    attach_facts f;
    f.firmware_regions = firmware;
    auto plan = plan_attach<arm_smmuv3_its<>>(f);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == errc::einval);
    REQUIRE(plan.error().range);
    CHECK(*plan.error().range == interval{0, top48});
    CHECK(plan.error().reason.find("direct-mapped") != std::string_view::npos);
    CHECK(message(plan.error()).ends_with("[0x0, 0xffffffffffff]"));

    // Several regions together (of different kinds, so they stay apart): the one covering
    // most of the aperture is named.
    const std::array pieces{amd_ivmd_unity({0, 0x7F'FFFF'FFFF}, prot::read | prot::write),
                            amd_ivmd_exclusion({0x80'0000'0000, top48})};
    attach_facts g;
    g.firmware_regions = pieces;
    g.aperture = interval{0, top48};
    auto amd = plan_attach<x86_amdvi_ir<>>(g);
    REQUIRE_FALSE(amd);
    REQUIRE(amd.error().range);
    CHECK(*amd.error().range == interval{0x80'0000'0000, top48});
    CHECK(amd.error().reason.find("reserved region") != std::string_view::npos);
}

TEST_CASE("attach_facts: a reversed aperture or firmware region is EINVAL, not an empty set") {
    attach_facts f;
    f.aperture = interval{0x1000, 0xFFF};
    auto aperture = plan_attach<x86_vtd_ir<>>(f);
    REQUIRE_FALSE(aperture);
    CHECK(aperture.error().code == errc::einval);
    CHECK(aperture.error().range == interval{0x1000, 0xFFF});

    const std::array firmware{intel_rmrr({0x8000'0000, 0x7000'0000}, rmrr_device::other)};
    attach_facts g;
    g.firmware_regions = firmware;
    auto region = plan_attach<x86_vtd_ir<>>(g);
    REQUIRE_FALSE(region);
    CHECK(region.error().code == errc::einval);
    CHECK(region.error().range == interval{0x8000'0000, 0x7000'0000});
    CHECK(region.error().reason.find("firmware reserved region") != std::string_view::npos);
}
