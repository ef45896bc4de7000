#pragma once
// Page-table formats, as small policy types of constexpr encode/decode functions (STYLE:
// Linux generic_pt, "format as policy"). The map, unmap, lookup and dirty algorithms are
// written once (pgtable/page_table.hpp) and instantiated per format: no virtual calls,
// everything inlines. The concept is built from small pieces, each usable on its own:
//   PageTableGeometry   how the levels cut the IOVA space
//   PageTableCodec      + how a slot encodes a table pointer or a leaf
//   PageTableFormat     + a name and the walker's policies: what the walker needs
//   DirtyTrackingFormat + the hardware's written-to mark on leaves (PGTABLE §8)
//
// Vocabulary (generic_pt's): a *slot* is one 64-bit word of a table; an *entry* is one
// translation, which is one slot or, for contiguous formats (AMD-Vi NextLevel=7), 2^k
// identical slots. Levels count up from 0, the table holding the smallest pages, to
// `top_level`, the root. Sizes are log2 values.
#include <concepts>
#include <cstdint>
#include <string_view>

#include <passthru/core/address.hpp>
#include <passthru/core/prot.hpp>

namespace passthru {

using pte_t = std::uint64_t;

enum class pte_kind : std::uint8_t { empty, table, leaf };

// What unmap does when asked to remove less than a whole large leaf that starts at the
// requested IOVA (PGTABLE §0.4).
enum class partial_unmap : std::uint8_t {
    whole_leaf, // remove the whole leaf and report its size (AMD, VT-d, generic_pt)
    refuse,     // unmap nothing and report 0 (ARM LPAE since Linux 6.13)
};

// A `PageTableGeometry` F provides, all static and constexpr:
//   top_level             level of the root table (levels - 1), at most 5
//   va_bits, oa_bits      widths of the input (IOVA) and output addresses, at most 64
//   item_lg2(level)       log2 bytes one slot at `level` translates
//   table_lg2(level)      log2 slots in a table at `level` (the root may differ: ARM
//                         stage-2 concatenation, AMD's 128-slot level 5)
//   leaf_sizes(level)     bitmap of entry sizes a leaf at `level` may have: the slot size
//                         and, for contiguous formats, multiples of it
// The page sizes a domain of the format can offer follow from these alone
// (pgtable::format_pgsizes).
template <class F>
concept PageTableGeometry = requires(unsigned level) {
    { F::top_level } -> std::convertible_to<unsigned>;
    { F::va_bits } -> std::convertible_to<unsigned>;
    { F::oa_bits } -> std::convertible_to<unsigned>;
    { F::item_lg2(level) } -> std::same_as<unsigned>;
    { F::table_lg2(level) } -> std::same_as<unsigned>;
    { F::leaf_sizes(level) } -> std::same_as<std::uint64_t>;
    // The walker's limits: at most 6 levels, addresses of at most 64 bits.
    requires F::top_level <= 5 && F::va_bits <= 64 && F::oa_bits <= 64;
};

// A `PageTableCodec` F is a geometry that also provides, all static and constexpr:
//   make_table(child_pa, level)  descriptor of a slot at `level` pointing at a table
//   make_leaf(pa, level, size_lg2, prot)
//                                descriptor written in every slot of a leaf entry
//   classify(pte, level)         empty, table or leaf
//   table_pa(pte)                the child table a table descriptor points at
//   leaf_pa(pte, level)          output address of the entry's first byte
//   leaf_size_lg2(pte, level)    size of the entry a leaf slot belongs to
//   leaf_prot(pte, level)        attributes p with make_leaf(leaf_pa, level, size, p) == pte
//                                for a pte make_leaf wrote (the KUnit round-trip property)
template <class F>
concept PageTableCodec = PageTableGeometry<F> &&
    requires(phys_addr pa, unsigned level, unsigned size_lg2, prot p, pte_t pte) {
        { F::make_table(pa, level) } -> std::same_as<pte_t>;
        { F::make_leaf(pa, level, size_lg2, p) } -> std::same_as<pte_t>;
        { F::classify(pte, level) } -> std::same_as<pte_kind>;
        { F::table_pa(pte) } -> std::same_as<phys_addr>;
        { F::leaf_pa(pte, level) } -> std::same_as<phys_addr>;
        { F::leaf_size_lg2(pte, level) } -> std::same_as<unsigned>;
        { F::leaf_prot(pte, level) } -> std::same_as<prot>;
    };

// A `PageTableFormat` F is a codec with, static and constexpr:
//   name                  display name
//   leaf_linear_lg2       make_leaf(pa + k·size) == make_leaf(pa) + k·size while pa stays
//                         inside one aligned 2^leaf_linear_lg2 block of output space (lets
//                         the walker fill runs with a plain add loop)
//   partial_leaf_unmap    the partial_unmap rule
template <class F>
concept PageTableFormat = PageTableCodec<F> && requires {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::leaf_linear_lg2 } -> std::convertible_to<unsigned>;
    { F::partial_leaf_unmap } -> std::convertible_to<partial_unmap>;
};

// A `DirtyTrackingFormat` F is a format whose leaves record device writes (PGTABLE §8):
//   is_dirty(pte)     the slot was written through (the walker ORs the slots of an entry)
//   make_clean(pte)   the slot with that mark cleared, otherwise unchanged
// A format configured without dirty tracking does not declare the two.
template <class F>
concept DirtyTrackingFormat = PageTableFormat<F> && requires(pte_t pte) {
    { F::is_dirty(pte) } -> std::same_as<bool>;
    { F::make_clean(pte) } -> std::same_as<pte_t>;
};

// A slot property that is one or two bit comparisons, so the walker can test four slots
// per vector instruction: (pte & mask) == value, or != when `differs`; a slot_test holds
// when both of its bit_tests do (the default bit_test always holds).
struct bit_test {
    pte_t mask = 0;
    pte_t value = 0;
    bool differs = false;
    constexpr bool operator()(pte_t pte) const noexcept { return ((pte & mask) == value) != differs; }
};
struct slot_test {
    bit_test first{}, second{};
    constexpr bool operator()(pte_t pte) const noexcept { return first(pte) && second(pte); }
};

// A format may also state its hot-path decodes as bit tests (optional; the walker falls
// back to classify otherwise, and tests/support/format_properties.hpp checks that the two
// agree):
//   item_leaf_test(level)  the slot is a leaf of exactly one item (classify == leaf and
//                          leaf_size_lg2 == item_lg2)
//   empty_test(level)      classify == empty
//   dirty_test()           is_dirty, for a DirtyTrackingFormat; make_clean must then change
//                          the same bits of every slot it accepts (the vector harvest
//                          cleans with one XOR, pgtable::detail::clean_flip)
template <class F>
concept PageTableSlotTests = PageTableFormat<F> && requires(unsigned level) {
    { F::item_leaf_test(level) } -> std::same_as<slot_test>;
    { F::empty_test(level) } -> std::same_as<slot_test>;
    requires !DirtyTrackingFormat<F> || requires {
        { F::dirty_test() } -> std::same_as<bit_test>;
    };
};

} // namespace passthru
