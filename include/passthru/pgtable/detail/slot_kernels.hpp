#pragma once
// The per-slot loops of the walker's hot paths, vectorised for the machine they run on:
//   fill_linear   map: t[i] = v + i·step (g++ -O2 emits it one slot at a time, and even
//                 -O3 only reaches 16-byte stores where glibc's memset uses 32-byte ones)
//   clear_while   unmap: validate 32 slots with one AND-reduction, then clear them
//   dirty_masks   dirty harvest: 64 slots become one 64-bit mask, without branches, and
//                 the dirty slots are cleaned (one XOR each)
// The tests are a format's bit tests (PageTableSlotTests), so one copy of each loop serves
// every format. On x86-64 with AVX2 (checked once, at start-up) the loops use 32-byte
// vectors written with the compilers' vector extensions, compiled for AVX2 through
// target("avx2") and chosen at run time, so users need no -march flag; everywhere else,
// and in constant evaluation, they are the plain loops. The harvest has an AVX-512 form
// too, the only one written with intrinsics: its per-slot results are mask registers,
// which vector extensions cannot name, and a masked store cleans exactly the dirty slots
// of a cache line while the line is still in a register. No inline assembly.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <passthru/concepts/page_table_format.hpp>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace passthru::pgtable::detail {

constexpr void fill_linear_plain(pte_t* t, std::size_t n, pte_t v, std::uint64_t step) noexcept {
    for (std::size_t i = 0; i < n; ++i, v += step) t[i] = v;
}

constexpr std::size_t clear_while_plain(pte_t* t, std::size_t n, slot_test test) noexcept {
    std::size_t i = 0;
    for (; i < n && test(t[i]); ++i) t[i] = 0;
    return i;
}

// The dirty slots of a 64-slot run cleaned: make_clean on a dirty slot is one XOR with
// the format's `flip` bits (clean_flip in dirty_walk.hpp).
constexpr void clean_slots(pte_t* t, std::uint64_t dirty, pte_t flip) noexcept {
    for (; dirty; dirty &= dirty - 1) t[std::countr_zero(dirty)] ^= flip;
}

constexpr bool dirty_mask64_plain(const pte_t* t, slot_test leaf, slot_test empty,
                                  bit_test dirty, std::uint64_t& mask) noexcept {
    std::uint64_t out = 0;
    bool simple = true;
    for (std::size_t k = 0; k < 64; ++k) {
        const bool is_leaf = leaf(t[k]);
        simple &= is_leaf || empty(t[k]);
        out |= std::uint64_t{is_leaf && dirty(t[k])} << k;
    }
    mask = out;
    return simple;
}

// Whether a test reads only bits 0-31, so the 8-slot form of the harvest can run it.
constexpr bool low_word(bit_test t) noexcept { return (t.mask >> 32) == 0 && (t.value >> 32) == 0; }
constexpr bool low_word(slot_test t) noexcept { return low_word(t.first) && low_word(t.second); }

// Bits in load8_low's order (0 1 4 5 2 3 6 7 in every byte) back in slot order.
constexpr std::uint64_t in_slot_order(std::uint64_t m) noexcept {
    constexpr std::uint64_t keep = 0xC3C3'C3C3'C3C3'C3C3, b45 = 0x0C0C'0C0C'0C0C'0C0C;
    return (m & keep) | ((m & b45) << 2) | ((m >> 2) & b45);
}

#if defined(__x86_64__) && defined(__GNUC__)
using pte_x4 = std::uint64_t __attribute__((vector_size(32)));
using lanes_x4 = std::int64_t __attribute__((vector_size(32))); // all ones where a test holds

