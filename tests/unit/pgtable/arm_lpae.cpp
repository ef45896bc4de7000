// ARM LPAE format in isolation: the generic_pt format tests of PGTABLE §7.4 adapted to
// arm_lpae (radix tiling, possible sizes, leaf OA and attribute round trips, dirty), run
// over the whole Linux selftest matrix (§1.12) for both stages plus quirk and 52-bit
// configs; the §1.6 PA packing; and the config rules.
#include <catch2/catch.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <passthru/pgtable/arm_lpae.hpp>

#include "format_properties.hpp"

using passthru::phys_addr;
using passthru::prot;
using passthru::pte_kind;
using passthru::PageTableFormat;
using namespace passthru::pgtable;

namespace {
struct word {
    std::uint64_t v;
    bool operator==(const word&) const = default;
};
constexpr prot rw = prot::read | prot::write;
constexpr std::uint64_t bit(unsigned n) { return std::uint64_t{1} << n; }

std::string describe(const arm_lpae_config& c) {
    std::ostringstream os;
    os << (c.stage == arm_stage::s1 ? "S1 " : "S2 ") << c.granule / 1024 << "K IAS " << c.ias
       << " OAS " << c.oas << (c.coherent_walk ? "" : " non-coherent")
       << (c.quirks.ns ? " NS" : "") << (c.quirks.hd ? " HD" : "")
       << (c.quirks.s2fwb ? " S2FWB" : "") << (c.quirks.outer_wbwa ? " OUTER_WBWA" : "")
       << (c.s2_concat == arm_s2_concat::up_to_16 ? " concat<=16" : "");
    return os.str();
}

// The Linux selftest matrix (§1.12): 3 granules x IAS x OAS >= IAS, for both stages.
constexpr std::array<unsigned, 6> selftest_bits{32, 36, 40, 42, 44, 48};
constexpr auto selftest_configs = [] {
    std::array<arm_lpae_config, 126> out{};
    std::size_t n = 0;
    for (auto stage : {arm_stage::s1, arm_stage::s2})
        for (std::uint32_t granule : {4096u, 16384u, 65536u})
            for (unsigned ias : selftest_bits)
                for (unsigned oas : selftest_bits)
                    if (oas >= ias) out[n++] = {.stage = stage, .granule = granule, .ias = ias,
                                                .oas = oas};
    return out;
}();
static_assert(selftest_configs[125].oas == 48); // all 126 slots filled

// Configs outside the matrix: 52-bit, quirks, odd IAS, OAS < IAS, the old concat rule.
constexpr std::array<arm_lpae_config, 16> extra_configs{{
    {.granule = 65536, .ias = 48, .oas = 52},
    {.granule = 65536, .ias = 52, .oas = 52},
    {.granule = 65536, .ias = 42, .oas = 52},
    {.stage = arm_stage::s2, .granule = 65536, .ias = 48, .oas = 52},
    {.stage = arm_stage::s2, .granule = 65536, .ias = 52, .oas = 52},
    {.quirks = {.hd = true}},
    {.granule = 65536, .oas = 52, .quirks = {.ns = true, .hd = true}},
    {.coherent_walk = false, .quirks = {.outer_wbwa = true}},
    {.stage = arm_stage::s2, .quirks = {.s2fwb = true}},
    {.stage = arm_stage::s2, .granule = 16384, .coherent_walk = false},
    {.ias = 39},
    {.granule = 16384, .ias = 47},
    {.ias = 48, .oas = 40},
    {.stage = arm_stage::s2, .ias = 40, .oas = 48, .s2_concat = arm_s2_concat::up_to_16},
    {.stage = arm_stage::s2, .ias = 40, .oas = 48},
    {.stage = arm_stage::s2, .granule = 16384, .ias = 40, .oas = 40},
}};

} // namespace

template <>
struct Catch::StringMaker<word> {
    static std::string convert(word w) {
        std::ostringstream os;
        os << "0x" << std::hex << w.v;
        return os.str();
    }
};

