#pragma once
// VFIO_IOMMU_GET_INFO as the bytes a VMM receives (SEMANTICS E1, D8): the 24-byte header
// and the capability chain MIGRATION -> DMA_AVAIL -> IOVA_RANGE, each `next` an offset
// from the start of the header. The kernel profile decides the one layout difference
// between kernels: since v6.6 every capability is padded to 8 bytes, so DMA_AVAIL takes
// 16 bytes of the chain instead of 12.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <passthru/core/error.hpp>
#include <passthru/type1/abi.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/profile.hpp>

namespace passthru::type1 {

namespace detail {
template <class T>
constexpr void put(std::span<std::byte> out, std::size_t at, const T& v) {
    const auto bytes = std::bit_cast<std::array<std::byte, sizeof(T)>>(v);
    std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
}
template <class T>
constexpr T get(std::span<const std::byte> in, std::size_t at) {
    std::array<std::byte, sizeof(T)> bytes{};
    std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(at), sizeof(T), bytes.begin());
    return std::bit_cast<T>(bytes);
}
} // namespace detail

// The capability chain as copied right after the header (offsets count the header).
template <KernelProfile K>
constexpr std::vector<std::byte> info_caps(const info_values& v) {
    constexpr std::uint32_t header = sizeof(abi::iommu_info);
    constexpr std::uint32_t mig = sizeof(abi::cap_migration);
    constexpr std::uint32_t avail = K::facts.caps_padded ? 16 : sizeof(abi::cap_dma_avail);
    const bool ranges = !v.iova_ranges.empty(); // absent with emulated groups only (A.5)
    const std::uint32_t iova_bytes =
        ranges ? static_cast<std::uint32_t>(sizeof(abi::cap_iova_range) + v.iova_ranges.size() * sizeof(abi::iova_range)) : 0;
    std::vector<std::byte> out(mig + avail + iova_bytes, std::byte{0});
    detail::put(out, 0,
                abi::cap_migration{{abi::cap_id::migration, 1, header + mig}, 0, 0, v.migration_pgsize,
                                   v.max_dirty_bitmap_size});
    detail::put(out, mig, abi::cap_dma_avail{{abi::cap_id::dma_avail, 1, ranges ? header + mig + avail : 0}, v.dma_avail});
    if (ranges) {
        const std::size_t at = mig + avail;
        detail::put(out, at,
                    abi::cap_iova_range{{abi::cap_id::iova_range, 1, 0},
                                        static_cast<std::uint32_t>(v.iova_ranges.size()), 0});
        for (std::size_t i = 0; i < v.iova_ranges.size(); ++i)
            detail::put(out, at + sizeof(abi::cap_iova_range) + i * sizeof(abi::iova_range),
                        abi::iova_range{v.iova_ranges[i].first, v.iova_ranges[i].last});
    }
    return out;
}

// How many header bytes GET_INFO writes back for `argsz` (E1). Since v6.6 (the patch that
// pads the caps) a zeroed header, min(argsz, 24) bytes; before, 16 bytes, or 20 (through
// cap_offset) once argsz reaches 20, and the pad is never written (the booted 6.1 did so:
// tests/kernel/observed.md §5 item 8).
template <KernelProfile K>
constexpr std::size_t info_header_bytes(std::uint32_t argsz) noexcept {
    constexpr std::size_t through_cap_offset = offsetof(abi::iommu_info, cap_offset) + sizeof(std::uint32_t);
    if (K::facts.caps_padded) return std::min<std::size_t>(argsz, sizeof(abi::iommu_info));
    return argsz >= through_cap_offset ? through_cap_offset : abi::info_minsz;
}

