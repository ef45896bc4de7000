// ARM LPAE golden vectors: every single-descriptor worked example of PGTABLE §1.11, the
// geometry table of §1.1 and the register encodings of §1.7. Every expected value is
// written out by hand from the document, never computed by the code under test.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>

#include <passthru/pgtable/arm_lpae.hpp>

using passthru::phys_addr;
using passthru::prot;
using passthru::pte_kind;
using namespace passthru::pgtable;

namespace {
// A 64-bit word that Catch prints in hex.
struct word {
    std::uint64_t v;
    bool operator==(const word&) const = default;
};
constexpr prot rw = prot::read | prot::write;

constexpr arm_lpae_config s1_4k{};
constexpr arm_lpae_config s2_4k{.stage = arm_stage::s2};
using s1 = arm_lpae<s1_4k>;
using s2 = arm_lpae<s2_4k>;

// The index a level's slot uses for `iova`, from the format's geometry alone.
template <class F>
std::uint64_t index_at(std::uint64_t iova, unsigned level) {
    return (iova >> F::item_lg2(level)) & ((std::uint64_t{1} << F::table_lg2(level)) - 1);
}
} // namespace

template <>
struct Catch::StringMaker<word> {
    static std::string convert(word w) {
        std::ostringstream os;
        os << "0x" << std::hex << w.v;
        return os.str();
    }
};

// The examples are compile-time facts as well.
static_assert(s1::make_leaf(phys_addr{0x80000000}, 1, 21, rw | prot::cache) == 0x0000000080000F45);
static_assert(s2::make_leaf(phys_addr{0x80000000}, 1, 21, rw | prot::cache) == 0x00000000800007FD);
static_assert(s1::make_table(phys_addr{0x812345000}, 1) == 0x0000000812345003);

TEST_CASE("PGTABLE §1.11 example 1: S1 4K 2 MiB block RW|CACHE at 0x80000000") {
    CHECK(word{s1::make_leaf(phys_addr{0x80000000}, 1, 21, rw | prot::cache)} ==
          word{0x0000000080000F45});
    // Walk of IOVA 0x40000000: L0 index 0, L1 index 1, L2 index 0.
    CHECK(s1::top_level == 3);
    CHECK(index_at<s1>(0x40000000, 3) == 0);
    CHECK(index_at<s1>(0x40000000, 2) == 1);
    CHECK(index_at<s1>(0x40000000, 1) == 0);
}

TEST_CASE("PGTABLE §1.11 example 2: S2 4K 2 MiB block RW|CACHE, concatenated top with IAS 40") {
    CHECK(word{s2::make_leaf(phys_addr{0x80000000}, 1, 21, rw | prot::cache)} ==
          word{0x00000000800007FD});
    // IAS 40: start level 1, top index = IOVA[39:30] = 1. Concatenation happens under both
    // Linux rules here (OAS 40 makes it mandatory since v6.14).
    using f = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .ias = 40, .oas = 40}>;
    CHECK(f::geometry.start_level == 1);
    CHECK(f::top_level == 2);
    CHECK(f::table_lg2(2) == 10);
    CHECK(index_at<f>(0x40000000, 2) == 1);
    CHECK(word{f::make_leaf(phys_addr{0x80000000}, 1, 21, rw | prot::cache)} ==
          word{0x00000000800007FD});
}

TEST_CASE("PGTABLE §1.11 example 3: S1 4K page READ|NOEXEC, non-cacheable") {
    CHECK(word{s1::make_leaf(phys_addr{0x12345000}, 0, 12, prot::read | prot::noexec)} ==
          word{0x0060000012345EC3});
}

