// pgtable::domain: a catalog IOMMU's page-table format behind the IommuDomain concept,
// with the IOMMU's static facts and the instance's firmware regions.
#include <array>

#include <catch2/catch.hpp>

#include <passthru/concepts/iommu_domain.hpp>
#include <passthru/pgtable/domain.hpp>
#include <passthru/platforms/catalog.hpp>

#include "pgtable_harness.hpp"

using namespace passthru;
using namespace passthru::pgtable;
using namespace passthru::platforms;
using passthru::testing::list_entries;

static_assert(IommuDomain<domain<arm_smmuv3<>, arena_allocator>>);
static_assert(IommuDomain<domain<arm_smmuv2<16 * KiB>, arena_allocator>>);
static_assert(IommuDomain<domain<intel_vtd<>, arena_allocator>>);
static_assert(IommuDomain<domain<intel_vtd<39, false>, arena_allocator>>);
static_assert(IommuDomain<domain<amd_vi<>, arena_allocator>>);
// IOMMUs without a table format of this library have no domain type.
static_assert(!IommuWithTables<fsl_pamu> && !IommuWithTables<s390_iommu>);

// The catalog's IOMMUs name the format their domains use.
static_assert(intel_vtd<39>::table_format::top_level == 2);      // 3 levels (PGTABLE §3.1)
static_assert(intel_vtd<57>::table_format::top_level == 4);      // 5 levels
static_assert(amd_vi<>::table_format::va_bits == 64);            // the whole v1 aperture
static_assert(arm_smmuv3<64 * KiB, 48>::table_format::top_level == 2); // 64K: 3 levels

namespace {
template <class I>
struct domain_fixture {
    using F = typename I::table_format;
    passthru::testing::table_fixture<F> fx{64};
};
} // namespace

TEST_CASE("pgtable::domain: page sizes are the IOMMU's, held by its format (SEMANTICS §I)") {
    domain_fixture<arm_smmuv3<>> a;
    auto smmu = domain<arm_smmuv3<>, arena_allocator>::create(a.fx.arena);
    REQUIRE(smmu);
    CHECK(smmu->pgsizes() == pgsize_bitmap{4 * KiB | 2 * MiB | 1 * GiB});
    CHECK(smmu->aperture() == interval{0, (std::uint64_t{1} << 48) - 1});

    domain_fixture<amd_vi<>> b;
    auto amd = domain<amd_vi<>, arena_allocator>::create(b.fx.arena);
    REQUIRE(amd);
    // GENMASK(51,12) ^ SZ_512G, what a booted 6.12 kernel reports.
    CHECK(amd->pgsizes() == pgsize_bitmap{0x000FFF7FFFFFF000});
    CHECK(amd->aperture() == whole_space);

    // The 6.1 driver's claim (SEMANTICS P2): reported as it was, never used by a map.
    domain_fixture<amd_vi<false, amd_v1_pgsizes_6_1>> b61;
    auto amd61 = domain<amd_vi<false, amd_v1_pgsizes_6_1>, arena_allocator>::create(b61.fx.arena);
    REQUIRE(amd61);
    CHECK(amd61->pgsizes() == pgsize_bitmap{0xFFFFFF7FFFFFF000});
    CHECK(amd61->map_sizes() == pgsize_bitmap{0x000FFF7FFFFFF000});

    domain_fixture<intel_vtd<48, true, 4 * KiB | 2 * MiB>> c;
    auto vtd = domain<intel_vtd<48, true, 4 * KiB | 2 * MiB>, arena_allocator>::create(c.fx.arena);
    REQUIRE(vtd);
    CHECK(vtd->pgsizes() == pgsize_bitmap{4 * KiB | 2 * MiB}); // no 1G superpages on this unit
}

TEST_CASE("pgtable::domain: the IOMMU's reserved regions and the instance's firmware ones, merged") {
    domain_fixture<intel_vtd<>> d;
    const std::array firmware{intel_rmrr({0x7000'0000, 0x700F'FFFF}, rmrr_device::other)};
    auto vtd = domain<intel_vtd<>, arena_allocator>::create(d.fx.arena, firmware);
    REQUIRE(vtd);
    const reserved_region_list r = vtd->reserved_regions();
    REQUIRE(r.size() == 2);
    CHECK(r[0] == firmware[0]);
    CHECK(r[1].range == x86_msi_window);
    CHECK(r[1].type == resv_type::msi);
}