// ---------------------------------------------------------------------------------------
// The concept and some constexpr facts.
static_assert(PageTableFormat<arm_lpae<>>);
static_assert(PageTableFormat<arm_lpae<arm_lpae_config{.stage = arm_stage::s2}>>);
static_assert(PageTableFormat<arm_lpae<arm_lpae_config{.granule = 16384, .ias = 36, .oas = 40}>>);
static_assert(PageTableFormat<arm_lpae<arm_lpae_config{.granule = 65536, .ias = 52, .oas = 52}>>);
static_assert(PageTableFormat<arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>>);
static_assert(PageTableFormat<arm_lpae<selftest_configs[100]>>);

using hd = arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>;
static_assert(passthru::DirtyTrackingFormat<hd> && hd::is_dirty(0x0008000040000F47));
static_assert(hd::make_clean(0x0008000040000F47) == 0x0008000040000FC7);
static_assert(!passthru::DirtyTrackingFormat<arm_lpae<>>);
template <class F>
concept has_dirty_ops = requires(passthru::pte_t pte) { F::is_dirty(pte); F::make_clean(pte); };
static_assert(has_dirty_ops<hd>);
static_assert(!has_dirty_ops<arm_lpae<>>); // no dirty ops without HD
static_assert(!passthru::DirtyTrackingFormat<arm_lpae<arm_lpae_config{.stage = arm_stage::s2}>>);
static_assert(arm_lpae<>::partial_leaf_unmap == passthru::partial_unmap::refuse);
static_assert(arm_lpae<arm_lpae_config{.granule = 65536}>::make_leaf(
                  phys_addr{0x60000000}, 1, 29, rw | prot::cache) == 0x0000000060000F45);
static_assert(arm_lpae<arm_lpae_config{.stage = arm_stage::s2}>::make_leaf(
                  phys_addr{0xFE000000}, 0, 12, rw | prot::mmio | prot::noexec) ==
              0x00600000FE0006C7);

TEST_CASE("PGTABLE §1: names, address widths and the partial-unmap rule") {
    CHECK(arm_lpae<>::name == "ARM LPAE stage 1");
    CHECK(arm_lpae<arm_lpae_config{.stage = arm_stage::s2}>::name == "ARM LPAE stage 2");
    using f = arm_lpae<arm_lpae_config{.granule = 65536, .ias = 44, .oas = 52}>;
    CHECK(f::va_bits == 44);
    CHECK(f::oa_bits == 52);
    CHECK(f::partial_leaf_unmap == passthru::partial_unmap::refuse); // §0.4, Linux 6.13+
}

// ---------------------------------------------------------------------------------------
// Config rules: everything the static_asserts reject, checked through the predicate they
// use (two of the diagnostics are compile-fail tests in tests/compile_fail/).
TEST_CASE("PGTABLE §1.7: configs Linux cannot build are rejected") {
    using cfg = arm_lpae_config;
    constexpr auto s2 = arm_stage::s2;
    CHECK(arm_lpae_valid(cfg{}));
    CHECK_FALSE(arm_lpae_valid(cfg{.granule = 8192}));
    CHECK_FALSE(arm_lpae_valid(cfg{.ias = 31}));
    CHECK_FALSE(arm_lpae_valid(cfg{.ias = 52, .oas = 48}));             // 52 needs 64K
    CHECK_FALSE(arm_lpae_valid(cfg{.granule = 16384, .oas = 52}));
    CHECK_FALSE(arm_lpae_valid(cfg{.granule = 65536, .ias = 53, .oas = 52}));
    CHECK_FALSE(arm_lpae_valid(cfg{.ias = 36, .oas = 38}));             // no IPS encoding
    CHECK_FALSE(arm_lpae_valid(cfg{.stage = s2, .quirks = {.ns = true}}));
    CHECK_FALSE(arm_lpae_valid(cfg{.stage = s2, .quirks = {.hd = true}}));
    CHECK_FALSE(arm_lpae_valid(cfg{.stage = s2, .coherent_walk = false,
                                   .quirks = {.outer_wbwa = true}}));
    CHECK_FALSE(arm_lpae_valid(cfg{.quirks = {.s2fwb = true}}));
    CHECK_FALSE(arm_lpae_valid(cfg{.quirks = {.outer_wbwa = true}})); // coherent walk
    CHECK_FALSE(arm_lpae_valid(cfg{.stage = s2, .ias = 48, .oas = 42})); // concat > 16 tables
    CHECK_FALSE(arm_lpae_valid(cfg{.stage = s2, .granule = 16384, .ias = 41, .oas = 40}));
    // Allowed: OAS < IAS (an SMMUv3 stage 1 with a 44-bit IPA), odd IAS, 52-bit with 64K.
    CHECK(arm_lpae_valid(cfg{.ias = 48, .oas = 44}));
    CHECK(arm_lpae_valid(cfg{.ias = 39, .oas = 40}));
    CHECK(arm_lpae_valid(cfg{.granule = 65536, .ias = 52, .oas = 52}));
    CHECK(arm_lpae_valid(cfg{.stage = s2, .ias = 48, .oas = 42,
                             .s2_concat = arm_s2_concat::up_to_16}));
    CHECK(arm_lpae_valid(cfg{.coherent_walk = false, .quirks = {.outer_wbwa = true}}));
    for (const auto& c : selftest_configs) CHECK(arm_lpae_valid(c));
}