TEST_CASE("PGTABLE §1.11 example 4: S1 with the HD quirk, RW|CACHE page is created dirty") {
    using f = arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>;
    const auto pte = f::make_leaf(phys_addr{0x40000000}, 0, 12, rw | prot::cache);
    CHECK(word{pte} == word{0x0008000040000F47});
    CHECK(f::is_dirty(pte));
    const auto clean = f::make_clean(pte);
    CHECK(word{clean} == word{0x0008000040000FC7});
    CHECK_FALSE(f::is_dirty(clean));
    // A device write clears AP[2] again (done by hardware; emulated here).
    CHECK(f::is_dirty(clean & ~std::uint64_t{0x80}));
}

TEST_CASE("PGTABLE §1.11 example 5: S1 64K granule 512 MiB block RW|CACHE") {
    using f = arm_lpae<arm_lpae_config{.granule = 65536}>;
    CHECK(word{f::make_leaf(phys_addr{0x60000000}, 1, 29, rw | prot::cache)} ==
          word{0x0000000060000F45});
    // 3 levels from L1; L1 index = IOVA[47:42] = 0, L2 index = IOVA[41:29] = 1.
    CHECK(f::top_level == 2);
    CHECK(index_at<f>(0x20000000, 2) == 0);
    CHECK(index_at<f>(0x20000000, 1) == 1);
}

TEST_CASE("PGTABLE §1.11 example 6: S1 64K page with a 52-bit PA packs PA bits 51:48 into bits 15:12") {
    using f = arm_lpae<arm_lpae_config{.granule = 65536, .ias = 48, .oas = 52}>;
    const auto pte = f::make_leaf(phys_addr{0x000F000000010000}, 0, 16, rw | prot::cache);
    CHECK(word{pte} == word{0x000000000001FF47});
    CHECK(word{f::leaf_pa(pte, 0).value} == word{0x000F000000010000});
}

TEST_CASE("PGTABLE §1.11 example 7: MMIO page RW|MMIO|NOEXEC at stage 1 and stage 2") {
    const prot p = rw | prot::mmio | prot::noexec;
    CHECK(word{s1::make_leaf(phys_addr{0xFE000000}, 0, 12, p)} == word{0x00600000FE000E4B});
    CHECK(word{s2::make_leaf(phys_addr{0xFE000000}, 0, 12, p)} == word{0x00600000FE0006C7});
}

TEST_CASE("PGTABLE §1.11 example 8: S2 with S2FWB, 1 GiB block RW|CACHE") {
    using f = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .quirks = {.s2fwb = true}}>;
    CHECK(word{f::make_leaf(phys_addr{0x80000000}, 2, 30, rw | prot::cache)} ==
          word{0x00000000800007D9});
}

TEST_CASE("PGTABLE §1.11 example 9: table descriptors, plain and with the NS quirk") {
    CHECK(word{s1::make_table(phys_addr{0x812345000}, 2)} == word{0x0000000812345003});
    using ns = arm_lpae<arm_lpae_config{.quirks = {.ns = true}}>;
    CHECK(word{ns::make_table(phys_addr{0x812345000}, 2)} == word{0x8000000812345003});
    // Stage 2 tables carry the same address and type bits.
    CHECK(word{s2::make_table(phys_addr{0x812345000}, 2)} == word{0x0000000812345003});
}

TEST_CASE("PGTABLE §1.5: the NS quirk sets NS (bit 5) on stage-1 leaves") {
    using ns = arm_lpae<arm_lpae_config{.quirks = {.ns = true}}>;
    CHECK(word{ns::make_leaf(phys_addr{0x40000000}, 0, 12, rw | prot::cache)} ==
          word{0x0000000040000F67});
    CHECK(word{ns::make_leaf(phys_addr{0x80000000}, 1, 21, prot::read)} ==
          word{0x0000000080000EE1});
}

TEST_CASE("PGTABLE §1.4: a non-coherent walker's table descriptors carry SW_SYNC (bit 55)") {
    using f = arm_lpae<arm_lpae_config{.coherent_walk = false}>;
    CHECK(word{f::make_table(phys_addr{0x812345000}, 1)} == word{0x0080000812345003});
    CHECK(word{f::table_pa(0x0080000812345003).value} == word{0x812345000});
}

