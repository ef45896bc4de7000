#pragma once
// What an unmap leaves for the driver to do: the IOVA range whose IOTLB entries must be
// invalidated, whether walk caches must go too (a table was removed), and the table
// pages that may only be reused after that invalidation (Linux's iommu_iotlb_gather
// with its freelist). One merged range, as iommu_iotlb_gather_add_range keeps it:
// over-covering is correct, and one invalidation is cheaper than many.
#include <cstddef>
#include <optional>
#include <vector>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/core/interval.hpp>

namespace passthru::pgtable {

struct freed_table {
    table_page page;
    std::size_t slots = 0;
};

struct iotlb_gather {
    std::optional<interval> range;  // IOVA to invalidate, inclusive
    bool walk_cache = false;        // a table left the tree: invalidate walk caches as well
    std::vector<freed_table> freed; // give back to the allocator after the invalidation

    constexpr void add_range(const interval& r) {
        if (!range) {
            range = r;
            return;
        }
        range->first = r.first < range->first ? r.first : range->first;
        range->last = r.last > range->last ? r.last : range->last;
    }
    constexpr bool empty() const noexcept { return !range && freed.empty(); }
};

// The default WalkHooks (concepts/walk_hooks.hpp): a coherent IOMMU, whose TLBs the
// caller invalidates from the gather itself.
struct coherent_walk {
    constexpr void sync_ptes(const pte_t*, std::size_t) noexcept {}
    constexpr void flush_iotlb(const iotlb_gather&) noexcept {}
};

} // namespace passthru::pgtable
