#pragma once
// The bytes a VMM passes to the type1 container ioctls, with argsz and flags as given
// (including the wrong ones the kernel must refuse), for the raw face of shadow mode and
// the ABI face. Each buffer is as long as the whole structure, so a kernel that reads past
// a short argsz reads the caller's memory, as it would in a real process; the bitmap
// address is `words`' own.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <passthru/type1/abi.hpp>

namespace passthru::testing::vfio_args {

template <class T>
std::vector<std::byte> bytes_of(const T& v) {
    std::vector<std::byte> b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof v);
    return b;
}
inline std::uint64_t address_of(std::span<std::uint64_t> words) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(words.data()));
}

// GET_INFO: `room` bytes of 0xa5 (what GET_INFO leaves alone must stay so), argsz first.
inline std::vector<std::byte> get_info(std::uint32_t argsz, std::size_t room) {
    std::vector<std::byte> b(room < 4 ? 4 : room, std::byte{0xa5});
    std::memcpy(b.data(), &argsz, sizeof argsz);
    return b;
}

inline std::vector<std::byte> map(std::uint32_t argsz, std::uint32_t flags, std::uint64_t vaddr, std::uint64_t iova,
                                  std::uint64_t size) {
    return bytes_of(type1::abi::dma_map{argsz, flags, vaddr, iova, size});
}

// UNMAP_DMA, with the bitmap header after it whatever the flags (a kernel that reads it
// without GET_DIRTY_BITMAP would be wrong, and visible).
inline std::vector<std::byte> unmap(std::uint32_t argsz, std::uint32_t flags, std::uint64_t iova, std::uint64_t size,
                                    std::uint64_t pgsize = 0, std::uint64_t bitmap_bytes = 0,
                                    std::span<std::uint64_t> words = {}) {
    return bytes_of(type1::abi::dma_unmap_bitmap{{argsz, flags, iova, size}, {pgsize, bitmap_bytes, address_of(words)}});
}

// DIRTY_PAGES, with the GET_BITMAP range after the header whatever the flags.
inline std::vector<std::byte> dirty(std::uint32_t argsz, std::uint32_t flags, std::uint64_t iova = 0,
                                    std::uint64_t size = 0, std::uint64_t pgsize = 0, std::uint64_t bitmap_bytes = 0,
                                    std::span<std::uint64_t> words = {}) {
    return bytes_of(type1::abi::dirty_pages_get{{argsz, flags}, {iova, size, {pgsize, bitmap_bytes, address_of(words)}}});
}
inline constexpr std::uint32_t dirty_get_argsz = sizeof(type1::abi::dirty_pages_get);
inline constexpr std::uint32_t unmap_bitmap_argsz = sizeof(type1::abi::dma_unmap_bitmap);

} // namespace passthru::testing::vfio_args
