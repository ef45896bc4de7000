#pragma once
// An independent checker of the IOMMU-core page split (SEMANTICS G1.2, G1.3), shared by the
// unit tests and the page-split fuzzer.
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include <passthru/core/page_size.hpp>

namespace passthru::testing {

// A legal split has at most two runs per page size (climbing, then descending); the cap
// turns a splitter that stops making progress into a failed CHECK instead of a hang.
inline std::vector<page_run> runs(pgsize_bitmap b, std::uint64_t io, std::uint64_t pa, std::uint64_t size) {
    std::vector<page_run> v;
    for (const page_run& r : page_split(b, iova{io}, phys_addr{pa}, size)) {
        v.push_back(r);
        if (v.size() > 128) break;
    }
    return v;
}

// Independent checker of a split (written from SEMANTICS G1.2/G1.3, not from the code):
// every run uses a size of the bitmap, both addresses are aligned to it, the runs tile
// the request exactly and in order, runs are maximal, and no page of any run could have
// been a bigger supported page (both addresses aligned to it and it fits in what is
// left). Returns "" when the split is legal and optimal, else what is wrong.
inline std::string check_split(pgsize_bitmap b, std::uint64_t io, std::uint64_t pa, std::uint64_t size,
                        const std::vector<page_run>& split) {
    std::uint64_t cur_io = io, cur_pa = pa, left = size, prev_pgsize = 0;
    for (const page_run& r : split) {
        const std::uint64_t pg = r.pgsize;
        if (left == 0) return "a run past the end of the request";
        if (!std::has_single_bit(pg) || (b.bits & pg) == 0) return "page size not in the bitmap";
        if (r.io.value != cur_io || r.pa.value != cur_pa) return "run does not continue the last";
        if (cur_io % pg != 0 || cur_pa % pg != 0) return "addresses not aligned to the page size";
        if (r.count == 0) return "empty run";
        if (r.count > left / pg) return "run overruns the request";
        if (pg == prev_pgsize) return "two adjacent runs of one page size";
        const std::uint64_t bytes = r.count * pg;
        for (std::uint64_t bigger = pg << 1; bigger != 0; bigger <<= 1) {
            if ((b.bits & bigger) == 0) continue;
            if ((cur_io - cur_pa) % bigger != 0) continue; // never co-aligned for `bigger`
            // First offset in the run where both addresses are `bigger`-aligned; the
            // most room is left there, so if it does not fit there it fits nowhere.
            const std::uint64_t off = (bigger - cur_io % bigger) % bigger;
            if (off < bytes && left - off >= bigger) return "a page could have been bigger";
        }
        prev_pgsize = pg;
        cur_io += bytes;
        cur_pa += bytes;
        left -= bytes;
    }
    if (left != 0) return "runs do not cover the request";
    return "";
}

} // namespace passthru::testing
