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
#include <passthru/concepts/kernel_rule.hpp>
#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/concepts/platform.hpp>
#include <passthru/concepts/walk_hooks.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/domain.hpp>
#include <passthru/platforms/catalog.hpp>

#include "mock_format.hpp"
#include "pgtable_harness.hpp"
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

// Interrupt controller with its facts as loose statics instead of the caps aggregate.
struct irq_no_caps {
    static constexpr std::string_view name = "x";
    static constexpr isa arch = isa::arm;
    static constexpr msi_isolation isolation = msi_isolation::none;
    static constexpr bool msi_through_iommu = true;
    static constexpr bool generic_msi_domains = true;
    static constexpr bool msi_remap_flag_pre_6_3 = false;
};
// ...and one whose caps are the IOMMU's aggregate.
struct irq_wrong_caps {
    static constexpr std::string_view name = "x";
    static constexpr isa arch = isa::arm;
    static constexpr iommu_caps caps{};
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

// Page-table formats, each one piece short of the next concept up.
struct geometry_only {
    static constexpr unsigned top_level = 1, va_bits = 30, oa_bits = 40;
    static constexpr unsigned item_lg2(unsigned l) { return 12 + 9 * l; }
    static constexpr unsigned table_lg2(unsigned) { return 9; }
    static constexpr std::uint64_t leaf_sizes(unsigned l) { return std::uint64_t{1} << item_lg2(l); }
};
struct geometry_seven_levels : geometry_only {
    static constexpr unsigned top_level = 6;
};
struct codec_without_name : geometry_only {
    static constexpr pte_t make_table(phys_addr pa, unsigned) { return pa.value | 1; }
    static constexpr pte_t make_leaf(phys_addr pa, unsigned, unsigned, prot) { return pa.value | 3; }
    static constexpr pte_kind classify(pte_t e, unsigned) {
        return e & 2 ? pte_kind::leaf : e & 1 ? pte_kind::table : pte_kind::empty;
    }
    static constexpr phys_addr table_pa(pte_t e) { return phys_addr{e & ~0xFFFull}; }
    static constexpr phys_addr leaf_pa(pte_t e, unsigned) { return phys_addr{e & ~0xFFFull}; }
    static constexpr unsigned leaf_size_lg2(pte_t, unsigned l) { return item_lg2(l); }
    static constexpr prot leaf_prot(pte_t, unsigned) { return prot::read; }
};
struct codec_leaf_prot_int : codec_without_name {
    static constexpr int leaf_prot(pte_t, unsigned) { return 1; }
};
struct format_without_dirty : codec_without_name {
    static constexpr std::string_view name = "x";
    static constexpr unsigned leaf_linear_lg2 = 64;
    static constexpr partial_unmap partial_leaf_unmap = partial_unmap::whole_leaf;
};
struct format_half_dirty : format_without_dirty {
    static constexpr bool is_dirty(pte_t e) { return e & 4; } // but no make_clean
};

// Domains, each with one half of IommuDomain.
struct mapper_only {
    result<void> map(iova, phys_addr, std::uint64_t, prot) { return {}; }
    std::uint64_t unmap(iova, std::uint64_t) { return 0; }
    std::optional<phys_addr> iova_to_phys(iova) const { return std::nullopt; }
};
struct geometry_only_domain {
    static constexpr iommu_caps caps{};
    pgsize_bitmap pgsizes() const { return {4096}; }
    interval aperture() const { return whole_space; }
    reserved_region_list reserved_regions() const { return {}; }
    bool enforce_cache_coherency() const { return false; }
};

// An allocator that cannot free, and one whose table_at needs a mutable allocator.
struct allocator_no_free {
    std::optional<table_page> alloc_table(std::size_t) { return std::nullopt; }
    pte_t* table_at(phys_addr) const { return nullptr; }
};
struct allocator_mutable_lookup {
    std::optional<table_page> alloc_table(std::size_t) { return std::nullopt; }
    void free_table(table_page, std::size_t) {}
    pte_t* table_at(phys_addr) { return nullptr; }
};

// Hooks that cannot flush.
struct hooks_no_flush {
    void sync_ptes(const pte_t*, std::size_t) {}
};

// A kernel rule with its facts as loose statics (the shape before the aggregate).
struct rule_loose {
    static constexpr std::string_view name = "x";
    static constexpr bool per_device = true;
};

// A platform-like type that lacks its reason.
struct platform_no_reason {
    using iommu = arm_smmuv3<>;
    using irq = gicv3_its;
    using bus = pci_bus;
    using rule = rules::current;
    static constexpr int isolation = 0, verdict = 0, decision = 0, msi = 0;
    static constexpr bool allows_unsafe_interrupts = false, cache_coherent = true,
                          assignable = true, dma_cc_iommu = false;
    static constexpr prot map_prot = prot::cache;
};

} // namespace near_miss

// The page-table concepts, piece by piece.
static_assert(PageTableGeometry<near_miss::geometry_only> && !PageTableCodec<near_miss::geometry_only>);
static_assert(!PageTableGeometry<near_miss::geometry_seven_levels>);
static_assert(PageTableCodec<near_miss::codec_without_name> &&
              !PageTableFormat<near_miss::codec_without_name>);
static_assert(!PageTableCodec<near_miss::codec_leaf_prot_int>);
static_assert(PageTableFormat<near_miss::format_without_dirty> &&
              !DirtyTrackingFormat<near_miss::format_without_dirty>);
static_assert(!DirtyTrackingFormat<near_miss::format_half_dirty>);
static_assert(DirtyTrackingFormat<testing::mock_format<>>);
static_assert(DirtyTrackingFormat<amd_vi<>::dirty_table_format> &&
              !DirtyTrackingFormat<amd_vi<>::table_format>);

// The two halves of a domain.
static_assert(IommuDomainMapper<near_miss::mapper_only> && !IommuDomain<near_miss::mapper_only>);
static_assert(IommuDomainGeometry<near_miss::geometry_only_domain> &&
              !IommuDomain<near_miss::geometry_only_domain>);
static_assert(IommuDomain<pgtable::domain<intel_vtd<>, pgtable::arena_allocator>>);
static_assert(!IommuDomainMapper<near_miss::domain_unmap_bool>);
static_assert(IommuDomainGeometry<near_miss::domain_unmap_bool>);

// Allocators and hooks.
static_assert(PageAllocator<pgtable::arena_allocator>);
static_assert(!PageAllocator<near_miss::allocator_no_free>);
static_assert(!PageAllocator<near_miss::allocator_mutable_lookup>);
static_assert(WalkHooks<pgtable::coherent_walk> && WalkHooks<testing::sync_recorder>);
static_assert(!WalkHooks<near_miss::hooks_no_flush>);

// Kernel rules and platforms.
static_assert(KernelRule<rules::linux_v6_3> && !KernelRule<near_miss::rule_loose>);
static_assert(Platform<arm_smmuv3_its<>> && Platform<x86_vtd_no_ir<pci_bus, allow_unsafe_interrupts>>);
static_assert(!Platform<near_miss::platform_no_reason> && !Platform<arm_smmuv3<>>);

static_assert(!Bus<near_miss::bus_no_groups>);
static_assert(!Bus<near_miss::bus_kind_is_string>);
static_assert(!InterruptController<near_miss::irq_no_caps>);
static_assert(!InterruptController<near_miss::irq_wrong_caps>);
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
