#pragma once
// The dirty harvest as level functions over the cursor (PGTABLE §8): every leaf in the
// range that a slot marks written sets its span in the bitmap, and is cleaned unless the
// caller says not to. Whole leaf tables of one-slot leaves go 64 slots at a time.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/concepts/walk_hooks.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/pgtable/cursor.hpp>
#include <passthru/pgtable/detail/slot_kernels.hpp>
#include <passthru/pgtable/dirty_bitmap.hpp>
#include <passthru/pgtable/iotlb_gather.hpp>
#include <passthru/pgtable/map_walk.hpp>

namespace passthru::pgtable::detail {

// The bits make_clean changes in a slot dirty_test calls dirty, so the vector loops clean
// a slot with one XOR (tests/support/format_properties.hpp checks that make_clean is that
// XOR on every dirty word it tries).
template <DirtyTrackingFormat F>
    requires PageTableSlotTests<F>
constexpr pte_t clean_flip() noexcept {
    constexpr bit_test d = F::dirty_test();
    constexpr pte_t dirty = d.differs ? d.value ^ d.mask : d.value;
    static_assert(F::is_dirty(dirty) && !F::is_dirty(F::make_clean(dirty)));
    return F::make_clean(dirty) ^ dirty;
}

template <PageTableFormat F, PageAllocator A, WalkHooks H>
class dirty_walker : protected map_walker<F, A, H> {
protected:
    using cursor = level_cursor<F>;
    static constexpr unsigned top = F::top_level;
    using map_walker<F, A, H>::map_walker;

    struct dirty_walk {
        interval range;
        dirty_bitmap& bits;
        iotlb_gather& g;
        bool clear;
    };

    constexpr void dirty_level(cursor&& c, dirty_walk& w)
        requires DirtyTrackingFormat<F>
    {
        if (c.level == 0) c.advance(harvest_masks(c, w));
        while (!c.done()) {
            switch (c.kind()) {
            case pte_kind::empty: c.advance(); break;
            case pte_kind::table:
                dirty_level(c.descend(*this->alloc_, w.range.first), w);
                c.advance();
                break;
            case pte_kind::leaf: {
                const auto e = c.leaf_entry();
                harvest_entry(c.table, e, w);
                c.advance(e.first + e.slots - c.index);
                break;
            }
            }
        }
    }

    // A leaf table wholly inside the harvest range, one bitmap bit per slot (4K leaves, a
    // 4K-page bitmap): each 64 slots become one dirty mask, built without branches and ORed
    // into the bitmap, and only the dirty slots are written back. Returns how many slots
    // it handled: all of them, or up to the first 64 that hold something else (a
    // contiguous entry), which dirty_level then takes one entry at a time.
    constexpr std::size_t harvest_masks(const cursor& c, dirty_walk& w) {
        const std::size_t n = slots<F>(0);
        const unsigned item_lg2 = F::item_lg2(0);
        const std::uint64_t base = w.bits.base.value;
        if (w.bits.pgsize != cursor::item_size(0) || n % 64 != 0 || c.index != 0 || c.end != n ||
            c.va < base)
            return 0;
        const std::uint64_t bit0 = (c.va - base) >> item_lg2;
        if (bit0 > w.bits.words.size() * 64 || w.bits.words.size() * 64 - bit0 < n) return 0;
        pte_t* t = c.table;
        std::array<std::uint64_t, slots<F>(0) / 64> masks;
        const std::size_t runs = dirty_masks(t, masks.data(), w.clear);
        // No branch per mask: ORing a clean run's 0 costs less than testing for it. Tables
        // and bitmaps are usually 64-slot aligned to each other, and then a mask is a word.
        std::uint64_t* words = w.bits.words.data() + bit0 / 64;
        if (const unsigned shift = bit0 % 64; shift == 0)
            for (std::size_t r = 0; r < runs; ++r) words[r] |= masks[r];
        else
            for (std::size_t r = 0; r < runs; ++r) {
                words[r] |= masks[r] << shift;
                words[r + 1] |= masks[r] >> (64 - shift);
            }
        if (w.clear) { // the dirty slots' span: one sync, one gather range
            std::size_t first = 0, end = runs;
            while (first < end && masks[first] == 0) ++first;
            while (end > first && masks[end - 1] == 0) --end;
            if (first < end) {
                const std::size_t lo = first * 64 + static_cast<std::size_t>(std::countr_zero(masks[first]));
                const std::size_t hi = end * 64 - 1 - static_cast<std::size_t>(std::countl_zero(masks[end - 1]));
                this->hooks_.sync_ptes(t + lo, hi - lo + 1);
                w.g.add_range({c.va + (lo << item_lg2), c.va + ((hi + 1) << item_lg2) - 1});
            }
        }
        return runs * 64;
    }

    // masks[c] bit k: slot 64c + k of a leaf table is a dirty one-slot leaf, for the runs of
    // 64 up to the first holding a slot that is neither such a leaf nor empty, whose dirty
    // slots are cleaned when `clean`; returns how many runs that is.
    static constexpr std::size_t dirty_masks(pte_t* t, std::uint64_t* masks, bool clean) noexcept {
        constexpr std::size_t chunks = slots<F>(0) / 64;
        if constexpr (PageTableSlotTests<F>) {
            return detail::dirty_masks<F::item_leaf_test(0), F::empty_test(0), F::dirty_test(), clean_flip<F>()>(
                t, chunks, masks, clean);
        } else {
            for (std::size_t c = 0; c < chunks; ++c, t += 64) {
                std::uint64_t other = 0, dirty = 0;
                for (std::size_t k = 0; k < 64; ++k) {
                    const bool leaf = is_item_leaf<F, 0>(t[k]);
                    dirty |= std::uint64_t{leaf && F::is_dirty(t[k])} << k;
                    other |= std::uint64_t{!leaf && F::classify(t[k], 0) != pte_kind::empty} << k;
                }
                if (other) return c;
                masks[c] = dirty;
                if (clean)
                    for (std::uint64_t m = dirty; m; m &= m - 1) {
                        pte_t& e = t[std::countr_zero(m)];
                        e = F::make_clean(e);
                    }
            }
            return chunks;
        }
    }

    // One leaf entry: dirty if any of its slots is (the hardware may mark only one).
    constexpr void harvest_entry(pte_t* t, const typename cursor::entry& e, dirty_walk& w) {
        bool dirty = false;
        for (std::size_t r = e.first; r < e.first + e.slots; ++r) dirty |= F::is_dirty(t[r]);
        if (!dirty) return;
        const std::uint64_t elast = e.va + ((std::uint64_t{1} << e.size_lg2) - 1);
        const interval span{std::max(e.va, w.range.first), std::min(elast, w.range.last)};
        w.bits.set(span.first, span.last);
        if (!w.clear) return;
        for (std::size_t r = e.first; r < e.first + e.slots; ++r) t[r] = F::make_clean(t[r]);
        this->hooks_.sync_ptes(t + e.first, e.slots);
        w.g.add_range(span);
    }
};

} // namespace passthru::pgtable::detail
