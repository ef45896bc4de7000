#pragma once
// Page-size bitmaps and the IOMMU-core page split (SEMANTICS §G1.2–G1.3, PGTABLE §0.3).
//
// A domain advertises the leaf sizes it can map as a bitmap (bit n set = 2^n-byte
// pages). A map request is cut into runs of (pgsize, count): the largest size that
// fits the remaining length and to which both addresses are aligned, stopping early
// at the next bigger page's boundary when iova and paddr are co-aligned for it, so
// the next run can use the bigger page. Everything is constexpr and allocation-free.
#include <bit>
#include <cstdint>
#include <iterator>

#include <passthru/core/address.hpp>

namespace passthru {

struct pgsize_bitmap {
    std::uint64_t bits = 0;

    constexpr bool empty() const noexcept { return bits == 0; }
    constexpr bool supports(std::uint64_t size) const noexcept {
        return std::has_single_bit(size) && (bits & size) != 0;
    }
    // Smallest supported page ("min pgsize", SEMANTICS notation). 0 when empty.
    constexpr std::uint64_t min_pgsize() const noexcept { return bits & (~bits + 1); }
    constexpr std::uint64_t max_pgsize() const noexcept {
        return bits ? std::uint64_t{1} << (63 - std::countl_zero(bits)) : 0;
    }
    constexpr bool operator==(const pgsize_bitmap&) const = default;
    friend constexpr pgsize_bitmap operator&(pgsize_bitmap a, pgsize_bitmap b) noexcept {
        return {a.bits & b.bits};
    }
    friend constexpr pgsize_bitmap operator|(pgsize_bitmap a, pgsize_bitmap b) noexcept {
        return {a.bits | b.bits};
    }
};

inline constexpr std::uint64_t KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024, TiB = GiB * 1024;

// Mask of every bit at or below bit `n` (GENMASK(n, 0)); n <= 63.
constexpr std::uint64_t low_mask(unsigned n) noexcept {
    return n >= 63 ? ~std::uint64_t{0} : (std::uint64_t{1} << (n + 1)) - 1;
}

// One run of equal-size pages.
struct page_run {
    iova io;
    phys_addr pa;
    std::uint64_t pgsize = 0;
    std::uint64_t count = 0;
    constexpr std::uint64_t bytes() const noexcept { return pgsize * count; }
    constexpr bool operator==(const page_run&) const = default;
};

// The next run for (io, pa, size), SEMANTICS G1.3. Preconditions (G1.2): size > 0 and
// io, pa, size are multiples of the bitmap's min pgsize.
constexpr page_run next_page_run(pgsize_bitmap b, iova io, phys_addr pa,
                                 std::uint64_t size) noexcept {
    const std::uint64_t addr_merge = io.value | pa.value;
    std::uint64_t cand = b.bits & low_mask(63u - static_cast<unsigned>(std::countl_zero(size)));
    if (addr_merge != 0) cand &= low_mask(static_cast<unsigned>(std::countr_zero(addr_merge)));
    const unsigned idx = 63u - static_cast<unsigned>(std::countl_zero(cand));
    const std::uint64_t pgsize = std::uint64_t{1} << idx;

    std::uint64_t run = size;
    const std::uint64_t bigger = b.bits & ~low_mask(idx);
    if (bigger != 0) {
        const std::uint64_t next = bigger & (~bigger + 1);
        // Only worth stopping early if iova and paddr can share the bigger page.
        if (((io.value ^ pa.value) & (next - 1)) == 0) {
            const std::uint64_t gap = next - (addr_merge & (next - 1));
            if (size >= next && gap <= size - next) run = gap;
        }
    }
    return {io, pa, pgsize, run >> idx};
}

// The whole split as a lazy forward range of page_run (no allocation).
class page_split {
public:
    constexpr page_split(pgsize_bitmap b, iova io, phys_addr pa, std::uint64_t size) noexcept
        : b_(b), io_(io), pa_(pa), size_(size) {}

    struct sentinel {};
    class iterator {
    public:
        using value_type = page_run;
        using difference_type = std::ptrdiff_t;
        constexpr iterator() = default;
        constexpr iterator(pgsize_bitmap b, iova io, phys_addr pa, std::uint64_t left) noexcept
            : b_(b), left_(left) {
            if (left_) cur_ = next_page_run(b_, io, pa, left_);
        }
        constexpr const page_run& operator*() const noexcept { return cur_; }
        constexpr const page_run* operator->() const noexcept { return &cur_; }
        constexpr iterator& operator++() noexcept {
            const std::uint64_t n = cur_.bytes();
            left_ -= n;
            if (left_) cur_ = next_page_run(b_, cur_.io + n, cur_.pa + n, left_);
            return *this;
        }
        constexpr iterator operator++(int) noexcept { auto t = *this; ++*this; return t; }
        constexpr bool operator==(sentinel) const noexcept { return left_ == 0; }
        constexpr bool operator==(const iterator& o) const noexcept {
            return left_ == o.left_ && (left_ == 0 || cur_ == o.cur_);
        }

    private:
        pgsize_bitmap b_{};
        std::uint64_t left_ = 0;
        page_run cur_{};
    };

    constexpr iterator begin() const noexcept { return {b_, io_, pa_, size_}; }
    constexpr sentinel end() const noexcept { return {}; }

private:
    pgsize_bitmap b_;
    iova io_;
    phys_addr pa_;
    std::uint64_t size_;
};

// True when (io, pa, size) satisfies SEMANTICS G1.2 for bitmap b.
constexpr bool aligned_for(pgsize_bitmap b, iova io, phys_addr pa, std::uint64_t size) noexcept {
    const std::uint64_t m = b.min_pgsize();
    return m != 0 && ((io.value | pa.value | size) & (m - 1)) == 0;
}

} // namespace passthru