[[gnu::target("avx2")]] inline pte_x4 load4(const pte_t* p) noexcept {
    pte_x4 x;
    std::memcpy(&x, p, sizeof x);
    return x;
}
[[gnu::target("avx2")]] inline lanes_x4 holds(pte_x4 x, bit_test t) noexcept {
    const pte_x4 mask = {t.mask, t.mask, t.mask, t.mask};
    const pte_x4 value = {t.value, t.value, t.value, t.value};
    const std::int64_t flip = t.differs ? -1 : 0; // branch-free: the test is not a constant here
    const lanes_x4 flips = {flip, flip, flip, flip};
    const lanes_x4 eq = (x & mask) == value;
    return eq ^ flips;
}
[[gnu::target("avx2")]] inline lanes_x4 holds(pte_x4 x, slot_test t) noexcept {
    return holds(x, t.first) & holds(x, t.second);
}

[[gnu::target("avx2")]] inline void fill_linear_avx2(pte_t* t, std::size_t n, pte_t v,
                                                     std::uint64_t step) noexcept {
    // Two 32-byte stores per step of 8 slots: one cache line.
    const std::size_t blocks = n / 8;
    pte_x4 x = {v, v + step, v + 2 * step, v + 3 * step};
    const std::uint64_t s4 = 4 * step;
    const pte_x4 inc = {s4, s4, s4, s4};
    for (std::size_t b = 0; b < blocks; ++b) {
        std::memcpy(t + 8 * b, &x, sizeof x);
        x += inc;
        std::memcpy(t + 8 * b + 4, &x, sizeof x);
        x += inc;
    }
    fill_linear_plain(t + 8 * blocks, n - 8 * blocks, v + 8 * blocks * step, step);
}

// Bits 0-3: the sign bits of the lanes of `x`.
[[gnu::target("avx2")]] inline unsigned lane_bits(lanes_x4 x) noexcept {
    return static_cast<unsigned>(
        __builtin_ia32_movmskpd256(reinterpret_cast<double __attribute__((vector_size(32)))>(x)));
}

// Where `t` holds, in the sign bit of each lane only (the other bits are don't-care), for
// loops that read the result through lane_bits: a test of one bit is one shift of that
// bit into the sign (and a NOT), where holds() needs an AND and a compare. The tests are
// constants at every call, so the choice folds away.
[[gnu::target("avx2")]] inline lanes_x4 sign_holds(pte_x4 x, bit_test t) noexcept {
    const bool one_bit = t.mask != 0 && (t.mask & (t.mask - 1)) == 0;
    if (!one_bit) return holds(x, t);
    const lanes_x4 sign = reinterpret_cast<lanes_x4>(x << (63 - std::countr_zero(t.mask)));
    const bool set = (t.value == t.mask) != t.differs; // the test holds where the bit is set
    return set ? sign : ~sign;
}
[[gnu::target("avx2")]] inline lanes_x4 sign_holds(pte_x4 x, slot_test t) noexcept {
    return sign_holds(x, t.first) & sign_holds(x, t.second);
}

