#pragma once
// The byte-level half of the probe sequence, for shadow mode's raw face: GET_INFO at every
// argsz (SEMANTICS E1), the argsz and flag checks of MAP and UNMAP (B2, C1-C3), and
// tests/kernel/guest_probe.c's dirty-tracking vectors (C2, C3, C8, C10, D1-D7, B15) with
// the same user bitmaps, some starting from a pattern. Run on a v2 container with nothing
// mapped; `vaddr` is 3 pages (0x30000 bytes and more) of memory both sides can pin. Leaves
// nothing mapped and tracking off. Used by tests/kernel/shadow_probe.cpp on the booted
// kernels and by tests/unit/linux/shadow.cpp against the engine.
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

#include <passthru/type1/abi.hpp>

#include "vfio_args.hpp"

namespace passthru::testing {

// Returns how many ioctls it made.
template <class Shadow>
int run_raw_vectors(Shadow& s, std::uint64_t vaddr) {
    namespace abi = type1::abi;
    namespace args = vfio_args;
    using namespace abi::dirty_flag;
    constexpr std::uint32_t rw = abi::map_flag::read | abi::map_flag::write;
    constexpr std::uint32_t gdb = abi::unmap_flag::get_dirty_bitmap;
    constexpr std::uint32_t unmap_sz = args::unmap_bitmap_argsz;
    constexpr std::uint64_t K4 = 0x1000;
    std::array<std::uint64_t, 8> bits{};
    int ops = 0;
    // One ioctl; the bitmap starts as `in` (zeros past it), as guest_probe.c's does.
    auto call = [&](std::uint32_t cmd, std::vector<std::byte> arg, std::initializer_list<std::uint64_t> in = {}) {
        bits.fill(0);
        std::copy(in.begin(), in.end(), bits.begin());
        ++ops;
        return s.ioctl(cmd, arg, bits);
    };
    auto span = [&] { return std::span<std::uint64_t>(bits); };

    // GET_INFO at every argsz up to 8 bytes past the whole reply, in a 0xa5-filled buffer.
    auto probe = args::get_info(sizeof(abi::iommu_info), sizeof(abi::iommu_info));
    ++ops;
    (void)s.ioctl(abi::iommu_get_info, probe);
    std::uint32_t full = 0;
    std::memcpy(&full, probe.data(), sizeof full);
    for (std::uint32_t a : {0u, 4u, 8u, 12u, 15u, 16u, 17u, 20u, 23u}) call(abi::iommu_get_info, args::get_info(a, full + 16));
    for (std::uint32_t a = 24; a <= full + 8; a += 4) call(abi::iommu_get_info, args::get_info(a, full + 16));

    // MAP and UNMAP argsz and flags (B2, C1, C2, C3), and an argsz larger than the structure.
    call(abi::iommu_map_dma, args::map(31, rw, vaddr, 0x100000, K4));
    call(abi::iommu_map_dma, args::map(32, rw | 0x8, vaddr, 0x100000, K4));
    call(abi::iommu_map_dma, args::map(40, rw, vaddr, 0x100000, K4));
    call(abi::iommu_unmap_dma, args::unmap(23, 0, 0x100000, K4));
    call(abi::iommu_unmap_dma, args::unmap(24, 0x8, 0x100000, K4));
    call(abi::iommu_unmap_dma, args::unmap(unmap_sz, gdb | abi::unmap_flag::vaddr, 0x100000, K4, K4, 8, span()));
    call(abi::iommu_unmap_dma, args::unmap(32, 0, 0x100000, K4)); // the size written back (C11)

    // guest_probe.c's dirty_vectors(): A 16 pages at 1M, B 4 pages at 2M, C one page at
    // 2M+0x21000, in B's bitmap word of a query based at 1M.
    const auto map = [&](std::uint64_t io, std::uint64_t size, std::uint64_t off) {
        call(abi::iommu_map_dma, args::map(abi::dma_map_minsz, rw, vaddr + off, io, size));
    };
    const auto get = [&](std::uint64_t io, std::uint64_t size, std::uint64_t pgsize, std::uint64_t bytes,
                         std::initializer_list<std::uint64_t> in = {}, std::uint32_t argsz = vfio_args::dirty_get_argsz) {
        call(abi::iommu_dirty_pages, args::dirty(argsz, get_bitmap, io, size, pgsize, bytes, span()), in);
    };
    const auto flag = [&](std::uint32_t f, std::uint32_t argsz = abi::dirty_bitmap_minsz) {
        call(abi::iommu_dirty_pages, args::dirty(argsz, f));
    };
    const auto unmap_bits = [&](std::uint32_t f, std::uint32_t argsz, std::uint64_t io, std::uint64_t size,
                                std::uint64_t pgsize, std::uint64_t bytes, std::initializer_list<std::uint64_t> in = {}) {
        call(abi::iommu_unmap_dma, args::unmap(argsz, f, io, size, pgsize, bytes, span()), in);
    };
    const std::initializer_list<std::uint64_t> pattern = {0xf000000000000000, 0, 0xaaaa, 0, 0x100000000000, 0x55, 0, 0};
    map(0x100000, 0x10000, 0);
    map(0x200000, 0x4000, 0x10000);
    map(0x221000, K4, 0x20000);
    get(0x100000, 0x200000, K4, 64);                 // D5: not tracking
    flag(start);                                     // D3
    flag(start);                                     // D3: again
    flag(start | stop);                              // D2
    flag(0);                                         // D2
    flag(8);                                         // D1: unknown flag
    flag(start, 4);                                  // D1: argsz
    get(0x100000, 0x200000, K4, 64, {}, 40);         // D5: argsz
    get(0x100000, 0x200000, K4, 64, pattern);        // D6
    get(0x100000, 0x200000, K4, 64);                 // D7: again
    get(0x100000, 0x200000, 2 * K4, 64);             // D5: pgsize
    get(0x101000, K4, K4, 8);                        // D5: cuts A
    get(0x100000, K4, K4, 8);                        // D5: ends inside A
    get(0x100000, 0x200000, K4, 56);                 // D5: bitmap too small
    get(0x100000, 0x200000, K4, 0);
    get(0x100000, 0, K4, 8);                         // D5: size 0
    get(0x100800, K4, K4, 8);                        // D5: misaligned
    get(0xFFFF'FFFF'FFFF'F000, 2 * K4, K4, 8);       // D5: wraps
    get(0xFFFF'FFFF'FFFF'F000, K4, K4, 8);           // D5: the top page
    get(0x800000, 0x40000, K4, 8, pattern);          // D6: an empty range leaves the bitmap
    unmap_bits(gdb, 24, 0x200000, 0x4000, K4, 8);    // C3
    unmap_bits(gdb | abi::unmap_flag::all, unmap_sz, 0, 0, K4, 8); // C2
    unmap_bits(gdb, unmap_sz, 0x200000, 0x4000, 2 * K4, 8);         // C8
    unmap_bits(gdb, unmap_sz, 0x200000, 0x4000, K4, 0);             // C3
    unmap_bits(gdb, unmap_sz, 0x200000, 0x4000, K4, 8);             // C10: B
    unmap_bits(gdb, unmap_sz, 0x21f000, 0x3000, K4, 8, {0x1});      // C10: C at bit 2, and the residue
    map(0x400000, 0x2000, 0x30000);                  // B15: mapped while tracking
    get(0x400000, 0x2000, K4, 8);                    // D3
    flag(stop);                                      // D4
    flag(stop);
    get(0x100000, 0x10000, K4, 8);                   // D5: after STOP
    unmap_bits(gdb, unmap_sz, 0x400000, 0x2000, K4, 8); // C8: after STOP
    flag(start);
    get(0x100000, 0x10000, K4, 8);                   // D7: after a restart
    call(abi::iommu_unmap_dma, args::unmap(abi::dma_unmap_minsz, abi::unmap_flag::all, 0, 0));
    flag(stop);
    return ops;
}

} // namespace passthru::testing
