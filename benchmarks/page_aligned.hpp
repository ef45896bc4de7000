#pragma once
// Benchmark table memory as an IOMMU driver has it: page-aligned. A std::vector's large
// block sits 16 bytes past a page boundary, so every other 32-byte store of the walker's
// vector loops would straddle two cache lines (about 1.3x the time on a Zen 4 EPYC).
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <span>

#include <passthru/concepts/page_allocator.hpp>

namespace passthru::bench {

struct page_aligned {
    struct release {
        void operator()(pte_t* p) const noexcept { std::free(p); }
    };
    std::unique_ptr<pte_t[], release> mem;
    std::size_t n = 0;
    explicit page_aligned(std::size_t slots)
        : mem(static_cast<pte_t*>(std::aligned_alloc(4096, (slots * sizeof(pte_t) + 4095) / 4096 * 4096))), n(slots) {
        std::fill_n(mem.get(), n, pte_t{0});
    }
    operator std::span<pte_t>() const noexcept { return {mem.get(), n}; }
};

} // namespace passthru::bench