// A bit test over a block of slots as one AND-reduction of a per-slot word whose `check`
// bits are all set exactly where the test holds, so a block costs one or three vector
// operations per 4 slots instead of a compare and its flips:
//   all of the masked bits set      the slot itself                   check: mask
//   all of them clear               its complement                    check: mask
//   any set (a contiguous mask m)   (x & m) + m carries out of m      check: the carry bit
//   not all set (contiguous m)      the complement of (x & m) + low(m), whose carry out of m
//                                   means all were set                check: the carry bit
// Anything else keeps the compare (general).
struct block_test {
    enum class form { always, all_set, all_clear, any_set, not_all_set, general } how = form::general;
    pte_t mask = 0, add = 0, check = 0;
};
constexpr bool contiguous_below_top(pte_t m) noexcept {
    return m != 0 && std::has_single_bit((m >> std::countr_zero(m)) + 1) && (m >> 63) == 0;
}
constexpr block_test block_form(bit_test t) noexcept {
    using f = block_test::form;
    if (t.mask == 0) return t.value == 0 && !t.differs ? block_test{f::always} : block_test{};
    const pte_t low = t.mask & (~t.mask + 1), carry = (t.mask + low) & ~t.mask;
    if (t.value == t.mask && !t.differs) return {f::all_set, t.mask, 0, t.mask};
    if (t.value == 0 && !t.differs) return {f::all_clear, t.mask, 0, t.mask};
    if (!contiguous_below_top(t.mask)) return {};
    if (t.value == 0) return {f::any_set, t.mask, t.mask, carry};
    if (t.value == t.mask) return {f::not_all_set, t.mask, low, carry};
    return {};
}
template <block_test B>
[[gnu::target("avx2")]] inline pte_x4 block_word(pte_x4 x) noexcept {
    using f = block_test::form;
    constexpr block_test b = B; // a copy: llvm/llvm-project#146272, below
    const pte_x4 m = {b.mask, b.mask, b.mask, b.mask}, a = {b.add, b.add, b.add, b.add};
    if constexpr (b.how == f::all_set) return x;
    else if constexpr (b.how == f::all_clear) return ~x;
    else if constexpr (b.how == f::any_set) return (x & m) + a;
    else return ~((x & m) + a);
}
// Every slot of t[0..32) passes `Test` (each of its two bit tests in reduced form where one
// exists, the compare otherwise).
template <slot_test Test>
[[gnu::target("avx2")]] inline bool block_holds(const pte_t* t) noexcept {
    using f = block_test::form;
    constexpr slot_test test = Test;
    constexpr block_test a = block_form(test.first), b = block_form(test.second);
    if constexpr (a.how == f::general || b.how == f::general) {
        lanes_x4 ok = sign_holds(load4(t), test);
        for (std::size_t k = 4; k < 32; k += 4) ok &= sign_holds(load4(t + k), test);
        return lane_bits(ok) == 0xF;
    } else {
        constexpr pte_t all = ~pte_t{0};
        pte_x4 ra = {all, all, all, all}, rb = ra;
        for (std::size_t k = 0; k < 32; k += 4) {
            const pte_x4 x = load4(t + k);
            if constexpr (a.how != f::always) ra &= block_word<a>(x);
            if constexpr (b.how != f::always) rb &= block_word<b>(x);
        }
        const pte_x4 ca = {a.check, a.check, a.check, a.check}, cb = {b.check, b.check, b.check, b.check};
        const lanes_x4 ok = ((ra & ca) == ca) & ((rb & cb) == cb);
        return lane_bits(ok) == 0xF;
    }
}

// The tests are template arguments, so each loop folds its format's masks and flips into
// the instructions (formats with the same tests share a copy). They are read through
// ordinary constexpr copies: clang 14 miscompiles references to members of class-type
// template parameter objects (llvm/llvm-project#146272).
template <slot_test Test>
[[gnu::target("avx2")]] std::size_t clear_while_avx2(pte_t* t, std::size_t n) noexcept {
    constexpr slot_test test = Test;
    // Blocks of 32 slots: one reduction per block, then 8 vector stores (a 256-byte memset
    // would become `rep stosq`, several times slower at this size).
    constexpr std::size_t block = 32;
    std::size_t i = 0;
    for (; i + block <= n; i += block) {
        if (!block_holds<Test>(t + i)) break;
        const pte_x4 zero{};
        for (std::size_t k = 0; k < block; k += 4) std::memcpy(t + i + k, &zero, sizeof zero);
    }
    return i + clear_while_plain(t + i, n - i, test);
}

