// ARM LPAE tables built by the walker: the Linux selftest sequence for every
// granule x IAS x OAS the selftests use (PGTABLE §1.12, both stages), the full 4-level
// walk of §1.11 example 10 at its exact table addresses, the concatenated stage-2 root,
// hardware dirty tracking, the 6.13 partial-unmap rule, and randomized map/unmap.
#include <array>
#include <utility>

#include <catch2/catch.hpp>

#include <passthru/pgtable/arm_lpae.hpp>

#include "pgtable_suites.hpp"

using namespace passthru;
using namespace passthru::pgtable;
using namespace passthru::testing;

namespace {

// The selftest matrix: granule x IAS x OAS >= IAS, IAS/OAS in {32,36,40,42,44,48}
// (63 configurations), for one stage.
template <arm_stage S>
constexpr auto selftest_configs() {
    constexpr std::array<unsigned, 6> widths{32, 36, 40, 42, 44, 48};
    std::array<arm_lpae_config, 63> out{};
    std::size_t n = 0;
    for (std::uint32_t g : {4096u, 16384u, 65536u})
        for (unsigned ias : widths)
            for (unsigned oas : widths)
                if (oas >= ias) out[n++] = {.stage = S, .granule = g, .ias = ias, .oas = oas};
    return out;
}
constexpr auto s1_configs = selftest_configs<arm_stage::s1>();
constexpr auto s2_configs = selftest_configs<arm_stage::s2>();

template <const auto& Configs, std::size_t... I>
void run_selftests(std::index_sequence<I...>) {
    std::size_t ran = 0;
    // Linux refuses a stage-2 pair whose mandatory concatenation needs > 16 tables.
    auto one = [&]<std::size_t K>() {
        constexpr arm_lpae_config c = Configs[K];
        if constexpr (arm_lpae_valid(c)) {
            INFO("granule " << c.granule << " ias " << c.ias << " oas " << c.oas);
            const auto failures = selftest_sequence<arm_lpae<c>>(c.granule == 65536 ? 24 : 96);
            for (const std::string& f : failures) FAIL_CHECK(f);
            ++ran;
        }
    };
    (one.template operator()<I>(), ...);
    // Every pair Linux accepts ran (OAS >= IAS never needs more than 16 concatenated tables).
    CHECK(ran == sizeof...(I));
}

constexpr prot rwc = prot::read | prot::write | prot::cache;
using s1_4k = arm_lpae<arm_lpae_config{}>;

} // namespace

TEST_CASE("PGTABLE §1.12: the selftest sequence on all 63 stage-1 configurations") {
    run_selftests<s1_configs>(std::make_index_sequence<63>{});
}

TEST_CASE("PGTABLE §1.12: the selftest sequence on all 63 stage-2 configurations") {
    run_selftests<s2_configs>(std::make_index_sequence<63>{});
}

