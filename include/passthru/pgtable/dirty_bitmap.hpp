#pragma once
// The bitmap read_and_clear_dirty fills: one bit per `pgsize` bytes of IOVA from `base`,
// in little-endian-bit-order 64-bit words (SEMANTICS D6, the iommufd/VFIO layout): bit k
// of the bitmap is word k/64, bit k%64, and stands for [base + k·pgsize, +pgsize).
#include <bit>
#include <cstdint>
#include <span>

#include <passthru/core/address.hpp>

namespace passthru::pgtable {

struct dirty_bitmap {
    iova base;
    std::uint64_t pgsize = 4096; // a power of two
    std::span<std::uint64_t> words;

    // Mark every page of [first, last] (inclusive IOVA) that lies inside the bitmap.
    constexpr void set(std::uint64_t first, std::uint64_t last) noexcept {
        const unsigned shift = static_cast<unsigned>(std::countr_zero(pgsize));
        const std::uint64_t nbits = words.size() * 64;
        if (last < base.value || nbits == 0) return;
        std::uint64_t k = first > base.value ? (first - base.value) >> shift : 0;
        std::uint64_t end = (last - base.value) >> shift; // inclusive
        if (end >= nbits) end = nbits - 1;
        for (; k <= end; ++k) {
            // Whole words at a time once aligned: a dirty 1 GiB leaf is 4096 words.
            if (k % 64 == 0 && end - k >= 63) {
                words[k / 64] = ~std::uint64_t{0};
                k += 63;
                continue;
            }
            words[k / 64] |= std::uint64_t{1} << (k % 64);
        }
    }
    // Whether the page holding `io` is marked; false outside the bitmap.
    constexpr bool test(std::uint64_t io) const noexcept {
        if (io < base.value) return false;
        const std::uint64_t k = (io - base.value) >> std::countr_zero(pgsize);
        return k / 64 < words.size() && ((words[k / 64] >> (k % 64)) & 1) != 0;
    }
};

} // namespace passthru::pgtable