// GET_INFO on the bytes of the user's argument (E1): `user` is what the process can
// access at the argument's address. The first 16 bytes are read; the header is written
// back (info_header_bytes); the caps only when argsz has room for all of them.
template <class C>
constexpr result<void> get_info(const C& c, std::span<std::byte> user) {
    if (user.size() < abi::info_minsz) return fail(errc::efault, "SEMANTICS E1: the argument is not readable");
    const auto argsz = detail::get<std::uint32_t>(user, 0);
    if (argsz < abi::info_minsz) return fail(errc::einval, "SEMANTICS E1: argsz is below 16");
    const std::size_t minsz = info_header_bytes<typename C::profile>(argsz);
    const info_values v = c.info();
    const auto caps = info_caps<typename C::profile>(v);
    abi::iommu_info info{argsz, abi::info_flag::pgsizes | abi::info_flag::caps, v.iova_pgsizes, 0, 0};
    const std::size_t total = sizeof(abi::iommu_info) + caps.size();
    if (argsz < total) {
        info.argsz = static_cast<std::uint32_t>(total);
    } else {
        if (user.size() < total) return fail(errc::efault, "SEMANTICS E1: the capability buffer is not writable");
        std::copy(caps.begin(), caps.end(), user.begin() + sizeof(abi::iommu_info));
        info.cap_offset = sizeof(abi::iommu_info);
    }
    if (user.size() < minsz) return fail(errc::efault, "SEMANTICS E1: the argument is not writable");
    std::array<std::byte, sizeof(abi::iommu_info)> head{};
    detail::put(head, 0, info);
    std::copy_n(head.begin(), minsz, user.begin());
    return {};
}

// The other direction: GET_INFO's bytes, as a kernel or get_info() wrote them, read back
// into values: the header, then the chain from cap_offset, each capability bounds-checked
// and each `next` further on (EINVAL otherwise). What the bytes do not report is 0.
inline result<info_values> read_info(std::span<const std::byte> bytes) {
    if (bytes.size() < sizeof(abi::iommu_info)) return fail(errc::einval, "SEMANTICS E1: shorter than the GET_INFO header");
    const auto head = detail::get<abi::iommu_info>(bytes, 0);
    info_values v{(head.flags & abi::info_flag::pgsizes) ? head.iova_pgsizes : 0, 0, 0, 0, {}};
    if (!(head.flags & abi::info_flag::caps)) return v;
    for (std::size_t at = head.cap_offset; at != 0;) {
        if (at < sizeof(abi::iommu_info) || bytes.size() - sizeof(abi::cap_header) < at)
            return fail(errc::einval, "SEMANTICS E1: a capability lies outside the buffer");
        const auto cap = detail::get<abi::cap_header>(bytes, at);
        const std::size_t room = bytes.size() - at;
        switch (cap.id) {
        case abi::cap_id::iova_range: {
            if (room < sizeof(abi::cap_iova_range)) return fail(errc::einval, "SEMANTICS E1: IOVA_RANGE is cut off");
            const auto r = detail::get<abi::cap_iova_range>(bytes, at);
            if ((room - sizeof r) / sizeof(abi::iova_range) < r.nr_iovas)
                return fail(errc::einval, "SEMANTICS E1: IOVA_RANGE's ranges are cut off");
            for (std::uint32_t i = 0; i < r.nr_iovas; ++i) {
                const auto e = detail::get<abi::iova_range>(bytes, at + sizeof r + i * sizeof(abi::iova_range));
                v.iova_ranges.push_back({e.start, e.end});
            }
            break;
        }
        case abi::cap_id::migration: {
            if (room < sizeof(abi::cap_migration)) return fail(errc::einval, "SEMANTICS E1: MIGRATION is cut off");
            const auto m = detail::get<abi::cap_migration>(bytes, at);
            v.migration_pgsize = m.pgsize_bitmap;
            v.max_dirty_bitmap_size = m.max_dirty_bitmap_size;
            break;
        }
        case abi::cap_id::dma_avail:
            if (room < sizeof(abi::cap_dma_avail)) return fail(errc::einval, "SEMANTICS E1: DMA_AVAIL is cut off");
            v.dma_avail = detail::get<abi::cap_dma_avail>(bytes, at).avail;
            break;
        default: break; // a capability this version does not know
        }
        if (cap.next != 0 && cap.next <= at) return fail(errc::einval, "SEMANTICS E1: the chain goes backwards");
        at = cap.next;
    }
    return v;
}

} // namespace passthru::type1
