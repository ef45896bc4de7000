#pragma once
// The engine behind the ioctl ABI: each function takes the bytes a VMM passes to the
// container fd and answers as the kernel would, argsz and flag checks included (SEMANTICS
// B1, B2, C1-C3, D1, D2, D5, E1, E2), then hands the request to the typed API. Bitmaps
// live at user addresses: a `UserMemory` M resolves them,
//   m.words(user_addr, bytes) -> std::optional<std::span<std::uint64_t>>
// (nullopt for memory the process cannot access, access_ok failing).
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <passthru/core/error.hpp>
#include <passthru/type1/abi.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/info.hpp>

namespace passthru::type1 {

template <class M>
concept UserMemory = requires(M& m, std::uint64_t addr, std::uint64_t bytes) {
    { m.words(addr, bytes) } -> std::same_as<std::optional<std::span<std::uint64_t>>>;
};

// A process with no memory at any address: for callers that never pass a bitmap.
struct no_user_memory {
    constexpr std::optional<std::span<std::uint64_t>> words(std::uint64_t, std::uint64_t) const noexcept {
        return std::nullopt;
    }
};

// CHECK_EXTENSION with no backend set on the container yet (what a VMM asks first):
// DMA_CC_IOMMU is 0 without domains to ask; UPDATE_VADDR needs a container since v6.3
// (and on Debian's 6.1, SEMANTICS P4).
template <KernelProfile K>
constexpr int check_extension_unset(abi::extension e) noexcept {
    switch (e) {
    case abi::extension::type1:
    case abi::extension::type1v2:
    case abi::extension::unmap_all: return 1;
    case abi::extension::type1_nesting: return K::facts.nesting ? 1 : 0;
    case abi::extension::update_vaddr: return K::facts.vaddr_rules_v6_3 ? 0 : 1;
    default: return 0;
    }
}

// SET_IOMMU's argument: which container mode, or EINVAL (SEMANTICS §2 "Open").
template <KernelProfile K>
constexpr result<iommu_mode> iommu_mode_of(std::uint32_t type) {
    switch (type) {
    case static_cast<std::uint32_t>(abi::extension::type1): return iommu_mode::v1;
    case static_cast<std::uint32_t>(abi::extension::type1v2): return iommu_mode::v2;
    case static_cast<std::uint32_t>(abi::extension::type1_nesting):
        if (K::facts.nesting) return iommu_mode::v2; // nesting itself is not modelled
        break;
    default: break;
    }
    return fail(errc::einval, "SEMANTICS §2: not a type1 IOMMU type");
}

// VFIO_IOMMU_MAP_DMA.
template <class C>
constexpr result<void> map_dma(C& c, std::span<const std::byte> user) {
    if (user.size() < abi::dma_map_minsz) return fail(errc::efault, "SEMANTICS B1: the argument is not readable");
    const auto m = detail::get<abi::dma_map>(user, 0);
    if (m.argsz < abi::dma_map_minsz) return fail(errc::einval, "SEMANTICS B2: argsz is below 32");
    return c.do_map(m.iova, m.size, m.vaddr, m.flags);
}

// VFIO_IOMMU_UNMAP_DMA; on success the header is written back with the bytes unmapped.
template <class C, UserMemory M>
constexpr result<void> unmap_dma(C& c, std::span<std::byte> user, M& mem) {
    using namespace abi::unmap_flag;
    if (user.size() < abi::dma_unmap_minsz) return fail(errc::efault, "SEMANTICS C1: the argument is not readable");
    auto u = detail::get<abi::dma_unmap>(user, 0);
    if (u.argsz < abi::dma_unmap_minsz || (u.flags & ~(get_dirty_bitmap | all | abi::unmap_flag::vaddr)))
        return fail(errc::einval, "SEMANTICS C1: argsz is below 24, or unknown flags");
    if ((u.flags & get_dirty_bitmap) && (u.flags & (all | abi::unmap_flag::vaddr)))
        return fail(errc::einval, "SEMANTICS C2: GET_DIRTY_BITMAP goes with neither ALL nor VADDR");
    std::optional<typename C::user_bitmap> bits;
    if (u.flags & get_dirty_bitmap) { // C3
        if (u.argsz < sizeof(abi::dma_unmap_bitmap))
            return fail(errc::einval, "SEMANTICS C3: argsz has no room for the bitmap");
        if (user.size() < sizeof(abi::dma_unmap_bitmap))
            return fail(errc::efault, "SEMANTICS C3: the bitmap header is not readable");
        const auto b = detail::get<abi::bitmap>(user, abi::dma_unmap_minsz);
        const auto words = mem.words(b.data, b.size);
        if (!words) return fail(errc::einval, "SEMANTICS C3: the bitmap is not accessible");
        bits = typename C::user_bitmap{b.pgsize, *words, b.size};
    }
    auto r = c.do_unmap(u.iova, u.size, u.flags, bits);
    if (!r) return tl::unexpected(r.error());
    u.size = *r; // C11
    if (user.size() < abi::dma_unmap_minsz) return fail(errc::efault, "SEMANTICS C11: the argument is not writable");
    detail::put(user, 0, u);
    return {};
}

// VFIO_IOMMU_DIRTY_PAGES.
template <class C, UserMemory M>
constexpr result<void> dirty_pages(C& c, std::span<const std::byte> user, M& mem) {
    using namespace abi::dirty_flag;
    if (c.mode() != iommu_mode::v2) return fail(errc::eacces, "SEMANTICS D1: dirty tracking needs a v2 container");
    if (user.size() < abi::dirty_bitmap_minsz) return fail(errc::efault, "SEMANTICS D1: the argument is not readable");
    const auto d = detail::get<abi::dirty_bitmap>(user, 0);
    if (d.argsz < abi::dirty_bitmap_minsz || (d.flags & ~(start | stop | get_bitmap)))
        return fail(errc::einval, "SEMANTICS D1: argsz is below 8, or unknown flags");
    if (d.flags != start && d.flags != stop && d.flags != get_bitmap)
        return fail(errc::einval, "SEMANTICS D2: exactly one of START, STOP and GET_BITMAP");
    if (d.flags == start) return c.dirty_start();
    if (d.flags == stop) return c.dirty_stop();
    if (d.argsz - abi::dirty_bitmap_minsz < sizeof(abi::dirty_bitmap_get))
        return fail(errc::einval, "SEMANTICS D5: argsz has no room for the range");
    if (user.size() < sizeof(abi::dirty_pages_get)) return fail(errc::efault, "SEMANTICS D5: the range is not readable");
    const auto g = detail::get<abi::dirty_bitmap_get>(user, abi::dirty_bitmap_minsz);
    // D5 checks the range before it looks at the bitmap: let the typed call report it.
    const bool range_bad = C::profile::facts.overflow_is_eoverflow ? g.size == 0 || g.iova + (g.size - 1) < g.iova
                                                                  : g.iova + g.size < g.iova;
    if (range_bad) return c.dirty_get(passthru::iova{g.iova}, g.size, {g.bits.pgsize, {}});
    const auto words = mem.words(g.bits.data, g.bits.size);
    if (!words) return fail(errc::einval, "SEMANTICS D5: the bitmap is not accessible");
    return c.dirty_get(passthru::iova{g.iova}, g.size, {g.bits.pgsize, *words, g.bits.size});
}

// The container fd's ioctl: `arg` is the integer argument of CHECK_EXTENSION, or the bytes
// at the pointer argument of the others. Returns the ioctl's non-negative result.
template <class C, UserMemory M>
constexpr result<int> ioctl(C& c, std::uint32_t cmd, std::span<std::byte> arg, std::uint64_t value, M& mem) {
    switch (cmd) {
    case abi::get_api_version: return abi::api_version;
    case abi::check_extension: return c.check_extension(static_cast<abi::extension>(value));
    case abi::iommu_get_info:
        if (auto r = get_info(c, arg); !r) return tl::unexpected(r.error());
        return 0;
    case abi::iommu_map_dma:
        if (auto r = map_dma(c, arg); !r) return tl::unexpected(r.error());
        return 0;
    case abi::iommu_unmap_dma:
        if (auto r = unmap_dma(c, arg, mem); !r) return tl::unexpected(r.error());
        return 0;
    case abi::iommu_dirty_pages:
        if (auto r = dirty_pages(c, arg, mem); !r) return tl::unexpected(r.error());
        return 0;
    default: return fail(errc::enotty, "SEMANTICS E2: not a type1 container ioctl");
    }
}

} // namespace passthru::type1