// The slots that are neither `leaf` nor `empty` (contiguous entries), as one test where the
// formats' tests allow it: with `empty` the negation of `leaf`'s first test, they are the
// slots that pass that test but not `leaf`'s second one, and two equality tests on disjoint
// bits merge into one. Unset when no simpler form is known.
struct other_test {
    bool never = false;    // leaf and empty cover every slot (VT-d, ARM)
    bool known = false;    // `test` is exact
    slot_test test{};
};
constexpr bool always(bit_test t) noexcept { return t.mask == 0 && t.value == 0 && !t.differs; }
// x holds exactly where y does not: the same comparison negated, or, on a single bit, the
// other value of it.
constexpr bool negation(bit_test x, bit_test y) noexcept {
    if (x.mask != y.mask) return false;
    if (x.value == y.value) return x.differs != y.differs;
    const bool one_bit = x.mask != 0 && (x.mask & (x.mask - 1)) == 0;
    return one_bit && x.differs == y.differs && (x.value | y.value) == x.mask;
}
constexpr other_test other_slots(slot_test leaf, slot_test empty) noexcept {
    const bit_test a = leaf.first, b = leaf.second;
    if (!always(empty.second) || !negation(empty.first, a)) return {};
    if (always(b)) return {true, true, {}};
    const bit_test not_b{b.mask, b.value, !b.differs};
    if (!a.differs && !not_b.differs && (a.mask & not_b.mask) == 0)
        return {false, true, {{a.mask | not_b.mask, a.value | not_b.value}}};
    return {false, true, {a, not_b}};
}

// A bit test in the form (pte & mask) == value, where it has one.
struct equality {
    bool exists = false;
    bit_test test{};
};
constexpr equality as_equality(bit_test t) noexcept {
    if (!t.differs) return {true, t};
    if (std::has_single_bit(t.mask)) return {true, {t.mask, t.value ^ t.mask}};
    return {};
}

// "A dirty leaf" as one equality, for runs that hold only leaves and empty slots (where
// a leaf is a slot that is not empty): where `empty` is one test whose negation and the
// dirty test are equalities on disjoint bits (ARM: type 0b11, DBM set, AP[2] clear), one
// compare per vector instead of two tests and their combination.
constexpr equality dirty_leaf_equality(slot_test empty, bit_test dirty) noexcept {
    if (!always(empty.second)) return {};
    const equality a = as_equality({empty.first.mask, empty.first.value, !empty.first.differs});
    const equality b = as_equality(dirty);
    if (!a.exists || !b.exists || (a.test.mask & b.test.mask) != 0) return {};
    return {true, {a.test.mask | b.test.mask, a.test.value | b.test.value}};
}

// The same tests on 32-bit words: the low halves of 8 slots in one vector, for formats
// whose tests read only bits 0-31 (VT-d, AMD-Vi), so one vector operation tests 8 slots.
using word_x8 = std::uint32_t __attribute__((vector_size(32)));
using wlanes_x8 = std::int32_t __attribute__((vector_size(32)));

// The low 32 bits of t[0..8) in the order of slots 0 1 4 5 2 3 6 7: one in-lane shuffle
// (vshufps), where slot order would need a cross-lane permute per vector; the mask bits
// are put back in order once per 64 slots (in_slot_order).
[[gnu::target("avx2")]] inline word_x8 load8_low(const pte_t* t) noexcept {
    word_x8 a, b;
    std::memcpy(&a, t, sizeof a);
    std::memcpy(&b, t + 4, sizeof b);
    return __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14);
}
[[gnu::target("avx2")]] inline unsigned lane_bits(wlanes_x8 x) noexcept {
    return static_cast<unsigned>(
        __builtin_ia32_movmskps256(reinterpret_cast<float __attribute__((vector_size(32)))>(x)));
}
[[gnu::target("avx2")]] inline wlanes_x8 sign_holds(word_x8 x, bit_test t) noexcept {
    const auto mask = static_cast<std::uint32_t>(t.mask), value = static_cast<std::uint32_t>(t.value);
    const bool one_bit = mask != 0 && (mask & (mask - 1)) == 0;
    if (!one_bit) {
        const wlanes_x8 eq = (x & mask) == value;
        return t.differs ? ~eq : eq;
    }
    const wlanes_x8 sign = reinterpret_cast<wlanes_x8>(x << (31 - std::countr_zero(mask)));
    return (value == mask) != t.differs ? sign : ~sign;
}
[[gnu::target("avx2")]] inline wlanes_x8 sign_holds(word_x8 x, slot_test t) noexcept {
    return sign_holds(x, t.first) & sign_holds(x, t.second);
}

