// SEMANTICS §N: the derived type1 vectors, on VT-d second-stage tables (aperture 2^48,
// 4K|2M|1G, the x86 MSI window), through the typed API. Each failing vector also checks
// that the container, its tables and the pinned pages are exactly as before.
#include <catch2/catch.hpp>

#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::testing;
using type1::iommu_mode;

namespace {
constexpr std::uint64_t K4 = 0x1000;

template <class Rig>
void attach_one(Rig& r) {
    REQUIRE(r.c.attach(type1::group{.id = 1}));
    REQUIRE(r.c.iova_list() == interval_list{{0, 0xFEDFFFFF}, {0xFEF00000, 0xFFFF'FFFF'FFFF}});
}

} // namespace

TEST_CASE("SEMANTICS N1-N9 map vectors on VT-d tables") {
    table_rig<> r;
    attach_one(r);
    REQUIRE(r.c.map(iova{0x1000}, K4, va::ram, prot_rw)); // N1
    CHECK(r.c.dma_avail() == 65534);
    CHECK(r.c.domain(0).dom.iova_to_phys(iova{0x1000}) == phys_addr{0x1'0000'0000});
    refused(r, eexist, [&] { return r.c.map(iova{0x1000}, K4, va::ram, prot_rw); });            // N2
    refused(r, einval, [&] { return r.c.map(iova{0x1800}, K4, va::ram, prot_rw); });            // N3
    refused(r, einval, [&] { return r.c.map(iova{0x2000}, 0, va::ram, prot_rw); });             // N4
    refused(r, einval, [&] { return r.c.do_map(0x2000, K4, va::ram, 0); });                     // N5
    refused(r, einval, [&] { return r.c.do_map(0x2000, K4, va::ram, 1 | 4); });                 // N6
    refused(r, einval, [&] { return r.c.map(iova{0xFEE00000}, K4, va::ram, prot_rw); });        // N7
    refused(r, einval, [&] { return r.c.map(iova{0xFEDFF000}, 2 * K4, va::ram, prot_rw); });    // N8
    refused(r, einval, [&] { return r.c.map(iova{0x1'0000'0000'0000}, K4, va::ram, prot_rw); }); // N9
}

TEST_CASE("SEMANTICS N10 a wrapping map: EINVAL before the v6.18 series, EOVERFLOW after") {
    table_rig<> up;
    attach_one(up);
    refused(up, eoverflow, [&] { return up.c.map(iova{0xFFFF'FFFF'FFFF'F000}, 2 * K4, va::ram, prot_rw); });
    table_rig<x86_vtd_ir<>, type1::profiles::debian_6_12> old;
    attach_one(old);
    refused(old, einval, [&] { return old.c.map(iova{0xFFFF'FFFF'FFFF'F000}, 2 * K4, va::ram, prot_rw); });
}

TEST_CASE("SEMANTICS N11-N16 unmap vectors, v2 and v1") {
    for (auto mode : {iommu_mode::v2, iommu_mode::v1}) {
        table_rig<> r(mode);
        attach_one(r);
        REQUIRE(r.c.map(iova{0x1000}, K4, va::ram, prot_rw));
        refused(r, einval, [&] { return r.c.unmap(iova{0x1000}, 0x800); }); // N11
        auto all = r.c.unmap(iova{0}, 0x10000);                             // N12
        REQUIRE(all);
        CHECK(*all == K4);
        CHECK(r.pinner.pinned_pages() == 0);
        CHECK(r.c.locked_vm() == 0);
        auto none = r.c.unmap(iova{0}, 0x10000); // N13
        REQUIRE(none);
        CHECK(*none == 0);
        REQUIRE(r.c.map(iova{0x10000}, 0x4000, va::ram, prot_rw)); // N14
        if (mode == iommu_mode::v2) {
            refused(r, einval, [&] { return r.c.unmap(iova{0x11000}, K4); }); // N14
            refused(r, einval, [&] { return r.c.unmap(iova{0xF000}, 0x2000); }); // N15
        } else {
            auto inside = r.c.unmap(iova{0x11000}, K4); // N14: nothing, the walk stops
            REQUIRE(inside);
            CHECK(*inside == 0);
            CHECK(r.c.mappings().size() == 1);
            auto front = r.c.unmap(iova{0xF000}, 0x2000); // N15: the whole mapping goes
            REQUIRE(front);
            CHECK(*front == 0x4000);
            CHECK(r.c.mappings().empty());
            REQUIRE(r.c.map(iova{0x10000}, 0x4000, va::ram, prot_rw));
        }
        refused(r, einval, [&] { return r.c.do_unmap(0x1000, 0, 2, {}); }); // N16
        auto everything = r.c.unmap_all();
        REQUIRE(everything);
        CHECK(*everything == 0x4000);
        CHECK(r.c.dma_avail() == 65535);
    }
}

TEST_CASE("SEMANTICS N17 the 65,536th live mapping is ENOSPC") {
    table_rig<> r;
    attach_one(r);
    for (std::uint64_t i = 0; i < 65535; ++i) REQUIRE(r.c.map(iova{0x1000'0000 + i * K4}, K4, va::ram, prot_rw));
    CHECK(r.c.dma_avail() == 0);
    CHECK(r.c.locked_vm() == 65535); // the same page pinned 65,535 times is charged 65,535 times (B14)
    refused(r, enospc, [&] { return r.c.map(iova{0x2000'0000}, K4, va::ram, prot_rw); });
    auto all = r.c.unmap_all();
    REQUIRE(all);
    CHECK(*all == 65535 * K4);
    CHECK(r.pinner.pinned_pages() == 0);
    CHECK(r.fx.arena.live_units() == 1); // only the root table is left
}

TEST_CASE("SEMANTICS N18 N19 a second group's reserved region over a mapping") {
    table_rig<> r;
    attach_one(r);
    REQUIRE(r.c.map(iova{0x10000}, 0x4000, va::ram, prot_rw));
    type1::group g2{.id = 2, .firmware_regions = {reserved_region{{0x10000, 0x10FFF}, resv_type::reserved}}};
    refused(r, einval, [&] { return r.c.attach(g2); }); // N18
    g2.firmware_regions[0].type = resv_type::direct_relaxable;
    REQUIRE(r.c.attach(g2)); // N19
    CHECK(r.c.iova_list() == interval_list{{0, 0xFEDFFFFF}, {0xFEF00000, 0xFFFF'FFFF'FFFF}});
    CHECK(r.c.domain_count() == 1); // A15: the same unit and coherency share the domain
}

TEST_CASE("SEMANTICS N20 a group without isolated MSIs is EPERM, unless the parameter is set") {
    table_rig<x86_vtd_no_ir<>> r;
    refused(r, eperm, [&] { return r.c.attach(type1::group{.id = 1}); });
    r.c.set_allow_unsafe_interrupts(true); // P8: read at each attach
    CHECK(r.c.attach(type1::group{.id = 1}));
}

TEST_CASE("SEMANTICS N21 GET_BITMAP before START, and on a v1 container") {
    std::vector<std::uint64_t> bits(1);
    table_rig<> v2;
    attach_one(v2);
    refused(v2, einval, [&] { return v2.c.dirty_get(iova{0}, 0x10000, {K4, bits}); });
    table_rig<> v1(iommu_mode::v1);
    attach_one(v1);
    refused(v1, eacces, [&] { return v1.c.dirty_get(iova{0}, 0x10000, {K4, bits}); });
}
