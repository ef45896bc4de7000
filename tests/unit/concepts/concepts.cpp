// The concepts accept every catalog component and reject near-misses, each missing one
// member (STYLE: small concepts, static_assert(!concept<T>) for near-misses). The
// diagnostics for a rejected type are checked by tests/compile_fail/*_missing_*.cpp.
#include <cstdint>
#include <optional>
#include <string_view>

#include <catch2/catch.hpp>

#include <passthru/concepts/bus.hpp>
#include <passthru/concepts/interrupt_controller.hpp>
#include <passthru/concepts/iommu.hpp>
#include <passthru/concepts/iommu_domain.hpp>
#include <passthru/platforms/catalog.hpp>

#include "reference_domain.hpp"

using namespace passthru;
using namespace passthru::platforms;

// Every catalog component models its concept.
static_assert(Bus<pci_bus> && Bus<platform_bus> && Bus<fsl_mc_bus>);
static_assert(InterruptController<gicv3_its> && InterruptController<gicv3_its_synquacer> &&
              InterruptController<gicv3_no_its> && InterruptController<gicv2m> &&
              InterruptController<gicv3_mbi> && InterruptController<x86_intel_ir> &&
              InterruptController<x86_amd_ir> && InterruptController<x86_apic_no_ir> &&
              InterruptController<fsl_msi> && InterruptController<s390_zpci_irq> &&
              InterruptController<riscv_imsic>);
static_assert(Iommu<arm_smmuv3<>> && Iommu<arm_smmuv3<64 * KiB, 52>> && Iommu<arm_smmuv2<>> &&
              Iommu<intel_vtd<>> && Iommu<intel_vtd<57, false>> && Iommu<amd_vi<>> &&
              Iommu<amd_vi<true>> && Iommu<fsl_pamu> && Iommu<s390_iommu> &&
              Iommu<riscv_iommu<>>);
static_assert(IommuDomain<testing::reference_domain<arm_smmuv3<>>>);
static_assert(IommuDomain<testing::reference_domain<intel_vtd<>>>);

namespace near_miss {

// Bus without `groups`.
struct bus_no_groups {
    static constexpr std::string_view name = "x";
    static constexpr bus_kind kind = bus_kind::other;
    static constexpr msi_programming msi = msi_programming::none;
    static constexpr requester_id_source requester_id = requester_id_source::pci_rid;
};
// Bus whose `kind` has the wrong type.
struct bus_kind_is_string : bus_no_groups {
    static constexpr grouping groups = grouping::per_device;
    static constexpr std::string_view kind = "pci";
};

// Interrupt controller without a hardware-window fact.
struct irq_no_window {
    static constexpr std::string_view name = "x";
    static constexpr isa arch = isa::arm;
    static constexpr msi_isolation isolation = msi_isolation::none;
    static constexpr bool msi_through_iommu = true;
    static constexpr bool generic_msi_domains = true;
    static constexpr bool msi_remap_flag_pre_6_3 = false;
};

// IOMMU whose reserved regions are not a range of reserved_region.
struct iommu_bad_regions {
    static constexpr std::string_view name = "x";
    static constexpr isa arch = isa::arm;
    static constexpr pgsize_bitmap pgsizes{4096};
    static constexpr interval aperture = whole_space;
    static constexpr iommu_caps caps{};
    static constexpr int reserved_regions = 0;
};

// Domain whose unmap reports success instead of bytes unmapped (SEMANTICS G1.5).
struct domain_unmap_bool {
    static constexpr iommu_caps caps{};
    result<void> map(iova, phys_addr, std::uint64_t, prot) { return {}; }
    bool unmap(iova, std::uint64_t) { return true; }
    std::optional<phys_addr> iova_to_phys(iova) const { return std::nullopt; }
    pgsize_bitmap pgsizes() const { return {4096}; }
    interval aperture() const { return whole_space; }
    reserved_region_list reserved_regions() const { return {}; }
    bool enforce_cache_coherency() const { return false; }
};

// Domain whose translation is not const (a lookup must not need a mutable domain).
struct domain_mutable_lookup {
    static constexpr iommu_caps caps{};
    result<void> map(iova, phys_addr, std::uint64_t, prot) { return {}; }
    std::uint64_t unmap(iova, std::uint64_t) { return 0; }
    std::optional<phys_addr> iova_to_phys(iova) { return std::nullopt; }
    pgsize_bitmap pgsizes() const { return {4096}; }
    interval aperture() const { return whole_space; }
    reserved_region_list reserved_regions() const { return {}; }
    bool enforce_cache_coherency() const { return false; }
};

} // namespace near_miss

static_assert(!Bus<near_miss::bus_no_groups>);
static_assert(!Bus<near_miss::bus_kind_is_string>);
static_assert(!InterruptController<near_miss::irq_no_window>);
static_assert(!Iommu<near_miss::iommu_bad_regions>);
static_assert(!IommuDomain<near_miss::domain_unmap_bool>);
static_assert(!IommuDomain<near_miss::domain_mutable_lookup>);
// A catalog IOMMU is static facts, not a domain; a domain is not an interrupt controller.
static_assert(!IommuDomain<arm_smmuv3<>> && !InterruptController<pci_bus>);

TEST_CASE("Concepts: the reference domain follows SEMANTICS G1 as an IommuDomain") {
    testing::reference_domain<intel_vtd<>> d;
    // G1.3 worked example: 4K x1, 2M x2, 4K x1.
    REQUIRE(d.map(iova{0x1FF000}, phys_addr{0x3FF000}, 0x402000, prot_rw));
    REQUIRE(d.leaves().size() == 4);
    CHECK(d.leaves().at(0x200000).size == 2 * MiB);
    CHECK(d.iova_to_phys(iova{0x400123}) == phys_addr{0x600123});
    // Over-mapping any byte is EEXIST and changes nothing.
    auto again = d.map(iova{0x5FF000}, phys_addr{0}, 0x1000, prot::read);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == errc::eexist);
    CHECK(d.leaves().size() == 4);
    // G1.2: misaligned → EINVAL; G1.5: misaligned unmap → 0 bytes.
    CHECK(d.map(iova{0x800}, phys_addr{0}, 0x1000, prot::read).error().code == errc::einval);
    CHECK(d.unmap(iova{0x1FF800}, 0x1000) == 0);
    // Unmapping the start of a 2M leaf with a 4K request removes the whole leaf.
    CHECK(d.unmap(iova{0x200000}, 0x1000) == 2 * MiB);
    CHECK_FALSE(d.iova_to_phys(iova{0x200000}));
    CHECK(d.iova_to_phys(iova{0x400000}) == phys_addr{0x600000});
}
