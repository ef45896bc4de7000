// The walker on its own, over the mock format (tests/support/mock_format.hpp): map,
// unmap, lookup, dirty harvest, failure atomicity, hook ordering and table freeing.
// The real formats run the same algorithms in tests/conformance/pgtable/.
#include <array>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/pgtable/page_table.hpp>

#include "mock_format.hpp"
#include "pgtable_harness.hpp"

using namespace passthru;
using namespace passthru::pgtable;
using passthru::testing::list_entries;
using passthru::testing::snapshot;
using passthru::testing::table_fixture;

namespace {

using mock = passthru::testing::mock_format<>;
using mock_refuse = passthru::testing::mock_format<partial_unmap::refuse>;
// The same format without bit tests: the walker's plain loops instead of its vector ones.
using mock_plain = passthru::testing::mock_format<partial_unmap::whole_leaf, false>;
using table_t = page_table<mock, arena_allocator>;
constexpr prot rw = prot::read | prot::write;

template <class F = mock>
page_table<F, arena_allocator> make_table(table_fixture<F>& fx) {
    auto t = page_table<F, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    return std::move(*t);
}

} // namespace

TEST_CASE("page_table: an empty table translates nothing and owns only its root") {
    table_fixture<mock> fx;
    {
        auto t = make_table(fx);
        CHECK(fx.arena.live_units() == 1);
        CHECK(t.root() == phys_addr{0x4000'0000});
        for (std::uint64_t io : {std::uint64_t{42}, GiB + 42, 2 * GiB + 42})
            CHECK_FALSE(t.iova_to_phys(iova{io}));
        // The root was initialised over the arena's garbage.
        CHECK(list_entries<mock>(t, fx.arena).empty());
    }
    CHECK(fx.arena.live_units() == 0);
    CHECK(fx.arena.misuse() == 0);
}

TEST_CASE("SEMANTICS G1.3: the worked example lands as 4K, 2M x2, 4K leaves at their levels") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0x1FF000}, phys_addr{0x3FF000}, 0x402000, rw,
                  pgsize_bitmap{4 * KiB | 2 * MiB | 1 * GiB}));
    const auto entries = list_entries<mock>(t, fx.arena);
    REQUIRE(entries.size() == 4);
    CHECK(entries.at(0x1FF000).size == 4 * KiB);
    CHECK(entries.at(0x200000).size == 2 * MiB);
    CHECK(entries.at(0x200000).level == 1);
    CHECK(entries.at(0x400000).pa == 0x600000);
    CHECK(entries.at(0x600000).size == 4 * KiB);
    CHECK(t.iova_to_phys(iova{0x1FF123}) == phys_addr{0x3FF123});
    CHECK(t.iova_to_phys(iova{0x5FFFFF}) == phys_addr{0x7FFFFF});
    CHECK(t.iova_to_phys(iova{0x600FFF}) == phys_addr{0x800FFF});
    CHECK_FALSE(t.iova_to_phys(iova{0x601000}));
}

TEST_CASE("PGTABLE §0.3: test_mixed maps 0x3FE400000 up to 0x4C0600000 as 20 leaf entries") {
    table_fixture<mock> fx(64);
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0x3FE400000}, phys_addr{0x3FE400000}, 0x4C0600000 - 0x3FE400000, rw,
                  pgsize_bitmap{4 * KiB | 2 * MiB | 1 * GiB}));
    const auto entries = list_entries<mock>(t, fx.arena);
    CHECK(entries.size() == 20);
    std::size_t twomeg = 0, onegig = 0;
    for (const auto& [io, e] : entries) {
        CHECK(e.pa == io);
        twomeg += e.size == 2 * MiB;
        onegig += e.size == 1 * GiB;
    }
    CHECK(twomeg == 17);
    CHECK(onegig == 3);
}

TEMPLATE_TEST_CASE("page_table: contiguous entries fill every slot they cover with one descriptor", "", mock, mock_plain) {
    using M = TestType;
    table_fixture<M> fx;
    auto t = make_table(fx);
    // 32K at 0x8000 with a 32K-capable bitmap: one entry of 8 slots at level 0.
    REQUIRE(t.map(iova{0x8000}, phys_addr{0x1238000}, 32 * KiB, rw, pgsize_bitmap{4 * KiB | 32 * KiB}));
    const auto entries = list_entries<M>(t, fx.arena);
    REQUIRE(entries.size() == 1);
    CHECK(entries.at(0x8000).size == 32 * KiB);
    CHECK(t.iova_to_phys(iova{0xFFFF}) == phys_addr{0x123FFFF});
    // Unmapping from the entry's first byte with a 4K request removes all 8 slots.
    CHECK(t.unmap(iova{0x8000}, 4 * KiB) == 32 * KiB);
    CHECK(list_entries<M>(t, fx.arena).empty());
    // ...and the now-empty tables went back to the allocator.
    CHECK(fx.arena.live_units() == 1);
}

