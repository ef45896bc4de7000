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

// update_user_bitmap (D5, D6): write a mapping's bits into the user's words at bit offset
// `bit`: whole words, the first OR-merged with what the user's word held, the last
// overwritten up to its end.
constexpr void write_user_bits(std::span<std::uint64_t> user, std::uint64_t bit,
                               std::span<const std::uint64_t> bits, std::uint64_t nbits) {
    const std::uint64_t word = bit / 64, shift = bit % 64;
    const std::uint64_t nwords = (nbits + shift + 63) / 64;
    const std::uint64_t first = user[word];
    for (std::uint64_t w = 0; w < nwords; ++w) {
        const std::uint64_t lo = w < bits.size() ? bits[w] << shift : 0;
        const std::uint64_t hi = shift && w > 0 && w - 1 < bits.size() ? bits[w - 1] >> (64 - shift) : 0;
        user[word + w] = lo | hi;
    }
    if (shift) user[word] |= first;
}

// A bitmap with every one of `nbits` bits set (every page dirty, D7).
constexpr void set_all(std::vector<std::uint64_t>& bits, std::uint64_t nbits) {
    nbits = std::min<std::uint64_t>(nbits, bits.size() * 64); // a page size that shrank since
    std::fill(bits.begin(), bits.end(), 0);
    for (std::uint64_t w = 0; w < nbits / 64; ++w) bits[w] = ~std::uint64_t{0};
    if (nbits % 64) bits[nbits / 64] = (std::uint64_t{1} << (nbits % 64)) - 1;
}

} // namespace passthru::type1