TEST_CASE("PGTABLE §1.11 example 10: full 4-level walk of IOVA 0x00007F1234567000") {
    const std::uint64_t iova = 0x00007F1234567000;
    CHECK(index_at<s1>(iova, 3) == 254);
    CHECK(index_at<s1>(iova, 2) == 72);
    CHECK(index_at<s1>(iova, 1) == 418);
    CHECK(index_at<s1>(iova, 0) == 359);
    CHECK(word{s1::make_table(phys_addr{0x80001000}, 3)} == word{0x80001003});
    CHECK(word{s1::make_table(phys_addr{0x80002000}, 2)} == word{0x80002003});
    CHECK(word{s1::make_table(phys_addr{0x80003000}, 1)} == word{0x80003003});
    const auto leaf = s1::make_leaf(phys_addr{0x887654000}, 0, 12, rw | prot::cache);
    CHECK(word{leaf} == word{0x0000000887654F47});
    CHECK(s1::classify(0x80001003, 3) == pte_kind::table);
    CHECK(s1::classify(leaf, 0) == pte_kind::leaf);
}

TEST_CASE("PGTABLE §1.5: stage-1 WRITE-only is encoded like READ|WRITE and reads back as RW") {
    // nG | AF | SH=IS | AP[1] | AttrIndx 1 | page, no AP[2].
    const auto w = s1::make_leaf(phys_addr{0x1000}, 0, 12, prot::write | prot::cache);
    CHECK(word{w} == word{0x0000000000001F47});
    CHECK(w == s1::make_leaf(phys_addr{0x1000}, 0, 12, rw | prot::cache));
    CHECK(s1::leaf_prot(w, 0) == (rw | prot::cache));
    // Stage 2 keeps WRITE-only: S2AP = 0b10.
    CHECK(word{s2::make_leaf(phys_addr{0x1000}, 0, 12, prot::write)} == word{0x0000000000001697});
}

TEST_CASE("PGTABLE §1.5: PRIV clears AP1, MMIO|CACHE is Device yet inner-shareable") {
    CHECK(word{s1::make_leaf(phys_addr{0x2000}, 0, 12, rw | prot::priv)} ==
          word{0x0000000000002E03});
    CHECK(word{s1::make_leaf(phys_addr{0x2000}, 0, 12, rw | prot::mmio | prot::cache)} ==
          word{0x0000000000002F4B});
    CHECK(word{s2::make_leaf(phys_addr{0x2000}, 0, 12, rw | prot::mmio | prot::cache)} ==
          word{0x00000000000027C7});
}

