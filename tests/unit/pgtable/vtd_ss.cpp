// Intel VT-d second-stage format (PGTABLE §3) in isolation: the computed descriptors of
// §3.3 written out by hand, the geometry of §3.1, and the generic_pt format tests of §7.4
// (radix tiling, possible sizes, entry OA, table pointer, attribute round trip, dirty).
// The walker is tested elsewhere; here every check is on single 64-bit words.
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
#include <passthru/pgtable/vtd_ss.hpp>

#include "format_properties.hpp"

using passthru::GiB;
using passthru::low_mask;
using passthru::MiB;
using passthru::phys_addr;
using passthru::prot;
using passthru::pte_kind;
using passthru::pte_t;
using passthru::pgtable::vtd_ss;
using passthru::pgtable::vtd_ss_config;

namespace {

using vtd39 = vtd_ss<vtd_ss_config{.levels = 3}>;
using vtd48 = vtd_ss<vtd_ss_config{.levels = 4}>;
using vtd57 = vtd_ss<vtd_ss_config{.levels = 5}>;
using vtd48_snoop = vtd_ss<vtd_ss_config{.levels = 4, .force_snoop = true}>;
using vtd57_snoop_dirty =
    vtd_ss<vtd_ss_config{.levels = 5, .force_snoop = true, .dirty_tracking = true}>;
using vtd48_dirty = vtd_ss<vtd_ss_config{.levels = 4, .dirty_tracking = true}>;
using vtd48_2m = vtd_ss<vtd_ss_config{.levels = 4, .superpage_levels = 1}>;
using vtd39_4k_haw46 = vtd_ss<vtd_ss_config{.levels = 3, .superpage_levels = 0, .haw = 46}>;

constexpr prot rw = prot::read | prot::write;

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

template <class F>
concept has_dirty_ops = requires(pte_t p) {
    F::is_dirty(p);
    F::make_clean(p);
};

} // namespace

// Every configuration is a PageTableFormat.
static_assert(passthru::PageTableFormat<vtd_ss<>>);
static_assert(passthru::PageTableFormat<vtd39>);
static_assert(passthru::PageTableFormat<vtd48>);
static_assert(passthru::PageTableFormat<vtd57>);
static_assert(passthru::PageTableFormat<vtd48_snoop>);
static_assert(passthru::PageTableFormat<vtd57_snoop_dirty>);
static_assert(passthru::PageTableFormat<vtd48_2m>);
static_assert(passthru::PageTableFormat<vtd39_4k_haw46>);