TEST_CASE("PGTABLE §1.11 example 10: the 4-level walk for 0x00007F1234567000 at its exact addresses") {
    // Root at 0x80000000; the arena hands out the next pages in order, so the walk's
    // tables land at 0x80001000, 0x80002000 and 0x80003000 as in the example.
    table_fixture<s1_4k> fx(8, phys_addr{0x8000'0000});
    auto t = page_table<s1_4k, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    REQUIRE(t->map(iova{0x00007F1234567000}, phys_addr{0x887654000}, 4 * KiB, rwc));
    const pte_t* l0 = fx.arena.table_at(phys_addr{0x8000'0000});
    const pte_t* l1 = fx.arena.table_at(phys_addr{0x8000'1000});
    const pte_t* l2 = fx.arena.table_at(phys_addr{0x8000'2000});
    const pte_t* l3 = fx.arena.table_at(phys_addr{0x8000'3000});
    CHECK(l0[254] == 0x80001003);
    CHECK(l1[72] == 0x80002003);
    CHECK(l2[418] == 0x80003003);
    CHECK(l3[359] == 0x0000000887654F47);
    // Nothing else is set anywhere in the four tables.
    std::size_t nonzero = 0;
    for (const pte_t* tbl : {l0, l1, l2, l3})
        for (std::size_t i = 0; i < 512; ++i) nonzero += tbl[i] != 0;
    CHECK(nonzero == 4);
    CHECK(s1_4k::registers(t->root()).ttbr == 0x8000'0000);
}

TEST_CASE("PGTABLE §1.11 example 1-2: 2M blocks at stage 1 and in a concatenated stage-2 root") {
    SECTION("stage 1: L0[0] -> L1[1] -> L2[0] block 0x0000000080000F45") {
        table_fixture<s1_4k> fx(8, phys_addr{0x4000'0000});
        auto t = page_table<s1_4k, arena_allocator>::create(fx.arena);
        REQUIRE(t);
        REQUIRE(t->map(iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB, rwc));
        const auto e = list_entries<s1_4k>(*t, fx.arena);
        REQUIRE(e.size() == 1);
        CHECK(e.at(0x4000'0000).pte == 0x0000000080000F45);
        CHECK(e.at(0x4000'0000).level == 1); // ARM level 2
    }
    SECTION("stage 2, IAS 40 / OAS 40: 1024-slot root, index IOVA[39:30] = 1, block 0x800007FD") {
        using s2 = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .ias = 40, .oas = 40}>;
        static_assert(s2::top_level == 2 && s2::table_lg2(2) == 10);
        table_fixture<s2> fx(8, phys_addr{0x4000'0000});
        auto t = page_table<s2, arena_allocator>::create(fx.arena);
        REQUIRE(t);
        REQUIRE(t->map(iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB, rwc));
        const pte_t* root = fx.arena.table_at(t->root());
        CHECK(s2::classify(root[1], 2) == pte_kind::table);
        const auto e = list_entries<s2>(*t, fx.arena);
        REQUIRE(e.size() == 1);
        CHECK(e.at(0x4000'0000).pte == 0x00000000800007FD);
        // The concatenated root is one 8 KiB, 8 KiB-aligned allocation.
        CHECK(t->root().value % (8 * KiB) == 0);
        // The last 1G page below 2^40 indexes the root's last slot.
        REQUIRE(t->map(iova{(std::uint64_t{1} << 40) - GiB}, phys_addr{0}, GiB, rwc));
        CHECK(s2::classify(root[1023], 2) == pte_kind::leaf);
    }
}

TEST_CASE("PGTABLE §1.6: a 64K-granule fill across PA 2^48 packs every page's PA[51:48] anew") {
    // Descriptors are linear in the PA only inside one 2^48 block (leaf_linear_lg2): past
    // it, PA bit 48 lives in descriptor bit 12, so the walker must start a new fill there.
    using f = arm_lpae<arm_lpae_config{.granule = 65536, .ias = 52, .oas = 52}>;
    table_fixture<f> fx(8);
    auto t = page_table<f, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    const std::uint64_t boundary = std::uint64_t{1} << 48;
    REQUIRE(t->map(iova{GiB}, phys_addr{boundary - 2 * 64 * KiB}, 4 * 64 * KiB, rwc,
                   pgsize_bitmap{64 * KiB}));
    const auto e = list_entries<f>(*t, fx.arena);
    REQUIRE(e.size() == 4);
    for (std::uint64_t k = 0; k < 4; ++k) {
        INFO("page " << k);
        const entry_info& page = e.at(GiB + k * 64 * KiB);
        CHECK(page.pa == boundary - 2 * 64 * KiB + k * 64 * KiB);
        CHECK(page.pte == f::make_leaf(phys_addr{page.pa}, 0, 16, rwc));
    }
    // PA 2^48 itself: bit 48 of the PA is bit 12 of the descriptor, and [47:16] are 0.
    CHECK((e.at(GiB + 2 * 64 * KiB).pte & 0x0000'FFFF'FFFF'F000) == 0x1000);
}

TEST_CASE("PGTABLE §0.4: ARM since 6.13 refuses to unmap part of a block, whole blocks go") {
    table_fixture<s1_4k> fx;
    auto t = page_table<s1_4k, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    REQUIRE(t->map(iova{2 * MiB}, phys_addr{0}, 4 * MiB, rwc));
    CHECK(t->unmap(iova{2 * MiB}, 4 * KiB) == 0);
    CHECK(t->unmap(iova{2 * MiB}, 3 * MiB) == 2 * MiB); // the second block would overshoot
    CHECK(t->iova_to_phys(iova{4 * MiB}) == phys_addr{2 * MiB});
    CHECK(t->unmap(iova{4 * MiB}, 2 * MiB) == 2 * MiB);
    CHECK(fx.arena.live_units() == 1);
}

TEST_CASE("PGTABLE §8: stage-1 HTTU dirty state through the walker, DBM and AP2") {
    using hd = arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>;
    table_fixture<hd> fx;
    auto t = page_table<hd, arena_allocator>::create(fx.arena);
    REQUIRE(t);
    REQUIRE(t->map(iova{0}, phys_addr{0x4000'0000}, 16 * KiB, rwc));
    REQUIRE(t->map(iova{2 * MiB}, phys_addr{0x4000'0000}, 2 * MiB, rwc));
    REQUIRE(t->map(iova{8 * MiB}, phys_addr{0}, 4 * KiB, prot::read)); // read-only: never dirty

    // New writable leaves start writable-dirty (§1.11 example 4).
    std::array<std::uint64_t, 64> words{};
    dirty_bitmap bits{iova{0}, 4 * KiB, words};
    iotlb_gather g;
    REQUIRE(t->read_and_clear_dirty(iova{0}, 16 * MiB, bits, g));
    CHECK(words[0] == 0xF);                   // the four 4K pages
    for (std::size_t w = 8; w < 16; ++w) CHECK(words[w] == ~std::uint64_t{0}); // the 2M block
    CHECK(words[32] == 0);                    // 8M: read-only
    CHECK(list_entries<hd>(*t, fx.arena).at(0).pte == 0x0008000040000FC7); // cleaned: AP[2] set

    // A device write clears AP[2] on one page: only that page is reported next time.
    pte_t* slot = nullptr;
    {
        const pte_t* l0 = fx.arena.table_at(t->root());
        const pte_t* l1 = fx.arena.table_at(hd::table_pa(l0[0]));
        const pte_t* l2 = fx.arena.table_at(hd::table_pa(l1[0]));
        slot = fx.arena.table_at(hd::table_pa(l2[0])) + 2;
    }
    *slot &= ~(pte_t{1} << 7);
    std::array<std::uint64_t, 64> again{};
    dirty_bitmap bits2{iova{0}, 4 * KiB, again};
    REQUIRE(t->read_and_clear_dirty(iova{0}, 16 * MiB, bits2, g));
    CHECK(again[0] == 0x4);
    for (std::size_t w = 1; w < 64; ++w) CHECK(again[w] == 0);
}

TEST_CASE("PGTABLE §7.4: pgsize_boundary and test_mixed on ARM stage 1 and stage 2") {
    generic_pt_regressions<s1_4k>();
    generic_pt_regressions<arm_lpae<arm_lpae_config{.stage = arm_stage::s2}>>();
}

TEST_CASE("PGTABLE §9: random map and unmap match the reference model (ARM LPAE)") {
    SECTION("stage 1, 4K, 48-bit, across a 512 GiB root boundary") {
        random_vs_reference<s1_4k>(512 * GiB - 512 * MiB, GiB, 3000, 2048);
    }
    SECTION("stage 2, 4K, IAS 40 / OAS 40: concatenated root") {
        random_vs_reference<arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .ias = 40, .oas = 40}>>(
            256 * GiB - 512 * MiB, GiB, 3000, 2048);
    }
    SECTION("stage 1, 16K, 48-bit") {
        random_vs_reference<arm_lpae<arm_lpae_config{.granule = 16384}>>(
            128 * GiB - 512 * MiB, GiB, 2000, 512);
    }
    SECTION("stage 1, 64K, 52-bit: output addresses across the 2^48 packing boundary") {
        using f = arm_lpae<arm_lpae_config{.granule = 65536, .ias = 52, .oas = 52}>;
        static_assert(f::leaf_linear_lg2 == 48);
        random_vs_reference<f>(4 * TiB - 2 * GiB, 4 * GiB, 2000, 64,
                               (std::uint64_t{1} << 48) - 2 * GiB);
    }
}
