// The walker over every real format: the Linux selftest sequence (PGTABLE §1.12), the
// generic_pt regressions (§7.4) and randomized map/unmap against a reference model, for
// Intel VT-d second stage (3/4/5 levels) and AMD-Vi v1 (modes 3-6). ARM LPAE runs the
// same suites in arm_lpae_walk.cpp.
#include <catch2/catch.hpp>

#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

#include "mock_format.hpp"
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
// The walker's plain loops, for a format without bit tests (PageTableSlotTests).
using mock_plain = mock_format<partial_unmap::whole_leaf, false>;
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
                   vtd3, vtd4, vtd5, amd3, amd4, amd6, mock_plain) {
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

TEST_CASE("PGTABLE §8: an AMD-Vi 6-level harvest runs up to 2^64-1 and stops there") {
    using amd6_dirty = amd_v1<amd_v1_config{.mode = 6, .dirty_tracking = true}>;
    static_assert(amd6_dirty::va_bits == 64);
    table_fixture<amd6_dirty> fx(16);
    auto t = page_table<amd6_dirty, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    const std::uint64_t last_2m = ~std::uint64_t{0} - (2 * MiB - 1); // 2^64 - 2M
    REQUIRE(t->map(iova{last_2m}, phys_addr{GiB}, 2 * MiB, prot::read | prot::write,
                   pgsize_bitmap{4 * KiB}));
    pte_t* leaves = leaf_table<amd6_dirty>(*t, fx.arena, last_2m);
    REQUIRE(leaves != nullptr);
    leaves[0] |= amd6_dirty::d_bit;   // the first page of the last 2M
    leaves[511] |= amd6_dirty::d_bit; // the page that ends at 2^64-1

    std::array<std::uint64_t, 8> words{};
    dirty_bitmap bits{iova{last_2m}, 4 * KiB, words};
    iotlb_gather g;
    REQUIRE(t->read_and_clear_dirty(iova{last_2m}, 2 * MiB, bits, g));
    CHECK(words[0] == 1);
    CHECK(words[7] == std::uint64_t{1} << 63);
    for (std::size_t w = 1; w < 7; ++w) CHECK(words[w] == 0);
    CHECK(g.range == interval{last_2m, ~std::uint64_t{0}});
    CHECK((leaves[511] & amd6_dirty::d_bit) == 0);

    // A range that wraps past 2^64-1 is refused (EOVERFLOW) and cleans nothing.
    leaves[511] |= amd6_dirty::d_bit;
    auto wrapped = t->read_and_clear_dirty(iova{~std::uint64_t{0} - 0xFFF}, 0x2000, bits, g);
    REQUIRE_FALSE(wrapped);
    CHECK(wrapped.error().code == errc::eoverflow);
    CHECK((leaves[511] & amd6_dirty::d_bit) != 0);
}

TEST_CASE("PGTABLE §8: a harvest past the input width is ERANGE, and a 0-byte one EINVAL") {
    using vtd_dirty = vtd_ss<vtd_ss_config{.levels = 4, .dirty_tracking = true}>;
    table_fixture<vtd_dirty> fx(16);
    auto t = page_table<vtd_dirty, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    std::array<std::uint64_t, 1> words{};
    dirty_bitmap bits{iova{0}, 4 * KiB, words};
    iotlb_gather g;
    auto beyond = t->read_and_clear_dirty(iova{(std::uint64_t{1} << 48) - 0x1000}, 0x2000, bits, g);
    REQUIRE_FALSE(beyond);
    CHECK(beyond.error().code == errc::erange);
    auto empty = t->read_and_clear_dirty(iova{0}, 0, bits, g);
    REQUIRE_FALSE(empty);
    CHECK(empty.error().code == errc::einval);
}

TEST_CASE("PGTABLE §4.3: a harvest of whole AMD-Vi tables reports a dirty contiguous entry whole") {
    // The 64-slot masks cover tables of one-slot leaves; a NextLevel-7 entry among them
    // sends that run of 64 back to the entry-at-a-time path, which ORs the replicas.
    using amd = amd_v1<amd_v1_config{.mode = 4, .dirty_tracking = true}>;
    table_fixture<amd> fx(16);
    auto t = page_table<amd, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    const pgsize_bitmap b{4 * KiB | 64 * KiB};
    REQUIRE(t->map(iova{0}, phys_addr{GiB}, 2 * MiB, prot::read | prot::write, pgsize_bitmap{4 * KiB}));
    REQUIRE(t->unmap(iova{0x10'0000}, 64 * KiB) == 64 * KiB);
    REQUIRE(t->map(iova{0x10'0000}, phys_addr{2 * GiB}, 64 * KiB, prot::read | prot::write, b));
    pte_t* leaves = leaf_table<amd>(*t, fx.arena, 0);
    REQUIRE(leaves != nullptr);
    REQUIRE(amd::leaf_size_lg2(leaves[256], 0) == 16);
    leaves[256 + 5] |= amd::d_bit; // one replica of the 64K entry
    leaves[3] |= amd::d_bit;       // and a 4K page
    std::array<std::uint64_t, 8> words{};
    dirty_bitmap bits{iova{0}, 4 * KiB, words};
    iotlb_gather g;
    REQUIRE(t->read_and_clear_dirty(iova{0}, 2 * MiB, bits, g));
    CHECK(words[0] == 0x8);
    CHECK(words[4] == 0xFFFF); // slots 256..271: the whole entry
    for (std::size_t w : {1, 2, 3, 5, 6, 7}) CHECK(words[w] == 0);
    for (std::size_t s = 256; s < 272; ++s) CHECK((leaves[s] & amd::d_bit) == 0);
}
