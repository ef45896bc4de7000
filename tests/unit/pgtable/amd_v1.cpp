// AMD-Vi v1 host format (PGTABLE §4) in isolation: the computed descriptors of §4.2 written
// out by hand, NextLevel=7 contiguous entries, the mode geometry, and the generic_pt format
// tests of §7.4 (radix tiling, possible sizes, entry OA, table pointer, attribute round
// trip, dirty on replicated slots). The walker is tested elsewhere: where an entry spans
// several slots, these tests fill a plain array the way the walker must.
#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <string_view>
#include <string>
#include <type_traits>
#include <vector>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/amd_v1.hpp>

#include "format_properties.hpp"

using passthru::GiB;
using passthru::low_mask;
using passthru::MiB;
using passthru::phys_addr;
using passthru::prot;
using passthru::pte_kind;
using passthru::pte_t;
using passthru::TiB;
using passthru::pgtable::amd_v1;
using passthru::pgtable::amd_v1_config;

namespace {

using amd1 = amd_v1<amd_v1_config{.mode = 1}>;
using amd2 = amd_v1<amd_v1_config{.mode = 2}>;
using amd3 = amd_v1<amd_v1_config{.mode = 3}>;
using amd4 = amd_v1<amd_v1_config{.mode = 4}>;
using amd5 = amd_v1<amd_v1_config{.mode = 5}>;
using amd6 = amd_v1<amd_v1_config{.mode = 6}>;
using amd4_nofc = amd_v1<amd_v1_config{.mode = 4, .force_coherent = false}>;
using amd6_dirty = amd_v1<amd_v1_config{.mode = 6, .dirty_tracking = true}>;
using amd3_nofc_dirty =
    amd_v1<amd_v1_config{.mode = 3, .force_coherent = false, .dirty_tracking = true}>;

constexpr prot rw = prot::read | prot::write;
constexpr pte_t fc = pte_t{1} << 60; // PGTABLE §4.1

// GENMASK(hi, lo).
constexpr std::uint64_t genmask(unsigned hi, unsigned lo) {
    return low_mask(hi) & ~(lo == 0 ? 0 : low_mask(lo - 1));
}

// The OAs test_entry_oa installs for a size (generic_pt: a test OA, 0 and the max OA).
template <class F>
std::array<std::uint64_t, 3> test_oas(unsigned size_lg2) {
    const std::uint64_t in_space = low_mask(F::oa_bits - 1);
    const std::uint64_t aligned = ~low_mask(size_lg2 - 1);
    return {0x000A'BCDE'F123'4000 & in_space & aligned, 0, in_space & aligned};
}

// Every prot 0..63 the walker passes to make_leaf (READ or WRITE set, PGTABLE §0.1).
template <class Fn>
void for_each_accepted_prot(Fn fn) {
    for (unsigned v = 0; v < 64; ++v)
        if (v & 3u) fn(static_cast<prot>(v));
}

// Calls fn(level, size_lg2) for every leaf size of every level.
template <class F, class Fn>
void for_each_leaf_size(Fn fn) {
    for (unsigned level = 0; level <= F::top_level; ++level)
        for (unsigned s = 12; s < 64; ++s)
            if (F::leaf_sizes(level) >> s & 1) fn(level, s);
}

template <class F>
concept has_dirty_ops = requires(pte_t p) {
    F::is_dirty(p);
    F::make_clean(p);
};

} // namespace

// Every configuration is a PageTableFormat.
static_assert(passthru::PageTableFormat<amd_v1<>>);
static_assert(passthru::PageTableFormat<amd1>);
static_assert(passthru::PageTableFormat<amd2>);
static_assert(passthru::PageTableFormat<amd3>);
static_assert(passthru::PageTableFormat<amd5>);
static_assert(passthru::PageTableFormat<amd6>);
static_assert(passthru::PageTableFormat<amd4_nofc>);
static_assert(passthru::PageTableFormat<amd6_dirty>);
static_assert(passthru::PageTableFormat<amd3_nofc_dirty>);

// Descriptor values (PGTABLE §4, §7.3).
static_assert(amd_v1<>::top_level == 3 && amd_v1<>::va_bits == 48 && amd_v1<>::oa_bits == 52);
static_assert(amd6::top_level == 5 && amd6::va_bits == 64);
static_assert(amd6::table_lg2(5) == 7 && amd6::table_lg2(4) == 9);
static_assert(amd6::leaf_sizes(3) == 0xFF00'0000'0000); // the 512G level (§7.4)
static_assert(amd6::leaf_linear_lg2 == 52);
static_assert(amd6::partial_leaf_unmap == passthru::partial_unmap::whole_leaf);
static_assert(!passthru::DirtyTrackingFormat<amd4> && passthru::DirtyTrackingFormat<amd6_dirty>);
static_assert(!has_dirty_ops<amd4> && has_dirty_ops<amd6_dirty>);
static_assert(amd4::name == std::string_view{"AMD-Vi v1"});
// Linux's generic_pt bitmap: every power of two 4K..2^51 except 512G (§4.1, §7.3).
static_assert(passthru::pgtable::format_pgsizes<amd6>().bits == 0x000F'FF7F'FFFF'F000);

TEST_CASE("PGTABLE §4.2: AMD v1 default-size leaves and PDEs equal the computed examples") {
    SECTION("2 MiB RW leaf at level 1 (NL=0) -> PA 0x40000000, with and without FC") {
        const pte_t e = amd4::make_leaf(phys_addr{0x4000'0000}, 1, 21, rw);
        CHECK(e == 0x7000'0000'4000'0001);
        CHECK(amd4_nofc::make_leaf(phys_addr{0x4000'0000}, 1, 21, rw) == 0x6000'0000'4000'0001);
        CHECK(amd4::classify(e, 1) == pte_kind::leaf);
        CHECK(amd4::leaf_pa(e, 1).value == 0x4000'0000);
        CHECK(amd4::leaf_size_lg2(e, 1) == 21);
    }
    SECTION("4 KiB read-only leaf -> PA 0x12345000, without and with FC") {
        const pte_t e = amd4_nofc::make_leaf(phys_addr{0x1234'5000}, 0, 12, prot::read);
        CHECK(e == 0x2000'0000'1234'5001);
        CHECK(amd4::make_leaf(phys_addr{0x1234'5000}, 0, 12, prot::read) ==
              0x3000'0000'1234'5001);
        CHECK(amd4_nofc::leaf_prot(e, 0) == prot::read);
        CHECK(amd4::leaf_prot(0x3000'0000'1234'5001, 0) == (prot::read | prot::cache));
    }
    SECTION("PDE in the level-2 table -> table at PA 0x123456000: NL=2") {
        const pte_t e = amd4::make_table(phys_addr{0x1'2345'6000}, 2);
        CHECK(e == 0x6000'0001'2345'6401);
        CHECK(amd4_nofc::make_table(phys_addr{0x1'2345'6000}, 2) == e); // no FC on tables
        CHECK(amd4::classify(e, 2) == pte_kind::table);
        CHECK(amd4::table_pa(e).value == 0x1'2345'6000);
    }
}

TEST_CASE("PGTABLE §4.2: AMD v1 NextLevel=7 leaves equal the computed examples and decode") {
    struct row {
        const char* what;
        unsigned level, size_lg2;
        std::uint64_t pa;
        pte_t no_fc; // PGTABLE §4.2, as written there
        unsigned slots;
    };
    const row r = GENERATE(values<row>({
        {"32 KiB at 0x80000, level 0", 0, 15, 0x8'0000, 0x6000'0000'0008'3E01, 8},
        {"64 KiB at 0x1230000, level 0", 0, 16, 0x123'0000, 0x6000'0000'0123'7E01, 16},
        {"8 KiB at 0x80000, level 0 (bit 12 = 0 means 8K)", 0, 13, 0x8'0000,
         0x6000'0000'0008'0E01, 2},
        {"4 MiB at 0x400000 in a level-1 table", 1, 22, 0x40'0000, 0x6000'0000'005F'FE01, 2},
    }));
    INFO(r.what);
    CHECK(amd4_nofc::make_leaf(phys_addr{r.pa}, r.level, r.size_lg2, rw) == r.no_fc);
    // "Add 0x1000000000000000 to each leaf for FC as Linux writes them."
    CHECK(amd4::make_leaf(phys_addr{r.pa}, r.level, r.size_lg2, rw) == r.no_fc + fc);
    for (const pte_t e : {r.no_fc, r.no_fc + fc}) {
        CHECK(amd4::classify(e, r.level) == pte_kind::leaf);
        CHECK(amd4::next_level(e) == 7);
        CHECK(amd4::leaf_size_lg2(e, r.level) == r.size_lg2);
        CHECK(amd4::leaf_pa(e, r.level).value == r.pa);
        CHECK((1u << (amd4::leaf_size_lg2(e, r.level) - amd4::item_lg2(r.level))) == r.slots);
        CHECK(amd4::leaf_prot(e, r.level) == (e & fc ? rw | prot::cache : rw));
    }
}

TEST_CASE("PGTABLE §4: AMD v1 mode m is m levels over 2^(12+9m) bytes, and Mode and root go "
          "in the DTE") {
    CHECK(amd1::va_bits == 21);
    CHECK(amd2::va_bits == 30);
    CHECK((std::uint64_t{1} << amd3::va_bits) == 512 * GiB);
    CHECK((std::uint64_t{1} << amd4::va_bits) == 256 * TiB);
    CHECK((std::uint64_t{1} << amd5::va_bits) == 128 * 1024 * TiB); // 128 PiB
    CHECK(amd6::va_bits == 64);                                      // the full space
    CHECK(amd1::top_level == 0);
    CHECK(amd3::top_level == 2);
    CHECK(amd6::top_level == 5);
    CHECK(amd3::registers(phys_addr{0x1000}).mode == 3);
    CHECK(amd6::registers(phys_addr{0x1000}).mode == 6);
    CHECK(amd6::registers(phys_addr{0x1000}).mode == amd6::top_level + 1); // generic_pt

    // DTE quadword 0. Mode [11:9] and root [51:12] are PGTABLE §4; V (0), TV (1), HAD
    // [8:7], IR (61) and IW (62) are [arch], taken from Linux's amd_iommu_types.h
    // (DTE_FLAG_*) and amd_iommu_set_dte_v1, not from PGTABLE.
    CHECK(amd4::registers(phys_addr{0x1'2345'6000}).dte0() == 0x6000'0001'2345'6803);
    CHECK(amd3::registers(phys_addr{0xF'FFFF'FFFF'F000}).dte0() == 0x600F'FFFF'FFFF'F603);
    CHECK(amd6_dirty::registers(phys_addr{0x1'2345'6000}).dte0() == 0x6000'0001'2345'6D83);
    CHECK(amd6_dirty::registers(phys_addr{0x1000}).host_dirty);
    CHECK_FALSE(amd6::registers(phys_addr{0x1000}).host_dirty);
}

TEMPLATE_TEST_CASE("PGTABLE §4: AMD v1 level L decodes IOVA[20+9L : 12+9L], the 6-level root [63:57]",
                   "[pgtable][amd]", amd1, amd2, amd3, amd4, amd5, amd6) {
    using F = TestType;
    // §4: level L decodes VA[20+9L : 12+9L]; the 6-level root only VA[63:57].
    constexpr std::array<std::uint64_t, 6> fields{genmask(20, 12), genmask(29, 21),
                                                  genmask(38, 30), genmask(47, 39),
                                                  genmask(56, 48), genmask(63, 57)};
    CHECK(F::item_lg2(0) == 12);
    for (unsigned level = 0; level <= F::top_level; ++level) {
        const unsigned lo = F::item_lg2(level), hi = lo + F::table_lg2(level) - 1;
        CHECK(genmask(hi, lo) == fields[level]);
    }
}

TEMPLATE_TEST_CASE("PGTABLE §4.1: AMD v1 levels offer the slot size up to half a table, never 512G",
                   "[pgtable][amd]", amd1, amd2, amd3, amd4, amd5, amd6) {
    using F = TestType;
    for (unsigned level = 0; level <= F::top_level; ++level) {
        const std::uint64_t sizes = F::leaf_sizes(level);
        const unsigned item = F::item_lg2(level);
        INFO("level " << level);
        CHECK((sizes & (std::uint64_t{1} << 39)) == 0);                  // no 512G (§4.1)
        if (level == 3)
            CHECK(sizes == 0xFF00'0000'0000); // 1T..128T: the generic_pt exception
        else if (item <= 51)
            CHECK((sizes >> item & 1) == 1); // the slot size itself
        else
            CHECK(sizes == 0); // level 5: 2^57 slots, no leaves (nothing above 2^51)
    }
    // Each level exactly (§4.1: 4K…1M, 2M…512M, 1G…256G, 1T…128T, then capped at 2^51).
    constexpr std::array<std::uint64_t, 6> exact{0x1F'F000,           0x3FE0'0000,
                                                 0x7F'C000'0000,      0xFF00'0000'0000,
                                                 0xF'0000'0000'0000, 0};
    for (unsigned level = 0; level <= F::top_level; ++level)
        CHECK(F::leaf_sizes(level) == exact[level]);
    for (unsigned level = F::top_level + 1; level < 6; ++level) CHECK(F::leaf_sizes(level) == 0);
}

TEST_CASE("PGTABLE §4.1: an AMD v1 domain's page sizes follow its mode") {
    CHECK(passthru::pgtable::format_pgsizes<amd1>().bits == 0x1F'F000);           // 4K..1M
    CHECK(passthru::pgtable::format_pgsizes<amd3>().bits == 0x7F'FFFF'F000);      // 4K..256G
    CHECK(passthru::pgtable::format_pgsizes<amd4>().bits == 0xFF7F'FFFF'F000);    // 4K..128T minus 512G
    CHECK(passthru::pgtable::format_pgsizes<amd5>().bits == 0x000F'FF7F'FFFF'F000); // 4K..2^51 minus 512G
    CHECK(passthru::pgtable::format_pgsizes<amd6>() == passthru::pgtable::format_pgsizes<amd5>());
}

TEMPLATE_TEST_CASE("PGTABLE §4.1: AMD v1 leaves of the slot size are NextLevel 0, larger ones 7",
                   "[pgtable][amd]", amd1, amd3, amd4, amd6, amd4_nofc, amd6_dirty) {
    using F = TestType;
    for_each_leaf_size<F>([&](unsigned level, unsigned s) {
        for (const std::uint64_t oa : test_oas<F>(s)) {
            INFO("level " << level << " size 2^" << s << " oa 0x" << std::hex << oa);
            CHECK(F::next_level(F::make_leaf(phys_addr{oa}, level, s, rw)) ==
                  (s == F::item_lg2(level) ? 0u : 7u));
        }
    });
}

TEMPLATE_TEST_CASE("PGTABLE §4.1: AMD v1 PDEs carry NL = the child's level",
                   "[pgtable][amd]", amd3, amd6, amd4_nofc) {
    using F = TestType;
    for (unsigned level = 1; level <= F::top_level; ++level) {
        for (const std::uint64_t pa : test_oas<F>(12)) {
            const pte_t e = F::make_table(phys_addr{pa}, level);
            // PA | NL | PR | IR | IW (§4.1).
            CHECK(e == (0x6000'0000'0000'0001 | pa | std::uint64_t{level} << 9));
            CHECK(F::classify(e, level) == pte_kind::table);
            CHECK(F::table_pa(e).value == pa);
        }
    }
}

TEST_CASE("PGTABLE §4.1: AMD v1 classifies by PR and NextLevel") {
    for (unsigned level = 0; level <= 5; ++level) {
        CHECK(amd6::classify(0, level) == pte_kind::empty);
        CHECK(amd6::classify(0x7000'0000'4000'0E00, level) == pte_kind::empty); // PR clear
        CHECK(amd6::classify(0x6000'0000'4000'0001, level) == pte_kind::leaf);  // NL 0
        CHECK(amd6::classify(0x6000'0000'4000'0E01, level) == pte_kind::leaf);  // NL 7
    }
    for (unsigned nl = 1; nl <= 6; ++nl) {
        const pte_t e = 0x6000'0000'0000'5001 | std::uint64_t{nl} << 9;
        CHECK(amd6::classify(e, nl) == pte_kind::table);
        CHECK(amd6::classify(e, 0) == pte_kind::leaf); // level 0 holds only leaves (generic_pt)
    }
}

TEST_CASE("PGTABLE §4.1: AMD v1 drops prot::cache/noexec/mmio/priv, and FC follows "
          "force_coherent") {
    const phys_addr pa{0x1234'5000};
    for_each_accepted_prot([&](prot p) {
        INFO("prot " << static_cast<unsigned>(p));
        CHECK(amd4_nofc::make_leaf(pa, 0, 12, p) == amd4_nofc::make_leaf(pa, 0, 12, p & rw));
        CHECK((amd4_nofc::make_leaf(pa, 0, 12, p) & fc) == 0);
        CHECK((amd4::make_leaf(pa, 0, 12, p) & fc) == fc);
        CHECK(amd4_nofc::leaf_prot(amd4_nofc::make_leaf(pa, 0, 12, p), 0) == (p & rw));
        CHECK(amd4::leaf_prot(amd4::make_leaf(pa, 0, 12, p), 0) == ((p & rw) | prot::cache));
    });
    // Everything at once: only PR, NL, the address, FC, IR and IW are ever set.
    CHECK(amd4::make_leaf(phys_addr{0x8'0000'0000'0000}, 3, 47, static_cast<prot>(63)) ==
          0x7008'3FFF'FFFF'FE01);
}

TEST_CASE("PGTABLE §4.3: AMD v1 D is bit 6, and cleaning leaves A (bit 5) alone") {
    constexpr pte_t d = pte_t{1} << 6, a = pte_t{1} << 5; // PGTABLE §4.1 (A is [arch])
    const pte_t e = amd6_dirty::make_leaf(phys_addr{0}, 0, 12, rw);
    CHECK_FALSE(amd6_dirty::is_dirty(e));
    CHECK_FALSE(amd6_dirty::is_dirty(a | 1));
    CHECK(amd6_dirty::is_dirty(d | 1));
    CHECK(amd6_dirty::make_clean(e | d | a) == (e | a));
    CHECK(amd3_nofc_dirty::make_clean(d | a | 1) == (a | 1));
}

TEST_CASE("PageTableFormat leaf_linear_lg2: AMD v1's promise ends where the address field does, at 2^52") {
    for (const unsigned s : {12u, 16u, 21u, 30u}) {
        const unsigned level = s < 21 ? 0 : s < 30 ? 1 : 2;
        const std::uint64_t size = std::uint64_t{1} << s;
        const pte_t last = amd6::make_leaf(phys_addr{(std::uint64_t{1} << 52) - size}, level, s, rw);
        CHECK(amd6::make_leaf(phys_addr{std::uint64_t{1} << 52}, level, s, rw) != last + size);
    }
}

TEST_CASE("PGTABLE §7.4: the generic_pt format properties hold for every AMD v1 configuration") {
    std::vector<std::string> failures;
    auto run = [&](auto fmt) {
        for (std::string& f : passthru::testing::format_properties<decltype(fmt)>()) failures.push_back(f);
    };
    run(amd1{});
    run(amd2{});
    run(amd3{});
    run(amd4{});
    run(amd5{});
    run(amd6{});
    run(amd4_nofc{});
    run(amd6_dirty{});
    run(amd3_nofc_dirty{});
    for (const std::string& f : failures) FAIL_CHECK(f);
}