TEST_CASE("PGTABLE §3.3: a VT-d domain writes snooped superpages for the SEMANTICS G1.3 example") {
    domain_fixture<intel_vtd<>> d;
    auto vtd = domain<intel_vtd<>, arena_allocator>::create(d.fx.arena);
    REQUIRE(vtd);
    CHECK(vtd->enforce_cache_coherency());
    REQUIRE(vtd->map(iova{0x1FF000}, phys_addr{0x3FF000}, 0x402000, prot::read | prot::write));
    using F = intel_vtd<>::table_format;
    const auto e = list_entries<F>(vtd->table(), d.fx.arena);
    REQUIRE(e.size() == 4);
    CHECK(e.at(0x1FF000).pte == 0x00000000003FF803);  // 4K RW + SNP
    CHECK(e.at(0x200000).pte == 0x0000000000400883);  // 2M RW + PS + SNP
    CHECK(e.at(0x400000).pte == 0x0000000000600883);
    CHECK(e.at(0x600000).pte == 0x0000000000800803);
    CHECK(vtd->unmap(iova{0x1FF000}, 0x402000) == 0x402000);
    CHECK(d.fx.arena.live_units() == 1);
}

TEST_CASE("PGTABLE §1.4: an SMMU without coherent walks marks its table descriptors SW_SYNC") {
    using incoherent = arm_smmuv3<4 * KiB, 48, false>;
    domain_fixture<incoherent> d;
    auto smmu = domain<incoherent, arena_allocator>::create(d.fx.arena);
    REQUIRE(smmu);
    REQUIRE(smmu->map(iova{0x1000}, phys_addr{0x12345000}, 0x1000, prot::read | prot::noexec));
    const pte_t root0 = d.fx.arena.table_at(smmu->table().root())[0];
    CHECK((root0 >> 55 & 1) == 1);
    // §1.11 example 3: the leaf itself is the non-cacheable READ|NOEXEC page.
    const auto e = list_entries<incoherent::table_format>(smmu->table(), d.fx.arena);
    CHECK(e.at(0x1000).pte == 0x0060000012345EC3);
}

namespace {
template <class I>
void harvest_one_write() {
    using D = dirty_tracking_domain<I, arena_allocator>;
    using F = typename D::table_type::format;
    static_assert(DirtyTrackingFormat<F> && IommuDomain<D>);
    passthru::testing::table_fixture<F> fx{64};
    auto d = D::create(fx.arena);
    REQUIRE(d);
    // The output address is only 4K-aligned, so even AMD-Vi maps 16 separate 4K pages.
    REQUIRE(d->map(iova{0x10'0000}, phys_addr{0x4000'1000}, 64 * KiB, prot::read | prot::write));
    // Start clean (ARM leaves are created writable-dirty), then one device write.
    std::array<std::uint64_t, 1> scratch{};
    dirty_bitmap none{iova{0x10'0000}, 4 * KiB, scratch};
    iotlb_gather g;
    REQUIRE(d->read_and_clear_dirty(iova{0x10'0000}, 64 * KiB, none, g));
    const auto e = list_entries<F>(d->table(), fx.arena);
    pte_t* leaves = passthru::testing::leaf_table<F>(d->table(), fx.arena, 0x10'0000);
    REQUIRE(leaves != nullptr);
    passthru::testing::device_writes<F>(leaves[(0x10'0000 >> 12) % 512 + 3]);
    std::array<std::uint64_t, 1> words{};
    dirty_bitmap bits{iova{0x10'0000}, 4 * KiB, words};
    REQUIRE(d->read_and_clear_dirty(iova{0x10'0000}, 64 * KiB, bits, g));
    CHECK(words[0] == 0x8);
    CHECK(e.size() == 16);
}
} // namespace

TEST_CASE("PGTABLE §8: dirty-tracking domains of SMMUv3, VT-d and AMD-Vi report a device write") {
    static_assert(IommuWithDirtyTables<arm_smmuv3<>> && IommuWithDirtyTables<intel_vtd<>> &&
                  IommuWithDirtyTables<amd_vi<>>);
    static_assert(!IommuWithDirtyTables<arm_smmuv2<>>); // no HTTU
    // A translation domain's tables record nothing (what type1 uses).
    static_assert(!DirtyTrackingFormat<domain<intel_vtd<>, arena_allocator>::table_type::format>);
    harvest_one_write<arm_smmuv3<>>();
    harvest_one_write<intel_vtd<>>();
    harvest_one_write<amd_vi<>>();
}
