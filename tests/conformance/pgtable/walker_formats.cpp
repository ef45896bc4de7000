// The walker over every real format: the Linux selftest sequence (PGTABLE §1.12), the
// generic_pt regressions (§7.4) and randomized map/unmap against a reference model, for
// Intel VT-d second stage (3/4/5 levels) and AMD-Vi v1 (modes 3-6). ARM LPAE runs the
// same suites in arm_lpae_walk.cpp.
#include <catch2/catch.hpp>

#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

#include "pgtable_suites.hpp"

using namespace passthru;
using namespace passthru::pgtable;
using namespace passthru::testing;

namespace {
using vtd3 = vtd_ss<vtd_ss_config{.levels = 3}>;
using vtd4 = vtd_ss<vtd_ss_config{.levels = 4, .force_snoop = true}>;
using vtd5 = vtd_ss<vtd_ss_config{.levels = 5}>;
using vtd4_2m = vtd_ss<vtd_ss_config{.levels = 4, .superpage_levels = 1}>;
using amd3 = amd_v1<amd_v1_config{.mode = 3}>;
using amd4 = amd_v1<amd_v1_config{.mode = 4}>;
using amd5 = amd_v1<amd_v1_config{.mode = 5}>;
using amd6 = amd_v1<amd_v1_config{.mode = 6, .force_coherent = false}>;
} // namespace

TEMPLATE_TEST_CASE("PGTABLE §1.12: the selftest sequence on VT-d and AMD-Vi tables", "", vtd3,
                   vtd4, vtd5, vtd4_2m, amd3, amd4, amd5, amd6) {
    for (const std::string& f : selftest_sequence<TestType>()) FAIL_CHECK(f);
}

TEMPLATE_TEST_CASE("PGTABLE §7.4: pgsize_boundary and test_mixed on VT-d and AMD-Vi tables", "",
                   vtd3, vtd4, vtd5, amd4, amd6) {
    generic_pt_regressions<TestType>();
}

TEMPLATE_TEST_CASE("PGTABLE §9: random map and unmap match the reference model (VT-d, AMD-Vi)", "",
                   vtd3, vtd4, vtd5, amd3, amd4, amd6) {
    // A 1 GiB window across a 512 GiB boundary (a root-level boundary for 4-level tables).
    const std::uint64_t base = TestType::va_bits > 40 ? 512 * GiB - 512 * MiB : 64 * GiB;
    random_vs_reference<TestType>(base, GiB, 3000, 2048);
}

TEST_CASE("PGTABLE §4.2: AMD-Vi contiguous entries land in the walker as replicated slots") {
    table_fixture<amd4> fx(16);
    auto t = page_table<amd4, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    // 64 KiB at PA 0x1230000 (§4.2: 0x6000000001237E01 x16, plus FC as Linux writes it).
    REQUIRE(t->map(iova{0x1230000}, phys_addr{0x1230000}, 64 * KiB, prot::read | prot::write,
                   pgsize_bitmap{4 * KiB | 64 * KiB}));
    const auto e = list_entries<amd4>(*t, fx.arena);
    REQUIRE(e.size() == 1);
    CHECK(e.at(0x1230000).pte == 0x7000000001237E01);
    CHECK(e.at(0x1230000).size == 64 * KiB);
    CHECK(t->iova_to_phys(iova{0x123ABCD}) == phys_addr{0x123ABCD});
    // A 4K unmap at the entry's start removes all 16 slots (§4.4).
    CHECK(t->unmap(iova{0x1230000}, 4 * KiB) == 64 * KiB);
    CHECK(fx.arena.live_units() == 1);
}