// ---------------------------------------------------------------------------------------
// Per config: the ARM facts of §1.1-§1.5 the shared format properties (PGTABLE §7.4,
// tests/support/format_properties.hpp) cannot know, then those properties. Plain checks
// that collect failures: 142 configurations of Catch macros would dominate the build.
namespace {
template <arm_lpae_config Config>
void check_config(std::vector<std::string>& failures) {
    using F = arm_lpae<Config>;
    // Read the config through F::config, an ordinary object: clang 14 miscompiles a
    // reference bound to a member of a class-type template parameter object whose type
    // has padding (it indexes the fields of a packed copy: `Config.ias` read back the OAS;
    // llvm/llvm-project#146272, fixed by #204174).
    constexpr const arm_lpae_config& C = F::config;
    const unsigned top = F::top_level;
    const unsigned pg_shift = static_cast<unsigned>(std::countr_zero(C.granule));
    auto expect = [&](bool ok, const char* what, unsigned level = 0) {
        if (!ok) failures.push_back(describe(C) + ": " + what + " (level " + std::to_string(level) + ")");
    };

    // §1.1: one granule per table but the root, which holds up to 16 concatenated tables.
    expect(F::item_lg2(0) == pg_shift, "the level-0 item is the granule");
    for (unsigned l = 0; l < top; ++l) expect(F::table_lg2(l) == pg_shift - 3, "a non-root table is one granule", l);
    expect(F::table_lg2(top) <= pg_shift - 3 + 4, "more than 16 concatenated tables", top);
    expect(top <= 3, "more than 4 levels");
    // §1.2: the item size or nothing; never a leaf at ARM L0 (our level 3).
    for (unsigned l = 0; l <= 4; ++l) {
        const std::uint64_t sizes = F::leaf_sizes(l);
        if (l > top || l == 3) expect(sizes == 0, "a leaf at ARM L0 or above the root", l);
        expect(sizes == 0 || sizes == bit(F::item_lg2(l)), "a leaf size other than the item", l);
    }
    expect(F::leaf_sizes(0) == bit(pg_shift), "no page at ARM L3");
    // §1.3: bit 0 clear is invalid everywhere; type 0b01 is reserved at ARM L3 [arch].
    for (unsigned l = 0; l <= top; ++l)
        expect(F::classify(0x0000000080000002, l) == pte_kind::empty, "bit 0 clear is not empty", l);
    expect(F::classify(0x0000000080000001, 0) == pte_kind::empty, "a reserved L3 descriptor is valid");
    // Table descriptors are type 0b11; leaves 0b11 (page, ARM L3) or 0b01 (block).
    for (unsigned l = 1; l <= top; ++l)
        expect((F::make_table(phys_addr{0x4000'0000}, l) & 3) == 3, "a table descriptor's type", l);
    for (unsigned l = 0; l <= top; ++l)
        if (F::leaf_sizes(l))
            expect((F::make_leaf(phys_addr{0}, l, F::item_lg2(l), rw) & 3) == (l == 0 ? 3u : 1u),
                   "a leaf descriptor's type", l);
    // §1.5: a writable DBM leaf made clean is still writable.
    if constexpr (passthru::DirtyTrackingFormat<F>) {
        const auto w = F::make_leaf(phys_addr{0}, 0, pg_shift, prot::write);
        expect(F::is_dirty(w), "a new writable HD leaf starts dirty");
        expect(F::leaf_prot(F::make_clean(w), 0) == rw, "writable-clean is not writable");
    }
    for (std::string& f : passthru::testing::format_properties<F>()) failures.push_back(describe(C) + ": " + f);
}

template <const auto& Configs, std::size_t... I>
std::vector<std::string> check_all(std::index_sequence<I...>) {
    std::vector<std::string> failures;
    (check_config<Configs[I]>(failures), ...);
    return failures;
}
} // namespace

TEST_CASE("PGTABLE §7.4: format tests over the §1.12 selftest matrix, stage 1 and stage 2") {
    for (const std::string& f : check_all<selftest_configs>(std::make_index_sequence<selftest_configs.size()>{}))
        FAIL_CHECK(f);
}

TEST_CASE("PGTABLE §7.4: format tests for 52-bit, quirk, odd-IAS and OAS < IAS configs") {
    for (const std::string& f : check_all<extra_configs>(std::make_index_sequence<extra_configs.size()>{}))
        FAIL_CHECK(f);
}

// ---------------------------------------------------------------------------------------
TEST_CASE("PGTABLE §1.2: leaf sizes per granule, 64K has a 4T L1 block only when OAS > 48") {
    using cfg = arm_lpae_config;
    CHECK(passthru::pgtable::format_pgsizes<arm_lpae<cfg{}>>().bits == (4 * passthru::KiB | 2 * passthru::MiB |
                                            passthru::GiB));
    CHECK(passthru::pgtable::format_pgsizes<arm_lpae<cfg{.ias = 32, .oas = 32}>>().bits ==
          (4 * passthru::KiB | 2 * passthru::MiB | passthru::GiB));
    CHECK(passthru::pgtable::format_pgsizes<arm_lpae<cfg{.granule = 16384}>>().bits == (16 * passthru::KiB |
                                                           32 * passthru::MiB));
    CHECK(passthru::pgtable::format_pgsizes<arm_lpae<cfg{.granule = 65536}>>().bits == (64 * passthru::KiB |
                                                           512 * passthru::MiB));
    CHECK(passthru::pgtable::format_pgsizes<arm_lpae<cfg{.granule = 65536, .oas = 52}>>().bits ==
          (64 * passthru::KiB | 512 * passthru::MiB | 4 * passthru::TiB));
    CHECK(arm_lpae<cfg{.granule = 65536, .oas = 52}>::leaf_sizes(2) == 4 * passthru::TiB);
    // IAS 42 leaves no L1: no 4T leaf even with OAS 52 (Linux's bitmap would list it).
    CHECK(passthru::pgtable::format_pgsizes<arm_lpae<cfg{.granule = 65536, .ias = 42, .oas = 52}>>().bits ==
          (64 * passthru::KiB | 512 * passthru::MiB));
    // Never a leaf at ARM L0, nor a 64G block with 16K.
    CHECK(arm_lpae<cfg{}>::leaf_sizes(3) == 0);
    CHECK(arm_lpae<cfg{.granule = 16384}>::leaf_sizes(2) == 0);
    CHECK(arm_lpae<cfg{.granule = 16384, .ias = 48}>::leaf_sizes(3) == 0);
}

TEST_CASE("PGTABLE §1.6: 52-bit PAs round-trip through the 64K packing at every leaf level") {
    using f = arm_lpae<arm_lpae_config{.granule = 65536, .ias = 52, .oas = 52}>;
    // 4T L1 block at PA 0x000F040000000000: PA[47:42] in place, PA[51:48] = 0xF in [15:12].
    CHECK(word{f::make_leaf(phys_addr{0x000F040000000000}, 2, 42, rw | prot::cache)} ==
          word{0x000004000000FF45});
    for (std::uint64_t pa : {std::uint64_t{0x0001000000000000}, std::uint64_t{0x000ABCDE00010000},
                             std::uint64_t{0x000FFFFFFFFF0000}, std::uint64_t{0x0008000020000000}}) {
        for (unsigned l = 0; l <= 2; ++l) {
            const std::uint64_t oa = pa & ~(bit(f::item_lg2(l)) - 1);
            const auto pte = f::make_leaf(phys_addr{oa}, l, f::item_lg2(l), rw);
            CHECK(word{f::leaf_pa(pte, l).value} == word{oa});
            CHECK((pte & 0xF000) == ((oa >> 48) << 12));
            CHECK((pte >> 48 & 0xF) == 0); // bits [51:48] hold DBM (51), never PA
        }
        const auto t = f::make_table(phys_addr{pa & ~std::uint64_t{0xFFFF}}, 1);
        CHECK(word{f::table_pa(t).value} == word{pa & ~std::uint64_t{0xFFFF}});
    }
    // Linear within a 2^48 block only: crossing 2^48 jumps into bits [15:12].
    CHECK(f::leaf_linear_lg2 == 48);
    const auto below = f::make_leaf(phys_addr{bit(48) - bit(16)}, 0, 16, rw);
    CHECK(f::make_leaf(phys_addr{bit(48)}, 0, 16, rw) != below + bit(16));
    CHECK(arm_lpae<arm_lpae_config{.granule = 65536}>::leaf_linear_lg2 == 48);
    CHECK(arm_lpae<arm_lpae_config{.ias = 40, .oas = 40}>::leaf_linear_lg2 == 40);
    CHECK(arm_lpae<arm_lpae_config{.granule = 65536, .ias = 42, .oas = 44}>::leaf_linear_lg2 == 44);
}

TEST_CASE("PGTABLE §1.6: stage-2 attributes and the S2FWB MemAttr") {
    using s2 = arm_lpae<arm_lpae_config{.stage = arm_stage::s2}>;
    using fwb = arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .quirks = {.s2fwb = true}}>;
    // MemAttr [5:2]: NC 0b0101, OIWB 0b1111, FWB WB 0b0110, Device 0b0001.
    CHECK((s2::make_leaf(phys_addr{0}, 0, 12, rw) & 0x3C) == 0x14);
    CHECK((s2::make_leaf(phys_addr{0}, 0, 12, rw | prot::cache) & 0x3C) == 0x3C);
    CHECK((fwb::make_leaf(phys_addr{0}, 0, 12, rw | prot::cache) & 0x3C) == 0x18);
    CHECK((fwb::make_leaf(phys_addr{0}, 0, 12, rw) & 0x3C) == 0x14);
    CHECK((fwb::make_leaf(phys_addr{0}, 0, 12, rw | prot::mmio | prot::cache) & 0x3C) == 0x04);
    // S2AP is read and write separately; no nG, no AP[1]; PRIV has no encoding.
    CHECK((s2::make_leaf(phys_addr{0}, 0, 12, prot::read) & 0xFC0) == 0x640);
    CHECK(s2::make_leaf(phys_addr{0}, 0, 12, rw | prot::priv) ==
          s2::make_leaf(phys_addr{0}, 0, 12, rw));
    CHECK(s2::leaf_prot(s2::make_leaf(phys_addr{0}, 0, 12, prot::write | prot::noexec), 0) ==
          (prot::write | prot::noexec));
}

TEST_CASE("PGTABLE §1.5: HD puts DBM on every writable stage-1 leaf, never on read-only") {
    CHECK(word{hd::make_leaf(phys_addr{0x200000}, 1, 21, prot::write)} ==
          word{0x0008000000200E41});
    CHECK(word{hd::make_leaf(phys_addr{0x200000}, 1, 21, prot::read)} ==
          word{0x0000000000200EC1});
    CHECK(hd::leaf_prot(0x0008000000200EC1, 1) == rw); // cleaned, still writable
    CHECK(hd::leaf_prot(0x0000000000200EC1, 1) == prot::read);
}

TEST_CASE("PGTABLE §1.3: classify reads type bits per level, whatever else is set") {
    using f = arm_lpae<>;
    CHECK(f::classify(0x0000000080000003, 0) == pte_kind::leaf);  // page
    CHECK(f::classify(0x0000000080000003, 1) == pte_kind::table);
    CHECK(f::classify(0x0000000080000001, 1) == pte_kind::leaf);  // block
    CHECK(f::classify(0x8080000080000003, 2) == pte_kind::table); // NSTable, SW_SYNC
    CHECK(f::classify(0x0060000000000000, 1) == pte_kind::empty); // invalid with XN bits
}
