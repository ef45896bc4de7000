#pragma once
// Unmap as level functions over the cursor (SEMANTICS G1.5, PGTABLE §0.4): remove whole
// entries from the start of the range, stop at a hole or at a leaf that starts before it
// (or, under the refuse rule, reaches past it), free every table emptied. A run of
// one-slot leaves is validated a block at a time and cleared with vector stores
// (detail/slot_kernels.hpp).
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/concepts/walk_hooks.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/pgtable/cursor.hpp>
#include <passthru/pgtable/detail/slot_kernels.hpp>
#include <passthru/pgtable/detail/table_state.hpp>
#include <passthru/pgtable/iotlb_gather.hpp>

namespace passthru::pgtable::detail {

template <PageTableFormat F, PageAllocator A, WalkHooks H>
class unmap_walker : protected table_state<F, A, H> {
protected:
    using cursor = level_cursor<F>;
    static constexpr unsigned top = F::top_level;
    using table_state<F, A, H>::table_state;

    struct unmap_walk {
        std::uint64_t cur;  // next IOVA to unmap
        std::uint64_t last; // last IOVA requested
        std::uint64_t done; // bytes unmapped
        bool stop;          // finished, or a hole or a partial leaf ended the walk
        iotlb_gather& g;
    };

    // Unmap inside the cursor's table from w.cur; returns true when the table is now empty.
    constexpr bool unmap_level(cursor&& c, unmap_walk& w) {
        const std::size_t start = c.index, n = slots<F>(c.level);
        std::size_t cleared_to = start; // slots [start, cleared_to) are now all empty
        std::size_t sync_from = n, sync_to = 0;
        auto cleared = [&](std::size_t from, std::size_t to) {
            sync_from = std::min(sync_from, from);
            sync_to = std::max(sync_to, to);
            if (from <= cleared_to) cleared_to = std::max(cleared_to, to);
        };
        while (!c.done() && !w.stop) {
            switch (c.kind()) {
            case pte_kind::empty: w.stop = true; break; // a hole ends the unmap (G1.5)
            case pte_kind::table: {
                const phys_addr child = F::table_pa(c.slot());
                if (unmap_level(c.descend(*this->alloc_, w.cur), w)) {
                    c.slot() = 0;
                    cleared(c.index, c.index + 1);
                    w.g.walk_cache = true;
                    w.g.freed.push_back({{child, this->alloc_->table_at(child)}, slots<F>(c.level - 1)});
                    ++this->epoch_;
                }
                c.advance();
                break;
            }
            case pte_kind::leaf: {
                const auto e = c.leaf_entry();
                const std::uint64_t size = std::uint64_t{1} << e.size_lg2;
                const std::uint64_t elast = e.va + (size - 1);
                // Starts before the range, or (refuse rule) reaches past it (§0.4).
                if (e.va != w.cur || (F::partial_leaf_unmap == partial_unmap::refuse && elast > w.last)) {
                    w.stop = true;
                    break;
                }
                // A run of one-slot leaves goes a block at a time; otherwise this entry.
                const std::size_t k = e.slots == 1 ? clear_item_run(c, w) : 0;
                const std::size_t to = k ? c.index + k : e.first + e.slots;
                if (k == 0) std::fill(c.table + e.first, c.table + to, pte_t{0});
                const std::uint64_t bytes = k ? std::uint64_t{k} << F::item_lg2(c.level) : size;
                cleared(k ? c.index : e.first, to);
                w.g.add_range({w.cur, w.cur + (bytes - 1)});
                w.done += bytes;
                if (w.cur + (bytes - 1) >= w.last) w.stop = true; // also when it ends at 2^64-1
                w.cur += bytes;
                c.advance(to - c.index);
                break;
            }
            }
        }
        if (sync_from < sync_to) this->hooks_.sync_ptes(c.table + sync_from, sync_to - sync_from);
        if (c.level == top) return false; // the root stays
        // Empty when the slots around [start, cleared_to) are: those after it from the first
        // on, then those before it from the last back, so a run of unmaps in either order
        // (vfio unmapping scattered 4K frames one call each) stops at the neighbour still
        // mapped instead of reading the table from slot 0 every call.
        const auto zero = [](pte_t e) { return e == 0; };
        return std::all_of(c.table + cleared_to, c.table + n, zero) &&
               std::all_of(std::reverse_iterator(c.table + start), std::reverse_iterator(c.table), zero);
    }

    // Clear the run of one-slot leaves that starts at the cursor's slot (a leaf at w.cur),
    // as far as the range allows; returns how many slots it cleared.
    constexpr std::size_t clear_item_run(const cursor& c, const unmap_walk& w) const noexcept {
        // Entries that start inside the range go whole; refuse-rule formats take only
        // those that end inside it.
        const unsigned item_lg2 = F::item_lg2(c.level);
        const std::uint64_t span = w.last - w.cur; // bytes in range, minus one
        const std::uint64_t item_mask = (std::uint64_t{1} << item_lg2) - 1;
        const std::uint64_t fit = F::partial_leaf_unmap == partial_unmap::refuse
                                      ? (span >> item_lg2) + ((span & item_mask) == item_mask)
                                      : (span >> item_lg2) + 1;
        const std::size_t last = c.index + static_cast<std::size_t>(
                                               std::min<std::uint64_t>(fit, c.end - c.index));
        return clear_item_leaves(c.table, c.index, last, c.level) - c.index;
    }

    // Clear t[i..) while it holds one-slot leaves, up to t[last]; returns where it ended.
    // A format with bit tests shares one vector loop (detail/slot_kernels.hpp); otherwise
    // the loop is instantiated per level so the format's decode folds to a few bit tests.
    static constexpr std::size_t clear_item_leaves(pte_t* t, std::size_t i, std::size_t last,
                                                   unsigned level) noexcept {
        return [&]<unsigned... L>(std::integer_sequence<unsigned, L...>) {
            std::size_t j = i;
            (void)((level == L && (j = clear_item_leaves_at<L>(t, i, last), true)) || ...);
            return j;
        }(std::make_integer_sequence<unsigned, top + 1>{});
    }
    template <unsigned Level>
    static constexpr std::size_t clear_item_leaves_at(pte_t* t, std::size_t i,
                                                      std::size_t last) noexcept {
        if constexpr (PageTableSlotTests<F>)
            return i + detail::clear_while<F::item_leaf_test(Level)>(t + i, last - i);
        else {
            // Otherwise whole blocks: one AND-reduction validates a block, one fill clears it.
            constexpr std::size_t block = 16;
            for (; i + block <= last; i += block) {
                bool all = true;
                for (std::size_t k = 0; k < block; ++k) all &= is_item_leaf<F, Level>(t[i + k]);
                if (!all) break;
                std::fill_n(t + i, block, pte_t{0});
            }
            for (; i < last && is_item_leaf<F, Level>(t[i]); ++i) t[i] = 0;
            return i;
        }
    }
};

} // namespace passthru::pgtable::detail
