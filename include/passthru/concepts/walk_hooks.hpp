#pragma once
// Concept `WalkHooks`: what a driver lets the walker call while it changes a table.
//   sync_ptes(first, count)  called after the walker wrote `count` consecutive slots and
//                            before anything that makes them reachable by the hardware
//                            is written: a non-coherent walker cleans those cache lines
//   flush_iotlb(gather)      called by the gather-less unmap before it frees tables
// pgtable::coherent_walk is the default, for a coherent IOMMU whose TLBs the caller
// invalidates from the gather itself.
#include <cstddef>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/pgtable/iotlb_gather.hpp>

namespace passthru {

template <class H>
concept WalkHooks = requires(H& h, const pte_t* p, std::size_t n, const pgtable::iotlb_gather& g) {
    h.sync_ptes(p, n);
    h.flush_iotlb(g);
};

} // namespace passthru

namespace passthru::pgtable {
using passthru::WalkHooks;
} // namespace passthru::pgtable
