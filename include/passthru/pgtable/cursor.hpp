#pragma once
// What every page-table algorithm shares: a format's derived geometry, the one range
// check, and the level cursor (Linux generic_pt's pt_state) that the level functions of
// pgtable/page_table.hpp walk with. Ranges are inclusive [first, last], as in generic_pt,
// so a range that ends at 2^64-1 needs no special case.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>

namespace passthru::pgtable {

// ---- geometry ---------------------------------------------------------------------

// True when every bit of `a` at or above `bits` is clear (always, for 64 bits or more).
constexpr bool fits_in(std::uint64_t a, unsigned bits) noexcept {
    return bits >= 64 || (a >> bits) == 0;
}

// Number of slots in a table at `level`.
template <PageTableGeometry F>
constexpr std::size_t slots(unsigned level) noexcept {
    return std::size_t{1} << F::table_lg2(level);
}

// log2 of the IOVA span one table at `level` translates; 64 or more means all of it.
template <PageTableGeometry F>
constexpr unsigned table_span_lg2(unsigned level) noexcept {
    return F::item_lg2(level) + F::table_lg2(level);
}

// The slot of a table at `level` that translates `va`.
template <PageTableGeometry F>
constexpr std::size_t index_of(std::uint64_t va, unsigned level) noexcept {
    return static_cast<std::size_t>((va >> F::item_lg2(level)) & (slots<F>(level) - 1));
}

// The first IOVA of the table at `level` that translates `va`.
template <PageTableGeometry F>
constexpr std::uint64_t table_base(std::uint64_t va, unsigned level) noexcept {
    const unsigned span = table_span_lg2<F>(level);
    return span >= 64 ? 0 : va & ~((std::uint64_t{1} << span) - 1);
}

// Every leaf size the format can hold inside its input and output spaces: the
// pgsize_bitmap a domain of this format can offer (generic_pt hides sizes past the OA).
// The one definition of a format's page sizes.
template <PageTableGeometry F>
constexpr pgsize_bitmap format_pgsizes() noexcept {
    std::uint64_t b = 0;
    for (unsigned l = 0; l <= F::top_level; ++l) b |= F::leaf_sizes(l);
    const unsigned bits = F::va_bits < F::oa_bits ? F::va_bits : F::oa_bits;
    if (bits < 64) b &= (std::uint64_t{1} << bits) - 1;
    return {b};
}

// The level whose leaves have size 2^lg2 (an item, or a contiguous group of items).
template <PageTableGeometry F>
constexpr unsigned level_for_size(unsigned lg2) noexcept {
    for (unsigned l = F::top_level + 1; l-- > 0;)
        if (F::item_lg2(l) <= lg2 && (F::leaf_sizes(l) >> lg2 & 1)) return l;
    return 0;
}

// A leaf of exactly one item at `Level`: what the fast paths of unmap and the dirty
// harvest take in runs (a contiguous entry is 2^k slots and goes one entry at a time).
template <PageTableCodec F, unsigned Level>
constexpr bool is_item_leaf(pte_t pte) noexcept {
    return F::classify(pte, Level) == pte_kind::leaf &&
           F::leaf_size_lg2(pte, Level) == F::item_lg2(Level);
}

// ---- the range check ----------------------------------------------------------------

// [io, io + size - 1] as an interval, if the table can translate all of it (generic_pt's
// pt_check_range, plus the IOMMU core's size and overflow checks):
//   EINVAL     size is 0
//   EOVERFLOW  the range wraps past 2^64-1
//   ERANGE     it reaches beyond the format's input width (PGTABLE §1.8)
template <PageTableGeometry F>
constexpr result<interval> check_range(iova io, std::uint64_t size) noexcept {
    const auto r = interval::from_size(io.value, size);
    if (!r) return size == 0 ? fail(errc::einval, "size is 0")
                             : fail(errc::eoverflow, "the IOVA range wraps past 2^64-1");
    if (!fits_in(r->last, F::va_bits))
        return fail(errc::erange, "the IOVA range reaches beyond the table's input width", *r);
    return *r;
}

// The same for the output side of a map: [pa, pa + size - 1] below 2^oa_bits.
template <PageTableGeometry F>
constexpr result<interval> check_range(phys_addr pa, std::uint64_t size) noexcept {
    const auto r = interval::from_size(pa.value, size);
    if (!r) return size == 0 ? fail(errc::einval, "size is 0")
                             : fail(errc::eoverflow, "the physical range wraps past 2^64-1");
    if (!fits_in(r->last, F::oa_bits))
        return fail(errc::erange, "the physical range reaches beyond the table's output width", *r);
    return *r;
}

// ---- the level cursor ---------------------------------------------------------------

// A walk's position in one table: the table at `level`, the slots [index, end) that the
// walk's range [.., last] covers in it, and the first IOVA of slot `index`. A level
// function visits the cursor's slots and descends into a child table with a narrower
// cursor; each operation of the walker is such a function.
template <PageTableFormat F>
struct level_cursor {
    pte_t* table;
    unsigned level;
    std::size_t index; // the current slot
    std::size_t end;   // one past the last slot the range covers here
    std::uint64_t va;  // first IOVA of slot `index` (only read while index < end)
    std::uint64_t last; // the walk's last IOVA, inclusive

