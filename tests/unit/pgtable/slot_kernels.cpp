// The walker's per-slot loops (pgtable/detail/slot_kernels.hpp): the vector forms a CPU
// with AVX2 or AVX-512 runs give what the plain loops give, on tables of every format's real words
// with holes and contiguous entries placed at random; and the contiguous-entry test each
// format's bit tests reduce to.
#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/arm_lpae.hpp>
#include <passthru/pgtable/detail/slot_kernels.hpp>
#include <passthru/pgtable/dirty_walk.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

using namespace passthru;
using namespace passthru::pgtable;

namespace {
using vtd = vtd_ss<vtd_ss_config{.dirty_tracking = true}>;
using amd = amd_v1<amd_v1_config{.mode = 4, .dirty_tracking = true}>;
using arm = arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>;

// What the harvest's contiguous-entry test reduces to (detail::other_slots).
static_assert(detail::other_slots(vtd::item_leaf_test(0), vtd::empty_test(0)).never);
static_assert(detail::other_slots(arm::item_leaf_test(0), arm::empty_test(0)).never);
constexpr auto amd_other = detail::other_slots(amd::item_leaf_test(0), amd::empty_test(0));
static_assert(amd_other.known && !amd_other.never);
static_assert(amd_other.test.first.mask == 0xE01 && amd_other.test.first.value == 0xE01 &&
              !amd_other.test.first.differs); // PR and NextLevel 7
static_assert(amd_other.test(amd::make_leaf(phys_addr{0}, 0, 16, prot::read)) &&
              !amd_other.test(amd::make_leaf(phys_addr{0}, 0, 12, prot::read)) &&
              !amd_other.test(0));

// Where "a dirty leaf" is one equality (detail::dirty_leaf_equality): ARM's type, DBM and
// AP[2]; AMD-Vi's PR and D; not VT-d, whose "present" is either of two bits.
constexpr auto arm_dirty_leaf = detail::dirty_leaf_equality(arm::empty_test(0), arm::dirty_test());
static_assert(arm_dirty_leaf.exists && arm_dirty_leaf.test.mask == (arm::dirty_test().mask | 3) &&
              arm_dirty_leaf.test.value == (arm::dirty_test().value | 3) && !arm_dirty_leaf.test.differs);
constexpr auto amd_dirty_leaf = detail::dirty_leaf_equality(amd::empty_test(0), amd::dirty_test());
static_assert(amd_dirty_leaf.exists && amd_dirty_leaf.test.mask == 0x41 && amd_dirty_leaf.test.value == 0x41);
static_assert(!detail::dirty_leaf_equality(vtd::empty_test(0), vtd::dirty_test()).exists);

// VT-d's and AMD-Vi's harvest tests read only the low words (8 slots per vector); ARM's
// dirty test reads DBM, bit 51.
static_assert(detail::low_word(vtd::item_leaf_test(0)) && detail::low_word(vtd::dirty_test()));
static_assert(detail::low_word(amd::item_leaf_test(0)) && detail::low_word(amd::dirty_test()));
static_assert(!detail::low_word(arm::dirty_test()));
// load8_low's lane order, undone.
static_assert(detail::in_slot_order(0b0011'0000) == 0b0000'1100 &&
              detail::in_slot_order(0b0000'1100) == 0b0011'0000 &&
              detail::in_slot_order(0xC3ull << 56) == 0xC3ull << 56);

// A level-0 table of F's words: leaves, some dirty, holes, and (AMD) 64K entries.
template <class F>
std::vector<pte_t> random_table(std::mt19937_64& rng) {
    std::vector<pte_t> t(512, 0);
    for (std::size_t i = 0; i < t.size(); ++i) {
        const unsigned r = static_cast<unsigned>(rng() % 32);
        if (r == 0) continue; // a hole
        pte_t e = F::make_leaf(phys_addr{(rng() % 4096) << 12}, 0, 12, prot::read | prot::write);
        if (r < 6) e = F::make_clean(e);
        else if constexpr (std::is_same_v<F, amd>) {
            if (r == 31 && i % 16 == 0 && i + 16 <= t.size()) { // a 64K entry
                const pte_t c = F::make_leaf(phys_addr{0x1'0000}, 0, 16, prot::read | prot::write);
                for (std::size_t k = 0; k < 16; ++k) t[i + k] = c;
                i += 15;
                continue;
            }
        }
        if (r > 20) e |= F::dirty_test().mask & ~F::dirty_test().value; // D set (VT-d, AMD)
        t[i] = e;
    }
    return t;
}

// The plain harvest of 8 runs: how many it finishes, their masks, the table cleaned.
struct harvest {
    std::size_t runs = 0;
    std::vector<std::uint64_t> masks;
    std::vector<pte_t> table;
    bool operator==(const harvest&) const = default;
};
template <class F>
harvest plain_harvest(std::vector<pte_t> table, bool clean) {
    constexpr slot_test leaf = F::item_leaf_test(0), empty = F::empty_test(0);
    constexpr bit_test dirty = F::dirty_test();
    harvest h{8, std::vector<std::uint64_t>(8, 0), {}};
    for (std::size_t c = 0; c < 8; ++c) {
        if (!detail::dirty_mask64_plain(table.data() + 64 * c, leaf, empty, dirty, h.masks[c])) {
            h.runs = c;
            h.masks[c] = 0;
            break;
        }
        if (clean)
            for (std::size_t k = 0; k < 64; ++k)
                if (h.masks[c] >> k & 1) table[64 * c + k] = F::make_clean(table[64 * c + k]);
    }
    h.table = std::move(table);
    return h;
}
template <class F, class Kernel>
harvest kernel_harvest(std::vector<pte_t> table, bool clean, Kernel kernel) {
    harvest h{0, std::vector<std::uint64_t>(8, 0), {}};
    h.runs = kernel(table.data(), 8, h.masks.data(), clean);
    for (std::size_t c = h.runs; c < 8; ++c) h.masks[c] = 0; // unspecified past the runs done
    h.table = std::move(table);
    return h;
}

template <class F>
void vector_equals_plain(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    constexpr slot_test leaf = F::item_leaf_test(0), empty = F::empty_test(0);
    constexpr bit_test dirty = F::dirty_test();
    constexpr pte_t flip = detail::clean_flip<F>();
    int cleaned = 0, stopped = 0;
    for (int round = 0; round < 200; ++round) {
        const std::vector<pte_t> table = random_table<F>(rng);
        // dirty_masks: the runs it finishes, their masks, and (when cleaning) the table
        // with exactly their dirty slots cleaned; by the dispatcher and by each vector form
        // this CPU has.
        for (const bool clean : {false, true}) {
            const harvest want = plain_harvest<F>(table, clean);
            CHECK(kernel_harvest<F>(table, clean, detail::dirty_masks<leaf, empty, dirty, flip>) == want);
#if defined(__x86_64__) && defined(__GNUC__)
            if (detail::cpu_has_avx2)
                CHECK(kernel_harvest<F>(table, clean, detail::dirty_masks_avx2<leaf, empty, dirty, flip>) == want);
            if (detail::cpu_has_avx512)
                CHECK(kernel_harvest<F>(table, clean, detail::dirty_masks_avx512<leaf, empty, dirty, flip>) == want);
#endif
            cleaned += clean && want.table != table;
            stopped += want.runs < 8;
        }
        // clear_while: from a random start, as far as the leaves go.
        std::vector<pte_t> a = table, b = table;
        const std::size_t from = rng() % 512;
        const std::size_t n = rng() % (512 - from + 1);
        CHECK(detail::clear_while<leaf>(a.data() + from, n) ==
              detail::clear_while_plain(b.data() + from, n, leaf));
        CHECK(a == b);
    }
    CHECK(cleaned > 100); // the random tables exercise both outcomes
    if constexpr (std::is_same_v<F, amd>) CHECK(stopped > 20);
}
} // namespace

TEST_CASE("pgtable/detail/slot_kernels.hpp: the vector loops give what the plain loops give") {
    vector_equals_plain<vtd>(1);
    vector_equals_plain<amd>(2);
    vector_equals_plain<arm>(3);
}

#if defined(__x86_64__) && defined(__GNUC__)
namespace {
// block_holds (the 32-slot check of clear_while) against the plain test, on blocks that all
// pass and blocks with one slot that fails, for each reduced form and for the compare.
template <slot_test T>
void block_form_agrees(std::uint64_t seed) {
    constexpr slot_test test = T;
    std::mt19937_64 rng(seed);
    const pte_t bits = test.first.mask | test.second.mask;
    auto word = [&] { // random in the tested bits, random elsewhere
        const pte_t x = rng();
        return (rng() % 2 ? x | bits : x & ~bits) ^ (rng() & bits);
    };
    auto passing = [&] {
        for (;;)
            if (const pte_t x = word(); test(x)) return x;
    };
    int all = 0, some = 0;
    for (int round = 0; round < 400; ++round) {
        std::array<pte_t, 32> b{};
        for (pte_t& x : b) x = passing();
        if (round % 2) b[rng() % 32] = word(); // may or may not pass
        const bool want = std::all_of(b.begin(), b.end(), [&](pte_t x) { return test(x); });
        (want ? all : some) += 1;
        CHECK(detail::block_holds<T>(b.data()) == want);
    }
    CHECK(all > 100);
    CHECK(some > 20);
}
using form = detail::block_test::form;
static_assert(detail::block_form({3, 3}).how == form::all_set);
static_assert(detail::block_form({3, 0}).how == form::all_clear);
static_assert(detail::block_form({3, 0, true}).how == form::any_set);
static_assert(detail::block_form({0xE00, 0xE00, true}).how == form::not_all_set);
static_assert(detail::block_form({0xE00, 0x200}).how == form::general);
static_assert(detail::block_form({5, 5, true}).how == form::general); // not contiguous
static_assert(detail::block_form({pte_t{3} << 62, 0, true}).how == form::general); // its carry leaves the word
static_assert(detail::block_form({0, 0}).how == form::always);
} // namespace

TEST_CASE("pgtable/detail/slot_kernels.hpp: a block's reduced test is the plain test of every slot") {
    if (!detail::cpu_has_avx2) {
        WARN("no AVX2 on this CPU: the vector forms do not run here");
        return;
    }
    block_form_agrees<slot_test{{3, 3}}>(1);
    block_form_agrees<slot_test{{3, 0}}>(2);
    block_form_agrees<slot_test{{3, 0, true}}>(3);
    block_form_agrees<slot_test{{1, 1}, {0xE00, 0xE00, true}}>(4);
    block_form_agrees<slot_test{{0xE00, 0x200}}>(5);
    block_form_agrees<slot_test{{5, 5, true}, {pte_t{1} << 63, pte_t{1} << 63}}>(6);
    block_form_agrees<slot_test{{pte_t{3} << 62, 0, true}}>(7);
    block_form_agrees<slot_test{{0x30, 0}, {0x1C0, 0, true}}>(8);
    // The formats' own leaf tests.
    block_form_agrees<vtd::item_leaf_test(0)>(9);
    block_form_agrees<amd::item_leaf_test(0)>(10);
    block_form_agrees<arm::item_leaf_test(0)>(11);
}
#endif