// ---------------------------------------------------------------------------------------
// §1.1 geometry. One row per granule x IAS, copied from the table.
namespace {
struct geo_row {
    std::uint32_t granule;
    unsigned ias, levels, start;
    std::uint64_t top_entries;
    unsigned s2_start;
    std::uint64_t s2_entries, s2_bytes;
};
constexpr std::array<geo_row, 19> geometry_table{{
    {4096, 32, 3, 1, 4, 1, 4, 32},
    {4096, 36, 3, 1, 64, 1, 64, 512},
    {4096, 40, 4, 0, 2, 1, 1024, 8192},
    {4096, 42, 4, 0, 8, 1, 4096, 32768},
    {4096, 44, 4, 0, 32, 0, 32, 256},
    {4096, 48, 4, 0, 512, 0, 512, 4096},
    {16384, 32, 2, 2, 128, 2, 128, 1024},
    {16384, 36, 2, 2, 2048, 2, 2048, 16384},
    {16384, 40, 3, 1, 16, 1, 16, 128},
    {16384, 42, 3, 1, 64, 1, 64, 512},
    {16384, 44, 3, 1, 256, 1, 256, 2048},
    {16384, 48, 4, 0, 2, 1, 4096, 32768},
    {65536, 32, 2, 2, 8, 2, 8, 64},
    {65536, 36, 2, 2, 128, 2, 128, 1024},
    {65536, 40, 2, 2, 2048, 2, 2048, 16384},
    {65536, 42, 2, 2, 8192, 2, 8192, 65536},
    {65536, 44, 3, 1, 4, 1, 4, 32},
    {65536, 48, 3, 1, 64, 1, 64, 512},
    {65536, 52, 3, 1, 1024, 1, 1024, 8192},
}};

template <class F>
std::uint64_t top_entries() { return std::uint64_t{1} << F::table_lg2(F::top_level); }

template <geo_row R>
void check_geometry_row() {
    INFO("granule " << R.granule << " IAS " << R.ias);
    using f1 = arm_lpae<arm_lpae_config{.granule = R.granule, .ias = R.ias, .oas = R.ias}>;
    CHECK(f1::top_level + 1 == R.levels);
    CHECK(f1::geometry.start_level == R.start);
    CHECK(top_entries<f1>() == R.top_entries);
    CHECK_FALSE(f1::geometry.concatenated);
    // §1.1 as written: concatenate whenever an L0 top has <= 16 slots (Linux <= 6.13).
    using f2 = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .granule = R.granule,
                                        .ias = R.ias, .oas = R.ias,
                                        .s2_concat = arm_s2_concat::up_to_16}>;
    CHECK(f2::geometry.start_level == R.s2_start);
    CHECK(f2::top_level == 3 - R.s2_start);
    CHECK(top_entries<f2>() == R.s2_entries);
    CHECK((8 * top_entries<f2>()) == R.s2_bytes);
    CHECK(f2::geometry.concatenated == (R.s2_start != R.start));
}

template <std::size_t... I>
void check_geometry_table(std::index_sequence<I...>) {
    (check_geometry_row<geometry_table[I]>(), ...);
}
} // namespace

TEST_CASE("PGTABLE §1.1: geometry table, stage 1 and stage 2 (<= 16-slot concatenation rule)") {
    check_geometry_table(std::make_index_sequence<geometry_table.size()>{});
}

TEST_CASE("PGTABLE §1.1: Linux 6.14+ concatenates a stage-2 top only where DDI0487 requires it") {
    // The §1.1 table's rule is Linux <= 6.13. Since 4dcac8407fe1 (v6.14) the choice depends
    // on the OAS (R_DXBSH, R_SRKBC, cited by that commit; relied on as [arch]).
    auto s2_with = [](std::uint32_t g, unsigned ias, unsigned oas) {
        return arm_lpae_geometry_of({.stage = arm_stage::s2, .granule = g, .ias = ias, .oas = oas});
    };
    SECTION("OAS = IAS: the table holds except 16K/IAS 40, which must start at L2") {
        const auto g = s2_with(16384, 40, 40);
        CHECK(g.start_level == 2);
        CHECK(g.pgd_bits == 15); // 16 concatenated 16K tables, 256 KiB
        CHECK(s2_with(4096, 40, 40).start_level == 1);
        CHECK(s2_with(4096, 42, 42).pgd_bits == 12);
        CHECK(s2_with(4096, 44, 44).start_level == 0);
        CHECK(s2_with(16384, 48, 48).pgd_bits == 12);
        CHECK(s2_with(16384, 44, 44).start_level == 1);
    }
    SECTION("OAS > IAS: 4K tops with 2 or 8 slots stay at L0 unless OAS is 40 or 42") {
        CHECK(s2_with(4096, 40, 44).start_level == 0);
        CHECK(s2_with(4096, 40, 44).pgd_bits == 1);
        CHECK(s2_with(4096, 42, 48).pgd_bits == 3);
        CHECK(s2_with(4096, 40, 42).start_level == 1);
        CHECK(s2_with(16384, 40, 48).start_level == 1);
        CHECK(s2_with(16384, 40, 48).pgd_bits == 4);
    }
    SECTION("the <= 16-slot rule at its boundary: 4K IAS 43 has exactly 16 L0 slots") {
        const auto at16 = arm_lpae_geometry_of(
            {.stage = arm_stage::s2, .ias = 43, .oas = 44, .s2_concat = arm_s2_concat::up_to_16});
        CHECK(at16.start_level == 1);
        CHECK(at16.pgd_bits == 13); // 16 concatenated 4K tables, 64 KiB
        CHECK(s2_with(4096, 43, 44).start_level == 0); // not mandatory since 6.14
    }
    SECTION("mandatory but more than 16 tables: Linux refuses the pair") {
        CHECK(s2_with(4096, 44, 40).concat_too_big);
        CHECK(s2_with(16384, 42, 40).concat_too_big);
        CHECK_FALSE(arm_lpae_valid({.stage = arm_stage::s2, .ias = 44, .oas = 40}));
        CHECK(arm_lpae_valid({.stage = arm_stage::s1, .ias = 44, .oas = 40}));
    }
}