// One 64-slot mask: bit k set where t[k] is a dirty one-slot leaf; `odd` collects the
// slots that are neither such a leaf nor empty. Where the "other" slots have an exact
// test, a leaf is what is neither empty nor other, which saves evaluating the leaf test.
// `Load` and `Step` choose the lanes: 4 whole slots, or the low words of 8.
template <slot_test Leaf, slot_test Empty, bit_test Dirty, unsigned Step, class Load>
[[gnu::target("avx2")]] inline std::uint64_t dirty_mask64(const pte_t* t, Load load, bool& odd_seen) noexcept {
    constexpr slot_test leaf = Leaf, empty = Empty;
    constexpr bit_test dirty = Dirty;
    constexpr other_test other = other_slots(leaf, empty);
    // Where every slot is a leaf or empty (no odd slots to collect), one compare may do.
    constexpr equality dirty_leaf = dirty_leaf_equality(empty, dirty);
    constexpr bool one_compare = other.never && dirty_leaf.exists;
    decltype(sign_holds(load(t), empty)) odd = {};
    std::uint64_t bits = 0;
    for (std::size_t k = 0; k < 64; k += Step) {
        const auto x = load(t + k);
        if constexpr (one_compare) {
            bits |= std::uint64_t{lane_bits(sign_holds(x, dirty_leaf.test))} << k;
            continue;
        }
        decltype(odd) is_leaf;
        if constexpr (other.never) {
            is_leaf = ~sign_holds(x, empty);
        } else if constexpr (other.known) {
            const auto o = sign_holds(x, other.test);
            odd |= o;
            is_leaf = ~(sign_holds(x, empty) | o);
        } else {
            is_leaf = sign_holds(x, leaf);
            odd |= ~(is_leaf | sign_holds(x, empty));
        }
        bits |= std::uint64_t{lane_bits(is_leaf & sign_holds(x, dirty))} << k;
    }
    odd_seen = lane_bits(odd) != 0;
    return Step == 8 ? in_slot_order(bits) : bits;
}

// Masks for `chunks` runs of 64 slots, up to the first run that is not all leaves or empty
// slots, each run's dirty slots cleaned (XOR `Flip`) when `clean`; returns how many runs
// it did.
template <slot_test Leaf, slot_test Empty, bit_test Dirty, pte_t Flip>
[[gnu::target("avx2")]] std::size_t dirty_masks_avx2(pte_t* t, std::size_t chunks, std::uint64_t* masks,
                                                     bool clean) noexcept {
    constexpr slot_test leaf = Leaf, empty = Empty;
    constexpr bit_test dirty = Dirty;
    constexpr bool packed = low_word(leaf) && low_word(empty) && low_word(dirty);
    for (std::size_t c = 0; c < chunks; ++c, t += 64) {
        bool odd = false;
        if constexpr (packed)
            masks[c] = dirty_mask64<Leaf, Empty, Dirty, 8>(t, load8_low, odd);
        else
            masks[c] = dirty_mask64<Leaf, Empty, Dirty, 4>(t, load4, odd);
        if (odd) return c;
        if (clean) clean_slots(t, masks[c], Flip);
    }
    return chunks;
}