// Descriptor values (PGTABLE §3.1, §3.2, §7.3).
static_assert(vtd_ss<>::top_level == 3 && vtd_ss<>::va_bits == 48 && vtd_ss<>::oa_bits == 52);
static_assert(vtd39::top_level == 2 && vtd57::top_level == 4);
static_assert(vtd39_4k_haw46::oa_bits == 46);
static_assert(vtd48::leaf_linear_lg2 == 52);
static_assert(vtd48::partial_leaf_unmap == passthru::partial_unmap::whole_leaf);
static_assert(!passthru::DirtyTrackingFormat<vtd48> && passthru::DirtyTrackingFormat<vtd57_snoop_dirty>);
static_assert(!has_dirty_ops<vtd48> && has_dirty_ops<vtd48_dirty>);
static_assert(vtd48::name == std::string_view{"Intel VT-d second-stage"});
static_assert(passthru::pgtable::format_pgsizes<vtd48>().bits == 0x4020'1000);    // 4K | 2M | 1G
static_assert(passthru::pgtable::format_pgsizes<vtd48_2m>().bits == 0x20'1000);   // 4K | 2M
static_assert(passthru::pgtable::format_pgsizes<vtd39_4k_haw46>().bits == 0x1000); // 4K

TEST_CASE("PGTABLE §3.3: VT-d second-stage descriptors equal the computed examples") {
    SECTION("4K RW -> PA 0x12345000, without and with force-snoop") {
        const pte_t e = vtd48::make_leaf(phys_addr{0x12345000}, 0, 12, rw);
        CHECK(e == 0x0000'0000'1234'5003);
        CHECK(vtd48_snoop::make_leaf(phys_addr{0x12345000}, 0, 12, rw) == 0x0000'0000'1234'5803);
        CHECK(vtd48::classify(e, 0) == pte_kind::leaf);
        CHECK(vtd48::leaf_pa(e, 0).value == 0x12345000);
        CHECK(vtd48::leaf_size_lg2(e, 0) == 12);
        CHECK(vtd48::leaf_prot(e, 0) == rw);
    }
    SECTION("2 MiB RW superpage (PDE) -> PA 0x80000000 (PS set)") {
        const pte_t e = vtd48::make_leaf(phys_addr{0x80000000}, 1, 21, rw);
        CHECK(e == 0x0000'0000'8000'0083);
        CHECK(vtd48_snoop::make_leaf(phys_addr{0x80000000}, 1, 21, rw) == 0x0000'0000'8000'0883);
        CHECK(vtd48::classify(e, 1) == pte_kind::leaf);
        CHECK(vtd48::leaf_pa(e, 1).value == 0x80000000);
        CHECK(vtd48::leaf_size_lg2(e, 1) == 21);
    }
    SECTION("1 GiB read-only superpage (PDPE) -> PA 0x40000000") {
        const pte_t e = vtd48::make_leaf(phys_addr{0x40000000}, 2, 30, prot::read);
        CHECK(e == 0x0000'0000'4000'0081);
        CHECK(vtd48_snoop::make_leaf(phys_addr{0x40000000}, 2, 30, prot::read) ==
              0x0000'0000'4000'0881);
        CHECK(vtd48::classify(e, 2) == pte_kind::leaf);
        CHECK(vtd48::leaf_pa(e, 2).value == 0x40000000);
        CHECK(vtd48::leaf_size_lg2(e, 2) == 30);
        CHECK(vtd48::leaf_prot(e, 2) == prot::read);
    }
    SECTION("write-only 4K leaf: W alone (bit 1)") {
        CHECK(vtd48::make_leaf(phys_addr{0x12345000}, 0, 12, prot::write) ==
              0x0000'0000'1234'5002);
    }
    SECTION("table entry -> PA 0x5000 is PA | R | W at every level, snoop or not") {
        for (unsigned level = 1; level <= vtd57::top_level; ++level) {
            CHECK(vtd57::make_table(phys_addr{0x5000}, level) == 0x0000'0000'0000'5003);
            CHECK(vtd57_snoop_dirty::make_table(phys_addr{0x5000}, level) ==
                  0x0000'0000'0000'5003);
            CHECK(vtd57::classify(0x5003, level) == pte_kind::table);
            CHECK(vtd57::table_pa(0x5003).value == 0x5000);
        }
    }
}

TEST_CASE("PGTABLE §3.1: VT-d 3/4/5 levels are 39/48/57-bit IOVA with AW (agaw) 1/2/3") {
    struct row {
        unsigned levels, top_level, va_bits, agaw;
    };
    // width = 30 + 9·agaw; levels = agaw + 2; context / PASID AW = agaw.
    constexpr std::array<row, 3> rows{{{3, 2, 39, 1}, {4, 3, 48, 2}, {5, 4, 57, 3}}};
    const auto check = [](auto fmt, const row& r) {
        using F = decltype(fmt);
        CHECK(F::top_level == r.top_level);
        CHECK(F::va_bits == r.va_bits);
        CHECK(F::agaw == r.agaw);
        CHECK(F::va_bits == 30 + 9 * F::agaw);
        CHECK((F::va_bits - 30 + 8) / 9 == F::agaw); // width_to_agaw = ceil((w - 30) / 9)
        const auto regs = F::registers(phys_addr{0x1'2345'6000});
        CHECK(regs.slptptr.value == 0x1'2345'6000);
        CHECK(regs.aw == r.agaw);
        CHECK(regs.aw == F::top_level - 1); // generic_pt: aw = top_level - 1
        CHECK_FALSE(regs.ssade);
    };
    check(vtd39{}, rows[0]);
    check(vtd48{}, rows[1]);
    check(vtd57{}, rows[2]);
    // SSADE is needed exactly when the domain tracks dirty pages (PGTABLE §8).
    CHECK(vtd57_snoop_dirty::registers(phys_addr{0x1000}).ssade);
    CHECK(vtd57_snoop_dirty::registers(phys_addr{0x1000}).aw == 3);
}

TEST_CASE("PGTABLE §3.2: a VT-d slot is present iff R or W, and PS makes a leaf only at "
          "levels 1-2") {
    for (unsigned level = 0; level <= vtd57::top_level; ++level) {
        CHECK(vtd57::classify(0, level) == pte_kind::empty);
        // Address, PS, A, D and SNP without R or W: not present.
        CHECK(vtd57::classify(0x0000'0001'2345'6B80, level) == pte_kind::empty);
    }
    CHECK(vtd57::classify(0x1234'5001, 0) == pte_kind::leaf); // R alone
    CHECK(vtd57::classify(0x1234'5002, 0) == pte_kind::leaf); // W alone
    CHECK(vtd57::classify(0x1234'5003, 0) == pte_kind::leaf); // level 0: no PS needed
    CHECK(vtd57::classify(0x8000'0003, 1) == pte_kind::table);
    CHECK(vtd57::classify(0x8000'0083, 1) == pte_kind::leaf);
    CHECK(vtd57::classify(0x4000'0081, 2) == pte_kind::leaf);
    // No 512G / 256T superpages: PS at levels 3 and 4 does not make a leaf (generic_pt).
    CHECK(vtd57::classify(0x80'0000'0083, 3) == pte_kind::table);
    CHECK(vtd57::classify(0x80'0000'0083, 4) == pte_kind::table);
}

TEMPLATE_TEST_CASE("PGTABLE §3.1: VT-d level L decodes IOVA[20+9L : 12+9L]",
                   "[pgtable][vtd]", vtd39, vtd48, vtd57, vtd39_4k_haw46) {
    using F = TestType;
    // §3.1: PTE [20:12], PDE [29:21], PDPE [38:30], PML4E [47:39], PML5E [56:48].
    constexpr std::array<std::uint64_t, 5> fields{genmask(20, 12), genmask(29, 21),
                                                  genmask(38, 30), genmask(47, 39),
                                                  genmask(56, 48)};
    CHECK(F::item_lg2(0) == 12);
    for (unsigned level = 0; level <= F::top_level; ++level) {
        const unsigned lo = F::item_lg2(level), hi = lo + F::table_lg2(level) - 1;
        CHECK(genmask(hi, lo) == fields[level]);
    }
}

TEMPLATE_TEST_CASE("PGTABLE §3.2: VT-d leaves are the slot size where superpages allow",
                   "[pgtable][vtd]", vtd39, vtd48, vtd57, vtd48_2m, vtd39_4k_haw46) {
    using F = TestType;
    for (unsigned level = 0; level <= F::top_level; ++level)                 // no contiguous
        CHECK((F::leaf_sizes(level) & ~(std::uint64_t{1} << F::item_lg2(level))) == 0);
    // Exactly per configuration (§3.2: 4K, then 2M / 1G per CAP.SLLPS; never 512G).
    if constexpr (std::is_same_v<F, vtd48_2m>) {
        CHECK(F::leaf_sizes(0) == 0x1000);
        CHECK(F::leaf_sizes(1) == 2 * MiB);
        CHECK(F::leaf_sizes(2) == 0);
    } else if constexpr (std::is_same_v<F, vtd39_4k_haw46>) {
        CHECK(F::leaf_sizes(0) == 0x1000);
        CHECK(F::leaf_sizes(1) == 0);
        CHECK(F::leaf_sizes(2) == 0);
    } else {
        CHECK(F::leaf_sizes(0) == 0x1000);
        CHECK(F::leaf_sizes(1) == 2 * MiB);
        CHECK(F::leaf_sizes(2) == GiB);
    }
    for (unsigned level = 3; level <= F::top_level; ++level) CHECK(F::leaf_sizes(level) == 0);
}

TEMPLATE_TEST_CASE("PGTABLE §3.2: VT-d table descriptors are PA | R | W at every level",
                   "[pgtable][vtd]", vtd39, vtd48, vtd57, vtd57_snoop_dirty) {
    using F = TestType;
    for (unsigned level = 1; level <= F::top_level; ++level) {
        for (const std::uint64_t pa : test_oas<F>(12)) {
            const pte_t e = F::make_table(phys_addr{pa}, level);
            CHECK(e == (pa | 3));
            CHECK(F::classify(e, level) == pte_kind::table);
            CHECK(F::table_pa(e).value == pa);
        }
    }
}

TEST_CASE("PGTABLE §3.2: VT-d drops prot::cache/noexec/mmio/priv, and SNP follows force_snoop "
          "only") {
    const phys_addr pa{0x1234'5000};
    for_each_accepted_prot([&](prot p) {
        INFO("prot " << static_cast<unsigned>(p));
        // Only R and W reach the word; SNP (bit 11) is the domain's.
        CHECK(vtd48::make_leaf(pa, 0, 12, p) == vtd48::make_leaf(pa, 0, 12, p & rw));
        CHECK((vtd48::make_leaf(pa, 0, 12, p) & (1u << 11)) == 0);
        CHECK((vtd48_snoop::make_leaf(pa, 0, 12, p) & (1u << 11)) != 0);
        // Nothing but R, W and (with SNP) CACHE comes back.
        CHECK(vtd48::leaf_prot(vtd48::make_leaf(pa, 0, 12, p), 0) == (p & rw));
        CHECK(vtd48_snoop::leaf_prot(vtd48_snoop::make_leaf(pa, 0, 12, p), 0) ==
              ((p & rw) | prot::cache));
    });
    // Bits 2..6 (X, EMT, IPAT) and 52..63 stay 0 (PGTABLE §3.2, §11).
    const pte_t all = vtd48_snoop::make_leaf(phys_addr{0x000F'FFFF'C000'0000}, 2, 30,
                                             static_cast<prot>(63));
    CHECK(all == 0x000F'FFFF'C000'0883);
}

TEST_CASE("PGTABLE §8, §7.4 test_dirty: VT-d D is bit 9 of a leaf and make_clean clears only D") {
    constexpr pte_t d = pte_t{1} << 9, a = pte_t{1} << 8; // PGTABLE §3.2 / §8
    const auto check = [&](auto fmt) {
        using F = decltype(fmt);
        for (unsigned level = 0; level <= 2; ++level) {
            const pte_t e = F::make_leaf(phys_addr{0x4000'0000}, level, F::item_lg2(level), rw);
            CHECK_FALSE(F::is_dirty(e));      // a new leaf is clean
            CHECK_FALSE(F::is_dirty(e | a));  // accessed is not dirty
            CHECK(F::is_dirty(e | d));
            CHECK(F::is_dirty(e | a | d));
            CHECK(F::make_clean(e | a | d) == (e | a));
            CHECK(F::make_clean(e) == e);
            CHECK_FALSE(F::is_dirty(F::make_clean(e | d)));
        }
    };
    check(vtd48_dirty{});
    check(vtd57_snoop_dirty{});
}

TEST_CASE("PageTableFormat leaf_linear_lg2: VT-d's promise ends where the address field does, at 2^52") {
    const pte_t last = vtd48::make_leaf(phys_addr{(std::uint64_t{1} << 52) - GiB}, 2, 30, rw);
    CHECK(vtd48::make_leaf(phys_addr{std::uint64_t{1} << 52}, 2, 30, rw) != last + GiB);
}

TEST_CASE("PGTABLE §7.4: the generic_pt format properties hold for every VT-d configuration") {
    std::vector<std::string> failures;
    auto run = [&](auto fmt) {
        for (std::string& f : passthru::testing::format_properties<decltype(fmt)>()) failures.push_back(f);
    };
    run(vtd39{});
    run(vtd48{});
    run(vtd57{});
    run(vtd48_snoop{});
    run(vtd57_snoop_dirty{});
    run(vtd48_dirty{});
    run(vtd48_2m{});
    run(vtd39_4k_haw46{});
    for (const std::string& f : failures) FAIL_CHECK(f);
}