// ---------------------------------------------------------------------------------------
// §1.7 registers.
TEST_CASE("PGTABLE §1.7: stage-1 TCR fields, TCR value and MAIR, coherent 4K IAS/OAS 48") {
    const auto r = s1::registers(phys_addr{0x8000'1000});
    CHECK(r.ttbr == 0x80001000);
    CHECK(r.tsz == 16);
    CHECK(r.tg == 0);
    CHECK(r.ips == 5);
    CHECK(r.sh == 3);
    CHECK(r.irgn == 1);
    CHECK(r.orgn == 1);
    CHECK(word{r.tcr} == word{0x0000000500003510});
    CHECK(word{r.mair} == word{0x00000000F404FF44});
    CHECK(word{arm_lpae_mair} == word{0x00000000F404FF44});
}

TEST_CASE("PGTABLE §1.7: TG0 is 4K=0, 64K=1, 16K=2 and T0SZ is 64 - IAS") {
    CHECK(arm_lpae<arm_lpae_config{.granule = 16384, .ias = 36}>::registers({}).tg == 2);
    CHECK(arm_lpae<arm_lpae_config{.granule = 16384, .ias = 36}>::registers({}).tsz == 28);
    CHECK(arm_lpae<arm_lpae_config{.granule = 65536, .ias = 42}>::registers({}).tg == 1);
    CHECK(arm_lpae<arm_lpae_config{.granule = 65536, .ias = 42}>::registers({}).tsz == 22);
    CHECK(arm_lpae<arm_lpae_config{.ias = 32}>::registers({}).tsz == 32);
    CHECK(arm_lpae<arm_lpae_config{.granule = 65536, .ias = 52, .oas = 52}>::registers({}).tsz ==
          12);
    CHECK(word{arm_lpae<arm_lpae_config{.granule = 65536, .ias = 42, .oas = 42}>::registers({})
                   .tcr} == word{0x0000000300007516});
    CHECK(arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .granule = 16384}>::registers({}).tg ==
          2);
}

TEST_CASE("PGTABLE §1.7: IPS/PS encode the OAS 32..52 as 0..6") {
    CHECK(arm_lpae<arm_lpae_config{.ias = 32, .oas = 32}>::registers({}).ips == 0);
    CHECK(arm_lpae<arm_lpae_config{.ias = 32, .oas = 36}>::registers({}).ips == 1);
    CHECK(arm_lpae<arm_lpae_config{.ias = 32, .oas = 40}>::registers({}).ips == 2);
    CHECK(arm_lpae<arm_lpae_config{.ias = 32, .oas = 42}>::registers({}).ips == 3);
    CHECK(arm_lpae<arm_lpae_config{.ias = 32, .oas = 44}>::registers({}).ips == 4);
    CHECK(arm_lpae<arm_lpae_config{.ias = 32, .oas = 48}>::registers({}).ips == 5);
    CHECK(arm_lpae<arm_lpae_config{.granule = 65536, .oas = 52}>::registers({}).ips == 6);
    CHECK(word{arm_lpae<arm_lpae_config{.granule = 65536, .oas = 52}>::registers({}).tcr} ==
          word{0x0000000600007510});
    using s2_52 = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .granule = 65536, .oas = 52}>;
    CHECK(s2_52::registers({}).ps == 6);
    CHECK(arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .ias = 36, .oas = 40}>::registers({})
              .ps == 2);
}