TEST_CASE("page_table: bad input is refused with the kernel's errno and changes nothing") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0x10000}, phys_addr{0x10000}, 0x4000, rw));
    const auto before = snapshot<mock>(t, fx.arena);
    const std::size_t live = fx.arena.live_units();

    auto code = [&](iova io, phys_addr pa, std::uint64_t size, prot p,
                    pgsize_bitmap b = format_pgsizes<mock>()) {
        auto r = t.map(io, pa, size, p, b);
        REQUIRE_FALSE(r);
        CHECK_FALSE(r.error().reason.empty());
        return r.error().code;
    };
    CHECK(code(iova{0x1000}, phys_addr{0}, 0x1000, prot::none) == errc::einval);  // PGTABLE §0.1
    CHECK(code(iova{0x1000}, phys_addr{0}, 0x1000, prot::cache) == errc::einval);
    CHECK(code(iova{0x1800}, phys_addr{0}, 0x1000, rw) == errc::einval);          // G1.2
    CHECK(code(iova{0x1000}, phys_addr{0x800}, 0x1000, rw) == errc::einval);
    CHECK(code(iova{0x1000}, phys_addr{0}, 0x800, rw) == errc::einval);
    CHECK(code(iova{0x1000}, phys_addr{0}, 0, rw) == errc::einval);
    CHECK(code(iova{0x1000}, phys_addr{0}, 0x1000, rw, pgsize_bitmap{0}) == errc::enodev); // G1.1
    CHECK(code(iova{0x1000}, phys_addr{0}, 0x1000, rw, pgsize_bitmap{1 * KiB}) == errc::enodev);
    CHECK(code(iova{0xFFFF'FFFF'FFFF'F000}, phys_addr{0}, 0x2000, rw) == errc::eoverflow);
    CHECK(code(iova{std::uint64_t{1} << 48}, phys_addr{0}, 0x1000, rw) == errc::erange);
    CHECK(code(iova{(std::uint64_t{1} << 48) - 0x1000}, phys_addr{0}, 0x2000, rw) == errc::erange);
    CHECK(code(iova{0x1000}, phys_addr{std::uint64_t{1} << 48}, 0x1000, rw) == errc::erange);
    // The end of the output range counts too, not only its start.
    CHECK(code(iova{0x1000}, phys_addr{(std::uint64_t{1} << 48) - 0x1000}, 0x2000, rw) ==
          errc::erange);
    // Over-mapping, at the start, in the middle and at the end of a live mapping.
    CHECK(code(iova{0x10000}, phys_addr{0}, 0x1000, rw) == errc::eexist);
    CHECK(code(iova{0xF000}, phys_addr{0}, 0x2000, rw) == errc::eexist);
    CHECK(code(iova{0x13000}, phys_addr{0}, 0x10000, rw) == errc::eexist);
    CHECK(code(iova{0}, phys_addr{0}, 1 * GiB, rw) == errc::eexist);

    CHECK(snapshot<mock>(t, fx.arena) == before);
    CHECK(fx.arena.live_units() == live);
}

TEST_CASE("page_table: a map that fails midway removes what it added and frees its tables") {
    SECTION("EEXIST after filling several leaf tables") {
        table_fixture<mock> fx;
        auto t = make_table(fx);
        // A page at 3M + 8K; then map [0, 4M) in 4K pages: three tables' worth first.
        REQUIRE(t.map(iova{3 * MiB + 0x2000}, phys_addr{0}, 0x1000, rw));
        const auto before = snapshot<mock>(t, fx.arena);
        const std::size_t live = fx.arena.live_units();
        auto r = t.map(iova{0}, phys_addr{0x8000'0000}, 4 * MiB, rw, pgsize_bitmap{4 * KiB});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == errc::eexist);
        CHECK(snapshot<mock>(t, fx.arena) == before);
        CHECK(fx.arena.live_units() == live);
    }
    SECTION("ENOMEM when the allocator runs dry at every possible point") {
        // Give the allocator 1..N units and map 3 leaf tables' worth across a 1G boundary:
        // every failure point must leave only the root.
        for (std::size_t units = 1; units < 8; ++units) {
            table_fixture<mock> fx(units);
            auto t = make_table(fx);
            const auto before = snapshot<mock>(t, fx.arena);
            auto r = t.map(iova{GiB - 2 * MiB}, phys_addr{0}, 4 * MiB + 0x1000, rw,
                           pgsize_bitmap{4 * KiB});
            INFO("units " << units);
            if (r) {
                CHECK(units >= 7); // root, 2 L2 tables... enough memory: it must succeed
                continue;
            }
            CHECK(r.error().code == errc::enomem);
            CHECK(snapshot<mock>(t, fx.arena) == before);
            CHECK(fx.arena.live_units() == 1);
        }
    }
}

TEMPLATE_TEST_CASE("PGTABLE §0.4: unmap removes whole entries, stops at holes and never splits", "", mock, mock_plain) {
    using M = TestType;
    table_fixture<M> fx;
    auto t = make_table(fx);
    const pgsize_bitmap b{4 * KiB | 2 * MiB};
    REQUIRE(t.map(iova{2 * MiB}, phys_addr{4 * MiB}, 4 * MiB, rw, b)); // two 2M leaves
    REQUIRE(t.map(iova{8 * MiB}, phys_addr{0}, 0x3000, rw, b));         // three 4K pages

    SECTION("starting inside a large leaf unmaps nothing") {
        CHECK(t.unmap(iova{2 * MiB + 0x1000}, 0x1000) == 0);
        CHECK(t.iova_to_phys(iova{2 * MiB}) == phys_addr{4 * MiB});
    }
    SECTION("a short request at the start of a large leaf removes the whole leaf (whole_leaf)") {
        CHECK(t.unmap(iova{2 * MiB}, 0x1000) == 2 * MiB);
        CHECK_FALSE(t.iova_to_phys(iova{2 * MiB}));
        CHECK(t.iova_to_phys(iova{4 * MiB}) == phys_addr{6 * MiB}); // not the neighbour
    }
    SECTION("a hole ends the unmap") {
        CHECK(t.unmap(iova{2 * MiB}, 8 * MiB) == 4 * MiB);
        CHECK(t.iova_to_phys(iova{8 * MiB}) == phys_addr{0});
    }
    SECTION("misaligned, empty and out-of-range requests unmap nothing") {
        CHECK(t.unmap(iova{8 * MiB + 0x800}, 0x1000) == 0);
        CHECK(t.unmap(iova{8 * MiB}, 0x800) == 0);
        CHECK(t.unmap(iova{8 * MiB}, 0) == 0);
        CHECK(t.unmap(iova{0}, 0x1000) == 0);
        CHECK(t.unmap(iova{std::uint64_t{1} << 48}, 0x1000) == 0);
    }
    SECTION("pages unmapped one by one free their table when it empties") {
        const std::size_t live = fx.arena.live_units();
        CHECK(t.unmap(iova{8 * MiB + 0x1000}, 0x1000) == 0x1000);
        CHECK(t.unmap(iova{8 * MiB}, 0x1000) == 0x1000);
        CHECK(fx.arena.live_units() == live);
        CHECK(t.unmap(iova{8 * MiB + 0x2000}, 0x1000) == 0x1000);
        CHECK(fx.arena.live_units() == live - 1);
    }
    SECTION("unmapping everything leaves only the root") {
        CHECK(t.unmap(iova{2 * MiB}, 4 * MiB) == 4 * MiB);
        CHECK(t.unmap(iova{8 * MiB}, 0x3000) == 0x3000);
        CHECK(fx.arena.live_units() == 1);
        CHECK(fx.arena.misuse() == 0);
    }
}

TEST_CASE("PGTABLE §0.4: with the refuse rule (ARM since 6.13) a partial large leaf unmaps nothing") {
    table_fixture<mock_refuse> fx;
    auto t = page_table<mock_refuse, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    REQUIRE(t->map(iova{2 * MiB}, phys_addr{0}, 2 * MiB, rw, pgsize_bitmap{4 * KiB | 2 * MiB}));
    CHECK(t->unmap(iova{2 * MiB}, 0x1000) == 0);
    CHECK(t->iova_to_phys(iova{2 * MiB}) == phys_addr{0});
    CHECK(t->unmap(iova{2 * MiB}, 2 * MiB) == 2 * MiB);
}

TEST_CASE("page_table: unmap with a gather defers freeing until release") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0x4000'0000}, phys_addr{0}, 0x3000, rw));
    const std::size_t live = fx.arena.live_units();
    iotlb_gather g;
    CHECK(t.unmap(iova{0x4000'0000}, 0x3000, g) == 0x3000);
    CHECK(g.range == interval{0x4000'0000, 0x4000'2FFF});
    CHECK(g.walk_cache);
    CHECK(g.freed.size() == 3); // the level-0, -1 and -2 tables, all emptied
    CHECK(fx.arena.live_units() == live);
    t.release(g);
    CHECK(g.freed.empty());
    CHECK(fx.arena.live_units() == 1);
}

TEST_CASE("page_table: the mapping that ends at the top of the input space") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    const std::uint64_t top = (std::uint64_t{1} << 48);
    REQUIRE(t.map(iova{top - GiB}, phys_addr{0}, GiB, rw));
    CHECK(t.iova_to_phys(iova{top - 1}) == phys_addr{GiB - 1});
    CHECK(t.unmap(iova{top - GiB}, GiB) == GiB);
    CHECK(fx.arena.live_units() == 1);
}

TEST_CASE("page_table: an unmap that runs past the input width unmaps nothing") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    const std::uint64_t top = std::uint64_t{1} << 48;
    REQUIRE(t.map(iova{top - 0x1000}, phys_addr{0x5000}, 0x1000, rw));
    // [top - 4K, top + 4K) starts inside the space but ends outside it: refused whole,
    // as generic_pt's pt_check_range refuses a last_va beyond the width.
    CHECK(t.unmap(iova{top - 0x1000}, 0x2000) == 0);
    CHECK(t.iova_to_phys(iova{top - 0x1000}) == phys_addr{0x5000});
    CHECK(t.unmap(iova{top - 0x1000}, 0x1000) == 0x1000);
}

TEST_CASE("page_table: an IOVA beyond the input width translates nothing, never a lower alias") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0x20'0000}, phys_addr{0x80'0000}, 0x1000, rw));
    const std::uint64_t alias = 0x20'0000 + (std::uint64_t{1} << 48);
    CHECK(t.leaf_at(iova{0x20'0000}));
    CHECK_FALSE(t.leaf_at(iova{alias}));
    CHECK_FALSE(t.iova_to_phys(iova{alias}));
    CHECK_FALSE(t.leaf_at(iova{0x20'0000 | (std::uint64_t{1} << 63)}));
}

TEMPLATE_TEST_CASE("PGTABLE §8: read_and_clear_dirty reports dirty leaves, ORs replicas, and cleans", "", mock, mock_plain) {
    using M = TestType;
    table_fixture<M> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0}, phys_addr{0}, 64 * KiB, rw, pgsize_bitmap{4 * KiB}));
    REQUIRE(t.map(iova{2 * MiB}, phys_addr{0}, 32 * KiB, rw, pgsize_bitmap{32 * KiB}));
    // The device writes page 3, and one replica of the 32K entry.
    pte_t* l0 = fx.arena.table_at(M::table_pa(fx.arena.table_at(
        M::table_pa(fx.arena.table_at(M::table_pa(fx.arena.table_at(t.root())[0]))[0]))[0]));
    l0[3] |= M::dirty_bit;
    pte_t* l0b = fx.arena.table_at(M::table_pa(fx.arena.table_at(
        M::table_pa(fx.arena.table_at(M::table_pa(fx.arena.table_at(t.root())[0]))[0]))[1]));
    l0b[5] |= M::dirty_bit;

    std::array<std::uint64_t, 16> words{};
    dirty_bitmap bits{iova{0}, 4 * KiB, words};
    iotlb_gather g;
    REQUIRE(t.read_and_clear_dirty(iova{0}, 4 * MiB, bits, g));
    CHECK(words[0] == 0x8);                  // page 3
    CHECK(words[8] == 0xFF);                 // 2M / 4K = bit 512 onwards: the whole 32K entry
    CHECK((l0[3] & M::dirty_bit) == 0);
    CHECK((l0b[5] & M::dirty_bit) == 0);
    CHECK(g.range == interval{0x3000, 2 * MiB + 32 * KiB - 1});

    // Clean now: a second harvest reports nothing.
    std::array<std::uint64_t, 16> again{};
    dirty_bitmap bits2{iova{0}, 4 * KiB, again};
    REQUIRE(t.read_and_clear_dirty(iova{0}, 4 * MiB, bits2, g));
    CHECK(again == std::array<std::uint64_t, 16>{});

    // NO_CLEAR leaves the bit set; a range inside the entry reports only its part.
    l0b[0] |= M::dirty_bit;
    std::array<std::uint64_t, 16> part{};
    dirty_bitmap bits3{iova{2 * MiB}, 4 * KiB, part};
    REQUIRE(t.read_and_clear_dirty(iova{2 * MiB + 8 * KiB}, 8 * KiB, bits3, g, false));
    CHECK(part[0] == 0b1100);
    CHECK((l0b[0] & M::dirty_bit) != 0);
}

TEMPLATE_TEST_CASE("PGTABLE §8: a whole leaf table harvested into a bitmap that starts mid-word", "", mock, mock_plain) {
    using M = TestType;
    // The 64-slot masks of a full table land 3 bits into the bitmap's first word, so each
    // spills into the next word: slots 0, 60, 61 and 511 are bits 3, 63, 64 and 514.
    table_fixture<M> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{2 * MiB}, phys_addr{0}, 2 * MiB, rw, pgsize_bitmap{4 * KiB}));
    pte_t* leaves = passthru::testing::leaf_table<M>(t, fx.arena, 2 * MiB);
    REQUIRE(leaves != nullptr);
    for (std::size_t s : {0, 60, 61, 511}) leaves[s] |= M::dirty_bit;
    std::array<std::uint64_t, 9> words{};
    dirty_bitmap bits{iova{2 * MiB - 3 * 4 * KiB}, 4 * KiB, words};
    iotlb_gather g;
    REQUIRE(t.read_and_clear_dirty(iova{2 * MiB}, 2 * MiB, bits, g));
    CHECK(words[0] == ((std::uint64_t{1} << 3) | (std::uint64_t{1} << 63)));
    CHECK(words[1] == 1);
    for (std::size_t w = 2; w < 8; ++w) CHECK(words[w] == 0);
    CHECK(words[8] == 0b100);
    CHECK(g.range == interval{2 * MiB, 4 * MiB - 1});
    for (std::size_t s : {0, 60, 61, 511}) CHECK((leaves[s] & M::dirty_bit) == 0);
}

TEMPLATE_TEST_CASE("PGTABLE §8: a whole leaf table's harvest syncs and gathers exactly the span of its dirty slots",
                   "", mock, mock_plain) {
    using M = TestType;
    // Dirty slots 70 and 200: the first and last dirty runs (1 and 3) are neither the
    // table's first nor its last, and neither slot starts or ends its run.
    table_fixture<M> fx;
    auto created = page_table<M, arena_allocator, passthru::testing::sync_recorder>::create(fx.arena);
    REQUIRE(created);
    auto& t = *created;
    REQUIRE(t.map(iova{2 * MiB}, phys_addr{0}, 2 * MiB, rw, pgsize_bitmap{4 * KiB}));
    pte_t* leaves = passthru::testing::leaf_table<M>(t, fx.arena, 2 * MiB);
    REQUIRE(leaves != nullptr);
    for (std::size_t s : {70, 200}) leaves[s] |= M::dirty_bit;
    const bool clear = GENERATE(true, false);
    t.hooks().events.clear();
    std::array<std::uint64_t, 8> words{};
    dirty_bitmap bits{iova{2 * MiB}, 4 * KiB, words};
    iotlb_gather g;
    REQUIRE(t.read_and_clear_dirty(iova{2 * MiB}, 2 * MiB, bits, g, clear));
    const std::array<std::uint64_t, 8> expect{0, std::uint64_t{1} << 6, 0, std::uint64_t{1} << 8, 0, 0, 0, 0};
    CHECK(words == expect);
    if (clear) {
        CHECK(g.range == interval{2 * MiB + 70 * 4 * KiB, 2 * MiB + 201 * 4 * KiB - 1});
        REQUIRE(t.hooks().events.size() == 131);
        CHECK(t.hooks().events.front().slot == leaves + 70);
        CHECK(t.hooks().events.back().slot == leaves + 200);
    } else {
        CHECK(!g.range);
        CHECK(t.hooks().events.empty());
    }
    for (std::size_t s : {70, 200}) CHECK(((leaves[s] & M::dirty_bit) == 0) == clear);
}

TEST_CASE("page_table: hooks see every written slot, and a table before its parent descriptor") {
    table_fixture<mock> fx;
    auto created = page_table<mock, arena_allocator, passthru::testing::sync_recorder>::create(fx.arena);
    REQUIRE(created);
    auto& t = *created;
    REQUIRE(t.map(iova{GiB - 8 * KiB}, phys_addr{0}, 2 * MiB + 16 * KiB, rw,
                  pgsize_bitmap{4 * KiB | 2 * MiB}));
    REQUIRE(t.map(iova{3 * GiB}, phys_addr{0}, GiB, rw));
    CHECK(passthru::testing::sync_order_ok<mock>(t, fx.arena, t.hooks()));
    CHECK(t.unmap(iova{GiB - 8 * KiB}, 8 * KiB) == 8 * KiB);
    CHECK(t.hooks().flushes == 1);
    CHECK(passthru::testing::sync_order_ok<mock>(t, fx.arena, t.hooks()));
}

namespace {
// A whole static-partitioning layout computed in constant evaluation.
constexpr bool constexpr_map_works() {
    std::array<pte_t, 8 * 512> memory{};
    arena_allocator arena(memory, phys_addr{0x8000'0000});
    auto root = arena.alloc_table(512);
    if (!root) return false;
    page_table<mock, arena_allocator> t(arena, *root);
    if (!t.map(iova{0x4000'0000}, phys_addr{0x1'0000'0000}, 2 * MiB + 0x1000, rw)) return false;
    const bool ok = t.iova_to_phys(iova{0x4020'0abc}) == phys_addr{0x1'0020'0abc} &&
                    t.unmap(iova{0x4000'0000}, 2 * MiB) == 2 * MiB;
    return ok && arena.live_units() == 4;
}
static_assert(constexpr_map_works());
} // namespace

TEST_CASE("page_table: leaf_at reports the entry that translates an IOVA") {
    table_fixture<mock> fx;
    auto t = make_table(fx);
    REQUIRE(t.map(iova{0x20'0000}, phys_addr{0x80'0000}, 2 * MiB + 32 * KiB, rw,
                  pgsize_bitmap{4 * KiB | 32 * KiB | 2 * MiB}));
    const auto big = t.leaf_at(iova{0x3F'FFFF});
    REQUIRE(big);
    CHECK(big->first == iova{0x20'0000});
    CHECK(big->pa == phys_addr{0x80'0000});
    CHECK(big->size_lg2 == 21);
    CHECK(big->level == 1);
    CHECK(big->attrs == rw);
    const auto contiguous = t.leaf_at(iova{0x40'7123});
    REQUIRE(contiguous);
    CHECK(contiguous->first == iova{0x40'0000});
    CHECK(contiguous->size_lg2 == 15); // one 32K entry of 8 slots
    CHECK(contiguous->level == 0);
    CHECK(mock::classify(contiguous->pte, 0) == pte_kind::leaf);
    CHECK_FALSE(t.leaf_at(iova{0x40'8000}));
    CHECK_FALSE(t.leaf_at(iova{std::uint64_t{1} << 48}));
}

TEST_CASE("PGTABLE §1.8: unlike io-pgtable-arm, a block-sized unmap over a sparse table stops at the hole") {
    // io-pgtable-arm frees a whole sub-table when asked to unmap its block-sized span and
    // reports the block size; the walker keeps SEMANTICS G1.5's rule instead: whole
    // entries, from the start, until the first hole. Mapping a block over a live table
    // is EEXIST, where io-pgtable-arm would replace the sub-table.
    table_fixture<mock> fx;
    auto t = make_table(fx);
    const pgsize_bitmap b{4 * KiB | 2 * MiB};
    REQUIRE(t.map(iova{0}, phys_addr{0}, 4 * KiB, rw, b));
    REQUIRE(t.map(iova{0x2000}, phys_addr{0x2000}, 4 * KiB, rw, b));
    auto block = t.map(iova{0}, phys_addr{0}, 2 * MiB, rw, b);
    REQUIRE_FALSE(block);
    CHECK(block.error().code == errc::eexist);
    const std::size_t live = fx.arena.live_units();
    CHECK(t.unmap(iova{0}, 2 * MiB) == 4 * KiB);
    CHECK(t.iova_to_phys(iova{0x2000}) == phys_addr{0x2000});
    CHECK(fx.arena.live_units() == live);
}
