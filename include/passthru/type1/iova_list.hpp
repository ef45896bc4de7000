#pragma once
// The container's usable-IOVA list, edited the way type1 edits it (SEMANTICS A.1, A.2):
// not plain interval arithmetic, because the kernel's trims have edge cases a VMM can
// observe (an aperture starting exactly at a node's end deletes the node). Each step works
// on a copy the caller commits only when the whole attach or detach succeeds.
#include <cstdint>
#include <span>

#include <passthru/core/interval.hpp>
#include <passthru/core/interval_set.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru::type1 {

// vfio_iommu_aper_resize (A.1 step 2): an empty list becomes the aperture; otherwise the
// front is trimmed to `ap.first` and the back to `ap.last`, with the kernel's edges.
constexpr void aper_resize(interval_list& list, const interval& ap) {
    if (list.empty()) {
        list.push_back(ap);
        return;
    }
    interval_list out;
    bool front_done = false;
    for (interval n : list) {
        if (!front_done) {
            if (ap.first < n.first) {
                front_done = true;
            } else if (ap.first < n.last) { // n.first <= ap.first < n.last: shrink
                n.first = ap.first;
                front_done = true;
            } else {
                continue; // ap.first >= n.last: dropped, even when it equals n.last
            }
        }
        if (ap.last > n.last) {
            out.push_back(n);
        } else if (n.first < ap.last) { // n.first < ap.last <= n.last: shrink
            n.last = ap.last;
            out.push_back(n);
        } // else ap.last <= n.first: dropped, even when it equals n.first
    }
    list = std::move(out);
}

// vfio_iommu_resv_exclude (A.1 step 3): cut every non-relaxable region out of the list.
constexpr void resv_exclude(interval_list& list, std::span<const reserved_region> regions) {
    for (const reserved_region& r : regions) {
        if (!r.excludes_iova()) continue;
        interval_list out;
        out.reserve(list.size() + 1);
        for (const interval& n : list) {
            if (!n.overlaps(r.range)) {
                out.push_back(n);
                continue;
            }
            if (r.range.first > n.first) out.push_back({n.first, r.range.first - 1});
            if (r.range.last < n.last) out.push_back({r.range.last + 1, n.last});
        }
        list = std::move(out);
    }
}

// vfio_iommu_aper_expand (A.2 D3): after a domain went away, the window of the remaining
// ones (the whole space when none remain) overwrites the first start and the last end.
constexpr void aper_expand(interval_list& list, const interval& window) {
    if (list.empty()) return;
    list.front().first = window.first;
    list.back().last = window.last;
}

// vfio_iommu_resv_refresh (A.2 D4): rebuild [first.start, last.end] minus the regions of
// every remaining group. False (list untouched) when that leaves nothing.
constexpr bool resv_refresh(interval_list& list, std::span<const reserved_region> regions) {
    if (list.empty()) return false;
    interval_list fresh{interval{list.front().first, list.back().last}};
    resv_exclude(fresh, regions);
    if (fresh.empty()) return false;
    list = std::move(fresh);
    return true;
}

// vfio_iommu_iova_dma_valid (B11): inside one node, or anything when the list is empty
// (a container of emulated groups only, A.5).
constexpr bool iova_usable(const interval_list& list, const interval& r) noexcept {
    return list.empty() || contained_in_one(list, r);
}

} // namespace passthru::type1