TEST_CASE("PGTABLE §1.7: non-coherent walkers use SH=OS, RGN=NC, OUTER_WBWA sets ORGN=WBWA") {
    using nc = arm_lpae<arm_lpae_config{.coherent_walk = false}>;
    CHECK(nc::registers({}).sh == 2);
    CHECK(nc::registers({}).irgn == 0);
    CHECK(nc::registers({}).orgn == 0);
    CHECK(word{nc::registers({}).tcr} == word{0x0000000500002010});
    using wbwa = arm_lpae<arm_lpae_config{.coherent_walk = false, .quirks = {.outer_wbwa = true}}>;
    CHECK(wbwa::registers({}).orgn == 1);
    CHECK(wbwa::registers({}).irgn == 0);
    CHECK(word{wbwa::registers({}).tcr} == word{0x0000000500002410});
    using s2nc = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .coherent_walk = false}>;
    CHECK(s2nc::registers({}).sh == 2);
    CHECK(s2nc::registers({}).orgn == 0);
}

TEST_CASE("PGTABLE §1.7: SL0 — 4K at L1 is 1, at L0 is 2, 16K/64K at L1 is 2, at L2 is 1") {
    auto sl0 = [](auto f) { return decltype(f)::registers({}).sl; };
    using cfg = arm_lpae_config;
    constexpr auto s2 = arm_stage::s2;
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .ias = 32, .oas = 32}>{}) == 1);       // 4K, L1
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .ias = 40, .oas = 40}>{}) == 1);       // 4K, L1 concat
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .ias = 44, .oas = 44}>{}) == 2);       // 4K, L0
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .ias = 48, .oas = 48}>{}) == 2);       // 4K, L0
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .granule = 16384, .ias = 44, .oas = 44}>{}) == 2); // L1
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .granule = 16384, .ias = 48, .oas = 48}>{}) == 2); // L1
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .granule = 16384, .ias = 36, .oas = 36}>{}) == 1); // L2
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .granule = 16384, .ias = 40, .oas = 40}>{}) == 1); // L2
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .granule = 65536, .ias = 48, .oas = 48}>{}) == 2); // L1
    CHECK(sl0(arm_lpae<cfg{.stage = s2, .granule = 65536, .ias = 42, .oas = 42}>{}) == 1); // L2
}

TEST_CASE("PGTABLE §1.7: assembled VTCR values") {
    using cfg = arm_lpae_config;
    // 4K, IAS/OAS 40, concatenated start L1: T0SZ 24, SL0 1, IS/WBWA/WBWA, TG0 0, PS 2.
    const auto a = arm_lpae<cfg{.stage = arm_stage::s2, .ias = 40, .oas = 40}>::registers(
        phys_addr{0x4000'0000});
    CHECK(a.vttbr == 0x40000000);
    CHECK(a.tsz == 24);
    CHECK(word{a.vtcr} == word{0x0000000000023558});
    // 64K, IAS/OAS 48, start L1: T0SZ 16, SL0 2, TG0 1, PS 5.
    const auto b =
        arm_lpae<cfg{.stage = arm_stage::s2, .granule = 65536}>::registers(phys_addr{0});
    CHECK(word{b.vtcr} == word{0x0000000000057590});
}
