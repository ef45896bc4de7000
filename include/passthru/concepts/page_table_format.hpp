#pragma once
// Concept `PageTableFormat`: one hardware page-table format as a small policy type of
// constexpr encode/decode functions (STYLE: Linux generic_pt, "format as policy"). The
// map, unmap, lookup and dirty algorithms are written once, in pgtable/page_table.hpp,
// and instantiated per format: no virtual calls, everything inlines.
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

// A `PageTableFormat` F provides, all static and constexpr:
//   name                         display name
//   top_level                    level of the root table (levels - 1)
//   va_bits, oa_bits             widths of the input (IOVA) and output addresses
//   item_lg2(level)              log2 bytes one slot at `level` translates
//   table_lg2(level)             log2 slots in a table at `level` (the root may differ:
//                                ARM stage-2 concatenation, AMD's 128-slot level 5)
//   leaf_sizes(level)            bitmap of entry sizes a leaf at `level` may have: the
//                                slot size and, for contiguous formats, multiples of it
//   make_table(child_pa, level)  descriptor of a slot at `level` pointing at a table
//   make_leaf(pa, level, size_lg2, prot)
//                                descriptor written in every slot of a leaf entry
//   classify(pte, level)         empty, table or leaf
//   table_pa(pte)                the child table a table descriptor points at
//   leaf_pa(pte, level)          output address of the entry's first byte
//   leaf_size_lg2(pte, level)    size of the entry a leaf slot belongs to
//   leaf_prot(pte, level)        attributes p with make_leaf(leaf_pa, level, size, p) == pte
//                                for a pte make_leaf wrote (the KUnit round-trip property)
//   leaf_linear_lg2              make_leaf(pa + k·size) == make_leaf(pa) + k·size while pa
//                                stays inside one aligned 2^leaf_linear_lg2 block of output
//                                space (lets the walker fill runs with a plain add loop)
//   partial_leaf_unmap           partial_unmap rule
//   dirty_tracking               the format records device writes; if so also
//     is_dirty(pte), make_clean(pte)   per slot (the walker ORs the slots of an entry)
template <class F>
concept PageTableFormat = requires(phys_addr pa, unsigned level, unsigned size_lg2, prot p,
                                   pte_t pte) {
    { F::name } -> std::convertible_to<std::string_view>;
    { F::top_level } -> std::convertible_to<unsigned>;
    { F::va_bits } -> std::convertible_to<unsigned>;
    { F::oa_bits } -> std::convertible_to<unsigned>;
    { F::item_lg2(level) } -> std::same_as<unsigned>;
    { F::table_lg2(level) } -> std::same_as<unsigned>;
    { F::leaf_sizes(level) } -> std::same_as<std::uint64_t>;
    { F::make_table(pa, level) } -> std::same_as<pte_t>;
    { F::make_leaf(pa, level, size_lg2, p) } -> std::same_as<pte_t>;
    { F::classify(pte, level) } -> std::same_as<pte_kind>;
    { F::table_pa(pte) } -> std::same_as<phys_addr>;
    { F::leaf_pa(pte, level) } -> std::same_as<phys_addr>;
    { F::leaf_size_lg2(pte, level) } -> std::same_as<unsigned>;
    { F::leaf_prot(pte, level) } -> std::same_as<prot>;
    { F::leaf_linear_lg2 } -> std::convertible_to<unsigned>;
    { F::partial_leaf_unmap } -> std::convertible_to<partial_unmap>;
    { F::dirty_tracking } -> std::convertible_to<bool>;
    requires !F::dirty_tracking || requires {
        { F::is_dirty(pte) } -> std::same_as<bool>;
        { F::make_clean(pte) } -> std::same_as<pte_t>;
    };
    // The format fits the walker: at most 6 levels, 64-bit IOVA at most.
    requires F::top_level <= 5 && F::va_bits <= 64 && F::oa_bits <= 64;
};

} // namespace passthru