// The harvest with AVX-512, each test's result a mask register.
// `in` AND the lanes of x where T holds, as one masked test (two for a general compare):
// a chain of holds calls ANDs its tests inside the instructions. Lanes are whole slots
// (8 per vector) or, where the tests read only bits 0-31, the low words of 16 slots.
template <class Lanes>
[[gnu::target("avx512f")]] inline Lanes test_lanes(__m512i x, __m512i m, Lanes in, bool any_set) noexcept {
    if constexpr (std::is_same_v<Lanes, __mmask8>)
        return any_set ? _mm512_mask_test_epi64_mask(in, x, m) : _mm512_mask_testn_epi64_mask(in, x, m);
    else
        return any_set ? _mm512_mask_test_epi32_mask(in, x, m) : _mm512_mask_testn_epi32_mask(in, x, m);
}
template <class Lanes>
[[gnu::target("avx512f")]] inline Lanes equal_lanes(__m512i x, __m512i v, Lanes in, bool differs) noexcept {
    if constexpr (std::is_same_v<Lanes, __mmask8>)
        return differs ? _mm512_mask_cmpneq_epi64_mask(in, x, v) : _mm512_mask_cmpeq_epi64_mask(in, x, v);
    else
        return differs ? _mm512_mask_cmpneq_epi32_mask(in, x, v) : _mm512_mask_cmpeq_epi32_mask(in, x, v);
}
template <class Lanes>
[[gnu::target("avx512f")]] inline __m512i broadcast(pte_t v) noexcept {
    if constexpr (std::is_same_v<Lanes, __mmask8>)
        return _mm512_set1_epi64(static_cast<long long>(v));
    else
        return _mm512_set1_epi32(static_cast<int>(v));
}
template <bit_test T, class Lanes>
[[gnu::target("avx512f")]] inline Lanes mask_holds(__m512i x, Lanes in) noexcept {
    constexpr bit_test t = T;
    const __m512i m = broadcast<Lanes>(t.mask);
    if constexpr (t.mask == 0)
        return (t.value == 0) != t.differs ? in : Lanes{0};
    else if constexpr (t.value == 0) // all masked bits clear, or (differs) any set
        return test_lanes(x, m, in, t.differs);
    else if constexpr (t.value == t.mask && std::has_single_bit(t.mask))
        return test_lanes(x, m, in, !t.differs);
    else
        return equal_lanes(_mm512_and_si512(x, m), broadcast<Lanes>(t.value), in, t.differs);
}
template <slot_test T, class Lanes>
[[gnu::target("avx512f")]] inline Lanes mask_holds(__m512i x, Lanes in) noexcept {
    constexpr slot_test t = T;
    return mask_holds<t.second>(x, mask_holds<t.first>(x, in));
}

// The dirty lanes of x (a lane: a slot, or the low word of one), and in `odd` the lanes
// that are neither a one-slot leaf nor empty. Only a run without odd lanes is used, so
// there "a leaf" is "not empty": one test where `empty` is one negatable test, one compare
// for both where dirty_leaf_equality allows it (ARM).
template <slot_test Leaf, slot_test Empty, bit_test Dirty, class Lanes>
[[gnu::target("avx512f")]] inline Lanes dirty_lanes(__m512i x, Lanes& odd) noexcept {
    constexpr slot_test leaf = Leaf, empty = Empty;
    constexpr bit_test dirty = Dirty;
    constexpr other_test other = other_slots(leaf, empty);
    constexpr Lanes all = static_cast<Lanes>(~Lanes{0});
    constexpr bool one_negatable = always(empty.second);
    constexpr bit_test not_empty{empty.first.mask, empty.first.value, !empty.first.differs};
    constexpr equality dirty_leaf = dirty_leaf_equality(empty, dirty);
    if constexpr (other.known && !other.never)
        odd |= mask_holds<other.test>(x, all);
    else if constexpr (!other.known)
        odd |= static_cast<Lanes>(~(mask_holds<leaf>(x, all) | mask_holds<empty>(x, all)));
    if constexpr (dirty_leaf.exists)
        return mask_holds<dirty_leaf.test>(x, all);
    else if constexpr (one_negatable)
        return mask_holds<dirty>(x, mask_holds<not_empty>(x, all));
    else
        return mask_holds<dirty>(x, mask_holds<leaf>(x, all));
}

