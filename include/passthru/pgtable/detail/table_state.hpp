#pragma once
// What every walk over one page table works on: the allocator its tables come from, the
// root, the driver's hooks, and how many tables have left the tree so far (so that a
// walk_path kept from an earlier walk can tell it may point at freed tables). The level
// functions of unmap_walk.hpp, map_walk.hpp and dirty_walk.hpp build on it, each a base of
// page_table (pgtable/page_table.hpp).
#include <utility>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/concepts/walk_hooks.hpp>
#include <passthru/pgtable/iotlb_gather.hpp>

namespace passthru::pgtable::detail {

template <PageTableFormat F, PageAllocator A, WalkHooks H>
class table_state {
protected:
    constexpr table_state(A& alloc, table_page root, H hooks)
        : alloc_(&alloc), root_(root), hooks_(std::move(hooks)) {}
    constexpr table_state(table_state&& o) noexcept
        : alloc_(o.alloc_), root_(std::exchange(o.root_, table_page{})),
          hooks_(std::move(o.hooks_)), epoch_(o.epoch_) {}

    // Give the tables of `g` back to the allocator; call after invalidating its range.
    constexpr void release(iotlb_gather& g) {
        for (const freed_table& t : g.freed) alloc_->free_table(t.page, t.slots);
        g.freed.clear();
    }

    A* alloc_;
    table_page root_;
    [[no_unique_address]] H hooks_;
    std::uint64_t epoch_ = 0; // tables taken out of the tree so far (walk_path validity)
};

} // namespace passthru::pgtable::detail
