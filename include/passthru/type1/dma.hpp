#pragma once
// One DMA mapping of a container (a vfio_dma, SEMANTICS §2 item 5) and the dirty-bitmap
// arithmetic of SEMANTICS §D: one bit per page of the container's smallest page size,
// little-endian bit order in 64-bit words.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/type1/abi.hpp>

namespace passthru::type1 {

struct dma {
    passthru::iova iova{};
    std::uint64_t size = 0;
    std::uint64_t vaddr = 0;
    prot perm = prot::none;    // READ and/or WRITE as MAP_DMA asked (B5)
    bool iommu_mapped = false; // pinned and mapped into every domain (A17, B13)
    bool vaddr_invalid = false; // UNMAP_DMA with VADDR, until MAP_DMA with VADDR (C10, B9)
    bool lock_cap = false;     // CAP_IPC_LOCK when it was mapped (B12)
    std::uint64_t locked = 0;  // pages charged to locked memory (B14)
    std::vector<std::uint64_t> bitmap{}; // while dirty tracking is on (D3)

    constexpr std::uint64_t last() const noexcept { return iova.value + (size - 1); }
    constexpr bool operator==(const dma&) const = default;
};

// verify_bitmap_size (C3, D5): room for `npages` bits in `bytes`, within the 256 MiB cap.
constexpr bool bitmap_size_ok(std::uint64_t npages, std::uint64_t bytes) noexcept {
    return npages != 0 && bytes != 0 && bytes <= abi::dirty_bitmap_size_max && bytes >= abi::dirty_bitmap_bytes(npages);
}

// The bit count the kernel derives from a range and the user's page size: size >>
// ffs(pgsize). The kernel's __ffs(0) is undefined; here a zero page size shifts by 0 and the
// later pgsize check refuses it.
constexpr std::uint64_t bitmap_pages(std::uint64_t size, std::uint64_t pgsize) noexcept {
    if (pgsize == 0) return size;
    unsigned s = 0;
    while (!((pgsize >> s) & 1)) ++s;
    return size >> s;
}

// update_user_bitmap (D5, D6), as the kernel does it: the mapping's own bitmap is shifted
// in place to bit `bit % 64`, the user's first word is OR-ed into it, and whole words are
// copied out. The shift and the OR leave bits above `nbits` in the mapping's bitmap; the
// kernel clears only the first `nbits` afterwards (clear_first_bits), so those bits are
// shifted out again at the next report: pages past the mapping's end read as dirty
// (the booted 6.1 and 6.12 kernels do this: tests/kernel/observed.md §5 item 6).
constexpr void report_bits(std::span<std::uint64_t> user, std::uint64_t bit, std::vector<std::uint64_t>& bits,
                           std::uint64_t nbits) {
    const std::uint64_t word = bit / 64, shift = bit % 64;
    const std::uint64_t nwords = std::min<std::uint64_t>((nbits + shift + 63) / 64, bits.size());
    if (shift) {
        for (std::uint64_t k = nwords; k-- > 0;)
            bits[k] = (bits[k] << shift) | (k > 0 ? bits[k - 1] >> (64 - shift) : 0);
        bits[0] |= user[word];
    }
    std::copy_n(bits.begin(), nwords, user.begin() + static_cast<std::ptrdiff_t>(word));
}

// bitmap_set / bitmap_clear of bits [0, nbits): the words above keep what they hold.
// (nbits is clamped to the bitmap: a page size that shrank since the bitmap was made.)
constexpr void set_first_bits(std::vector<std::uint64_t>& bits, std::uint64_t nbits) {
    nbits = std::min<std::uint64_t>(nbits, bits.size() * 64);
    std::fill_n(bits.begin(), nbits / 64, ~std::uint64_t{0});
    if (nbits % 64) bits[nbits / 64] |= (std::uint64_t{1} << (nbits % 64)) - 1;
}
constexpr void clear_first_bits(std::vector<std::uint64_t>& bits, std::uint64_t nbits) {
    nbits = std::min<std::uint64_t>(nbits, bits.size() * 64);
    std::fill_n(bits.begin(), nbits / 64, 0);
    if (nbits % 64) bits[nbits / 64] &= ~((std::uint64_t{1} << (nbits % 64)) - 1);
}

} // namespace passthru::type1
