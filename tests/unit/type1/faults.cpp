// Fault injection (issue #7): the pinner, the domains and the page-table allocator fail at
// every call an operation makes, in turn. Each time the operation returns the failing
// call's errno and the container, every domain's tables, the pinned pages and the table
// memory are exactly as before; the first run without a fault succeeds.
#include <catch2/catch.hpp>

#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::testing;
using type1::group;
using type1::iommu_mode;

namespace {
constexpr std::uint64_t P4 = 0x1000;
constexpr std::uint64_t base = type1::mock_domain::mock_aperture.first;

// Fails the k-th call for k = 1, 2, ... until the operation succeeds; returns the number
// of failure points covered.
template <class Rig, class Arm, class Op>
int sweep(Rig& r, int e, Arm arm, Op op) {
    for (int k = 1; k < 10000; ++k) {
        const auto before = r.snap();
        arm(k);
        auto res = op();
        if (res) return k - 1;
        INFO("fault at call " << k);
        CHECK(err(res) == e);
        CHECK(r.snap() == before);
    }
    FAIL("the operation never succeeded");
    return 0;
}
} // namespace

TEST_CASE("type1 faults: every pin call of a map, on VT-d tables") {
    table_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{0x4000'0000}, 0x20'0000, va::ram, prot_rw));
    // 1,500 scattered pages: a run per frame, so a pin call per 256 runs.
    const int points = sweep(
        r, efault, [&](int k) { r.pinner.fail_pin_call(static_cast<std::uint64_t>(k)); },
        [&] { return r.c.map(iova{0x5000'0000}, 1500 * P4, va::scattered, prot_rw); });
    CHECK(points == 6);
    r.pinner.clear_faults();
    CHECK(r.pinner.pinned_pages() == 512 + 1500);
}

TEST_CASE("type1 faults: every domain map call of a map into two domains, and of a replay") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.attach(group{.id = 2, .iommu_unit = 1}));
    REQUIRE(r.c.domain_count() == 2);
    for (std::size_t d = 0; d < 2; ++d) {
        const int points = sweep(
            r, enomem, [&](int k) { r.c.domain(d).dom.fail_map_call(static_cast<std::uint64_t>(k)); },
            [&] { return r.c.map(iova{base + d * 0x10'0000}, 16 * P4, va::scattered + d * 64 * P4, prot_rw); });
        CHECK(points >= 8); // scattered frames: many runs, each a map call per domain
    }
    // A third unit: replaying both mappings into its new domain fails at each of its calls.
    r.domains.clear_faults();
    int replay_points = 0;
    for (std::uint64_t k = 1;; ++k) {
        const auto before = r.snap();
        r.domains.fail_map_call(k);
        auto res = r.c.attach(group{.id = 3, .iommu_unit = 2});
        if (res) break;
        CHECK(err(res) == enomem);
        CHECK(r.snap() == before);
        ++replay_points;
    }
    CHECK(replay_points >= 8);
    CHECK(r.c.domain_count() == 3);
}

TEST_CASE("type1 faults: pinning during a replay, and the memlock limit at each page") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1, .emulated = true}));
    REQUIRE(r.c.map(iova{base}, 600 * P4, va::ram, prot_rw));
    REQUIRE(r.c.map(iova{base + 0x100'0000}, 8 * P4, va::scattered, prot_rw));
    CHECK(sweep(
              r, efault, [&](int k) { r.pinner.fail_pin_call(static_cast<std::uint64_t>(k)); },
              [&] { return r.c.attach(group{.id = 2}); }) == 2); // a call per mapping
    REQUIRE(r.c.detach(2));
    r.pinner.clear_faults();
    CHECK(r.pinner.pinned_pages() == 0);
    // 604: the first mapping fits, the second only if the first one's charge is forgotten.
    for (std::uint64_t limit : {0, 37, 300, 599, 600, 604, 607}) {
        r.pinner.set_memlock_limit_pages(limit);
        const auto before = r.snap();
        CHECK(err(r.c.attach(group{.id = 2})) == enomem);
        CHECK(r.snap() == before);
    }
    r.pinner.set_memlock_limit_pages(608);
    CHECK(r.c.attach(group{.id = 2}));
    CHECK(r.c.locked_vm() == 608);
}

TEST_CASE("type1 faults: the page-table allocator runs dry at every table of a map") {
    // AMD-Vi v1 with 4K pages over 8 MiB at an address that needs new tables at several
    // levels: each arena size below what it needs fails one table later.
    int points = 0;
    for (std::size_t units = 2; units < 64; ++units) {
        table_rig<x86_amdvi_ir<>> r(iommu_mode::v2, {.disable_hugepages = true}, units);
        REQUIRE(r.c.attach(group{.id = 1}));
        const auto before = r.snap();
        auto res = r.c.map(iova{0x12'3400'0000}, 0x80'0000, va::ram, prot_rw);
        if (res) {
            CHECK(points > 3);
            CHECK(r.c.unmap_all());
            CHECK(r.fx.arena.live_units() == 1);
            return;
        }
        ++points;
        CHECK(err(res) == enomem);
        CHECK(r.snap() == before);
        CHECK(r.pinner.pinned_pages() == 0);
    }
    FAIL("the map never fit");
}
