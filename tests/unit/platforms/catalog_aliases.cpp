// The catalog's ready-made platforms take the IOMMU instance a board has (issue #6 §3):
// QEMU's default VT-d is 39-bit without snoop control, so VFIO_DMA_CC_IOMMU is 0 there.
// And a platform's usable IOVA list as a compile-time array.
#include <type_traits>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>

using namespace passthru;
using namespace passthru::platforms;

namespace {
using qemu_vtd = intel_vtd<39, false>;
using qemu_board = x86_vtd_ir<pci_bus, qemu_vtd>;
constexpr std::uint64_t top39 = (std::uint64_t{1} << 39) - 1;
constexpr std::uint64_t top48 = (std::uint64_t{1} << 48) - 1;
} // namespace

static_assert(std::is_same_v<qemu_board::iommu, qemu_vtd>);
static_assert(std::is_same_v<x86_vtd_ir<>::iommu, intel_vtd<>>);
static_assert(std::is_same_v<x86_vtd_ir<>, platform<intel_vtd<>, x86_intel_ir, pci_bus>>);
static_assert(!qemu_board::dma_cc_iommu && x86_vtd_ir<>::dma_cc_iommu); // SEMANTICS A.3
static_assert(qemu_board::usable_iova.back() == interval{0xFEF0'0000, top39});
// The IOMMU may come anywhere among the options, with the others kept.
using qemu_unsafe = x86_vtd_no_ir<pci_bus, allow_unsafe_interrupts, qemu_vtd>;
static_assert(std::is_same_v<qemu_unsafe::iommu, qemu_vtd> && qemu_unsafe::allows_unsafe_interrupts);
static_assert(std::is_same_v<x86_vtd_ir<pci_bus, rules::linux_v4_11, qemu_vtd>::rule,
                             rules::linux_v4_11>);
// An SMMUv3 with a 16K granule and 44-bit IOVA.
using smmu16 = arm_smmuv3_its<pci_bus, arm_smmuv3<16 * KiB, 44>>;
static_assert(smmu16::usable_iova.back().last == (std::uint64_t{1} << 44) - 1);
// The missing pairing, and AMD-Vi without IR.
static_assert(arm_smmuv3_gicv3_no_its<>::decision == attach_decision::refuse);
static_assert(std::is_same_v<arm_smmuv3_gicv3_no_its<>::irq, gicv3_no_its>);
static_assert(x86_amdvi_no_ir<>::decision == attach_decision::refuse);

// usable_iova: the same list as usable_iova_ranges(), readable in a constant expression.
static_assert(x86_vtd_ir<>::usable_iova.size() == 2);
static_assert(x86_vtd_ir<>::usable_iova[0] == interval{0, 0xFEDF'FFFF});
static_assert(x86_vtd_ir<>::usable_iova[1] == interval{0xFEF0'0000, top48});
static_assert(arm_smmuv3_its<>::usable_iova[1].first == 0x810'0000);
static_assert(x86_amdvi_ir<>::usable_iova.size() == 3);

TEST_CASE("SEMANTICS §A.1: usable_iova is usable_iova_ranges() as a compile-time array") {
    auto check = [](auto platform) {
        using P = decltype(platform);
        const interval_list v = P::usable_iova_ranges();
        REQUIRE(v.size() == P::usable_iova.size());
        for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == P::usable_iova[i]);
    };
    check(x86_vtd_ir<>{});
    check(x86_amdvi_ir<>{});
    check(arm_smmuv3_its<>{});
    check(qemu_board{});
    check(s390_zpci<>{});
}

TEST_CASE("SEMANTICS A.3: the QEMU VT-d alias plans a 39-bit, non-enforcing attach") {
    auto plan = plan_attach<qemu_board>();
    REQUIRE(plan);
    CHECK_FALSE(plan->enforce_cache_coherency);
    CHECK(plan->usable.back() == interval{0xFEF0'0000, top39});
}