// dirty_masks_avx2's contract with 64-byte vectors: a run's 8 lines stay in registers
// until the run is known to hold only leaves and empty slots, then one masked store per
// line writes back exactly its dirty slots, cleaned, so the clean reads nothing again
// and stores once per line, not once per slot. Where the tests read only bits 0-31
// (VT-d, AMD-Vi), one permute puts the low words of two lines in one vector and each test
// covers 16 slots.
template <slot_test Leaf, slot_test Empty, bit_test Dirty, pte_t Flip>
[[gnu::target("avx512f")]] std::size_t dirty_masks_avx512(pte_t* t, std::size_t chunks, std::uint64_t* masks,
                                                          bool clean) noexcept {
    constexpr bool packed = low_word(Leaf) && low_word(Empty) && low_word(Dirty);
    // The low words of two lines' slots, in slot order.
    const __m512i low_words = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i flip = _mm512_set1_epi64(static_cast<long long>(Flip));
    for (std::size_t c = 0; c < chunks; ++c, t += 64) {
        __m512i x[8];
        std::uint64_t bits = 0;
        bool odd = false;
        if constexpr (packed) {
            __mmask16 o = 0;
            for (std::size_t l = 0; l < 8; l += 2) {
                x[l] = _mm512_loadu_si512(t + 8 * l);
                x[l + 1] = _mm512_loadu_si512(t + 8 * l + 8);
                const __m512i w = _mm512_permutex2var_epi32(x[l], low_words, x[l + 1]);
                bits |= std::uint64_t{dirty_lanes<Leaf, Empty, Dirty>(w, o)} << (8 * l);
            }
            odd = o != 0;
        } else {
            __mmask8 o = 0;
            for (std::size_t l = 0; l < 8; ++l) {
                x[l] = _mm512_loadu_si512(t + 8 * l);
                bits |= std::uint64_t{dirty_lanes<Leaf, Empty, Dirty>(x[l], o)} << (8 * l);
            }
            odd = o != 0;
        }
        if (odd) return c;
        masks[c] = bits;
        if (clean && bits)
            for (std::size_t l = 0; l < 8; ++l)
                if (const auto d = static_cast<__mmask8>(bits >> (8 * l)))
                    _mm512_mask_storeu_epi64(t + 8 * l, d, _mm512_xor_si512(x[l], flip));
    }
    return chunks;
}

inline const bool cpu_has_avx2 = __builtin_cpu_supports("avx2");
inline const bool cpu_has_avx512 = __builtin_cpu_supports("avx512f");
#endif

// t[i] = v + i·step for i < n.
constexpr void fill_linear(pte_t* t, std::size_t n, pte_t v, std::uint64_t step) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if (!std::is_constant_evaluated() && cpu_has_avx2) return fill_linear_avx2(t, n, v, step);
#endif
    fill_linear_plain(t, n, v, step);
}

// Clear t[0..) while its slots pass `Test`, up to n; returns how many it cleared.
template <slot_test Test>
constexpr std::size_t clear_while(pte_t* t, std::size_t n) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if (!std::is_constant_evaluated() && cpu_has_avx2) return clear_while_avx2<Test>(t, n);
#endif
    constexpr slot_test test = Test;
    return clear_while_plain(t, n, test);
}

// masks[c] bit k: t[64c + k] passes `Leaf` and `Dirty`, for each run of 64 slots up to the
// first that holds a slot neither `Leaf` nor `Empty` (a contiguous entry); when `clean`,
// the dirty slots of those runs are XORed with `Flip`. Returns how many runs it did.
template <slot_test Leaf, slot_test Empty, bit_test Dirty, pte_t Flip>
constexpr std::size_t dirty_masks(pte_t* t, std::size_t chunks, std::uint64_t* masks, bool clean) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if (!std::is_constant_evaluated() && cpu_has_avx512)
        return dirty_masks_avx512<Leaf, Empty, Dirty, Flip>(t, chunks, masks, clean);
    if (!std::is_constant_evaluated() && cpu_has_avx2)
        return dirty_masks_avx2<Leaf, Empty, Dirty, Flip>(t, chunks, masks, clean);
#endif
    constexpr slot_test leaf = Leaf, empty = Empty;
    constexpr bit_test dirty = Dirty;
    for (std::size_t c = 0; c < chunks; ++c) {
        if (!dirty_mask64_plain(t + 64 * c, leaf, empty, dirty, masks[c])) return c;
        if (clean) clean_slots(t + 64 * c, masks[c], Flip);
    }
    return chunks;
}

} // namespace passthru::pgtable::detail
