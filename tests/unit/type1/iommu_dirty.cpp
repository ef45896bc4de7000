// container_options::iommu_dirty: a v2 container over dirty-tracking domains reports the
// pages devices wrote, as its tables recorded them (PGTABLE §8), instead of type1's every
// page of every mapping (SEMANTICS D7); START reads the tables clean first, each report
// reads and cleans them, a domain that goes at detach leaves its records in the bitmaps,
// and a container whose domains cannot record writes refuses START.
#include <catch2/catch.hpp>

#include <passthru/type1/container.hpp>

#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::testing;
using type1::group;
using type1::iommu_mode;

namespace {
constexpr std::uint64_t K4 = 0x1000;
constexpr std::uint64_t at = 0x4000'0000; // inside every catalog aperture, no reserved region

template <class P>
using dirty_rig = table_rig<P, type1::profiles::upstream, pgtable::domain_tables::dirty_tracking>;

// The device behind domain `dom` (0: the newest) writes the page at `io`.
template <class Rig>
void device_write(Rig& r, std::uint64_t io, std::size_t dom = 0) {
    using F = typename Rig::format;
    pte_t* leaves = leaf_table<F>(r.c.domain(dom).dom.table(), r.fx.arena, io);
    REQUIRE(leaves != nullptr);
    device_writes<F>(leaves[(io >> 12) % 512]);
}

template <class P>
void reports_device_writes() {
    dirty_rig<P> r(iommu_mode::v2, {.iommu_dirty = true});
    REQUIRE(r.c.attach(group{.id = 1}));
    // Scattered frames: every page a 4K leaf, whatever the format's larger sizes.
    REQUIRE(r.c.map(iova{at}, 16 * K4, va::scattered, prot_rw));
    REQUIRE(r.c.map(iova{at + 0x10'0000}, 4 * K4, va::scattered + 64 * K4, prot_rw));
    device_write(r, at + 7 * K4); // before START: not reported
    REQUIRE(r.c.dirty_start());
    std::vector<std::uint64_t> bits(1, 0);
    REQUIRE(r.c.dirty_get(iova{at}, 16 * K4, {K4, bits}));
    CHECK(bits[0] == 0); // ARM's writable leaves are created dirty: START read them clean
    device_write(r, at + 3 * K4);
    device_write(r, at + 9 * K4);
    REQUIRE(r.c.dirty_get(iova{at}, 16 * K4, {K4, bits}));
    CHECK(bits[0] == ((1u << 3) | (1u << 9)));
    bits[0] = 0;
    REQUIRE(r.c.dirty_get(iova{at}, 16 * K4, {K4, bits}));
    CHECK(bits[0] == 0); // the report cleaned them
    // UNMAP with the bitmap reads the tables before the mapping goes.
    device_write(r, at + 0x10'0000 + 2 * K4);
    auto u = r.c.unmap_with_bitmap(iova{at + 0x10'0000}, 4 * K4, {K4, bits});
    REQUIRE(u);
    CHECK(*u == 4 * K4);
    CHECK(bits[0] == 0b100);
    // Without the option the same domains give type1's answer: every page (D7).
    dirty_rig<P> k;
    REQUIRE(k.c.attach(group{.id = 1}));
    REQUIRE(k.c.map(iova{at}, 16 * K4, va::scattered, prot_rw));
    REQUIRE(k.c.dirty_start());
    bits[0] = 0;
    REQUIRE(k.c.dirty_get(iova{at}, 16 * K4, {K4, bits}));
    CHECK(bits[0] == 0xffff);
}
} // namespace

TEST_CASE("PGTABLE §8 iommu_dirty: SMMUv3 HTTU, VT-d SSADS and AMD-Vi HAD tables report what devices wrote") {
    reports_device_writes<arm_smmuv3_its<>>();
    reports_device_writes<x86_vtd_ir<>>();
    reports_device_writes<x86_amdvi_ir<>>();
}

TEST_CASE("PGTABLE §8 iommu_dirty: domains whose tables record no writes refuse START with EOPNOTSUPP") {
    table_rig<> r(iommu_mode::v2, {.iommu_dirty = true});
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{at}, 4 * K4, va::ram, prot_rw));
    refused(r, static_cast<int>(errc::eopnotsupp), [&] { return r.c.dirty_start(); });
    CHECK_FALSE(r.c.dirty_tracking());
    mock_rig<> m(iommu_mode::v2, {.iommu_dirty = true});
    REQUIRE(m.c.attach(group{.id = 1}));
    refused(m, static_cast<int>(errc::eopnotsupp), [&] { return m.c.dirty_start(); });
}

TEST_CASE("PGTABLE §8 iommu_dirty: a detach keeps what the departing domain recorded, and marks nothing else") {
    dirty_rig<x86_vtd_ir<>> r(iommu_mode::v2, {.iommu_dirty = true});
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.attach(group{.id = 2, .iommu_unit = 1})); // a domain of its own, at the head
    REQUIRE(r.c.domain_count() == 2);
    REQUIRE(r.c.map(iova{at}, 16 * K4, va::scattered, prot_rw));
    REQUIRE(r.c.dirty_start());
    device_write(r, at + 5 * K4, 0); // group 2's device
    device_write(r, at + 6 * K4, 1); // group 1's
    REQUIRE(r.c.detach(2));          // its domain goes, with its tables
    std::vector<std::uint64_t> bits(1, 0);
    REQUIRE(r.c.dirty_get(iova{at}, 16 * K4, {K4, bits}));
    CHECK(bits[0] == ((1u << 5) | (1u << 6))); // type1 would mark all 16 (A.2 D6)
    // A group that leaves a shared domain takes nothing with it.
    REQUIRE(r.c.attach(group{.id = 3}));
    REQUIRE(r.c.domain_count() == 1);
    device_write(r, at + 1 * K4, 0);
    REQUIRE(r.c.detach(3));
    bits[0] = 0;
    REQUIRE(r.c.dirty_get(iova{at}, 16 * K4, {K4, bits}));
    CHECK(bits[0] == 0b10);
}