    // The part of [first, last] in `table`, the table at `level` that translates `first`.
    static constexpr level_cursor over(pte_t* table, unsigned level, std::uint64_t first,
                                       std::uint64_t last) noexcept {
        const std::size_t index = index_of<F>(first, level);
        const bool ends_here = table_base<F>(first, level) == table_base<F>(last, level);
        return {table, level, index, ends_here ? index_of<F>(last, level) + 1 : slots<F>(level),
                first & ~(item_size(level) - 1), last};
    }
    // Every slot of `table`, from IOVA `base` (teardown, whole-table scans).
    static constexpr level_cursor whole(pte_t* table, unsigned level, std::uint64_t base) noexcept {
        return {table, level, 0, slots<F>(level), base, base + table_span_mask(level)};
    }

    static constexpr std::uint64_t item_size(unsigned level) noexcept {
        return std::uint64_t{1} << F::item_lg2(level);
    }
    constexpr bool done() const noexcept { return index >= end; }
    constexpr pte_t& slot() const noexcept { return table[index]; }
    constexpr pte_kind kind() const noexcept { return F::classify(table[index], level); }
    // Last IOVA of the current slot.
    constexpr std::uint64_t slot_last() const noexcept { return va + (item_size(level) - 1); }
    // Move on by n slots (va may wrap to 0 only when that ends the cursor).
    constexpr void advance(std::size_t n = 1) noexcept {
        index += n;
        va += std::uint64_t{n} << F::item_lg2(level);
    }

    // The current leaf entry: its first slot, slot count and size (contiguous entries
    // span 2^k slots from an aligned index, PGTABLE §4.1).
    struct entry {
        std::size_t first;
        std::size_t slots;
        unsigned size_lg2;
        std::uint64_t va; // the entry's first IOVA
    };
    constexpr entry leaf_entry() const noexcept {
        const unsigned lg2 = F::leaf_size_lg2(table[index], level);
        const std::size_t reps = std::size_t{1} << (lg2 - F::item_lg2(level));
        const std::size_t first = index & ~(reps - 1);
        return {first, reps, lg2, va - (std::uint64_t{index - first} << F::item_lg2(level))};
    }

    // The child table the current (table) slot points at, over the part of
    // [max(from, va), last] that this slot translates.
    template <PageAllocator A>
    constexpr level_cursor descend(const A& alloc, std::uint64_t from) const noexcept {
        const std::uint64_t first = from > va ? from : va;
        const std::uint64_t end_va = slot_last() < last ? slot_last() : last;
        return over(alloc.table_at(F::table_pa(table[index])), level - 1, first, end_va);
    }

private:
    static constexpr std::uint64_t table_span_mask(unsigned level) noexcept {
        const unsigned span = table_span_lg2<F>(level);
        return span >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << span) - 1;
    }
};

// The tables a walk passed through, one per level, so that the next map into the same
// tables starts from the lowest one that still translates its IOVA instead of the root
// (generic_pt re-walks from the top for every map call; the type1 engine maps a pinned
// region as many short runs, most of them into the same leaf table).
template <PageTableFormat F>
struct walk_path {
    std::array<pte_t*, F::top_level + 1> table{};
    std::array<std::uint64_t, F::top_level + 1> base{}; // first IOVA table[l] translates
    unsigned lowest = F::top_level;                     // table[lowest..top] are valid

    constexpr void reset(pte_t* root) noexcept {
        table[F::top_level] = root;
        base[F::top_level] = 0;
        lowest = F::top_level;
    }
    // The lowest cached level at or above `level` whose table translates `va`.
    constexpr unsigned start_for(std::uint64_t va, unsigned level) const noexcept {
        for (unsigned l = level > lowest ? level : lowest; l < F::top_level; ++l)
            if (table_base<F>(va, l) == base[l]) return l;
        return F::top_level;
    }
    constexpr void remember(pte_t* t, unsigned level, std::uint64_t va) noexcept {
        table[level] = t;
        base[level] = table_base<F>(va, level);
        lowest = level;
    }
};

} // namespace passthru::pgtable
