#pragma once
// A real VFIO container and group, driven through the ioctls, with the type1 engine's
// interface: the same calls, the same result<>/errc (the kernel's errno as it came), so a
// caller, or shadow mode, can put the kernel and the model side by side. The bytes each
// ioctl gets are the engine's ABI structures (type1/abi.hpp, checked against the uapi in
// linux/uapi.hpp); every call goes through the Syscalls seam.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/linux/fd.hpp>
#include <passthru/linux/syscalls.hpp>
#include <passthru/linux/uapi.hpp>
#include <passthru/type1/abi.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/info.hpp>

namespace passthru::linux_vfio {

template <Syscalls S = real_syscalls>
class kernel_container {
public:
    // The same shape as type1::container's: `pgsize` bytes per bit, the words the kernel
    // writes, and the size passed as the bitmap's (0: the words' size).
    struct user_bitmap {
        std::uint64_t pgsize = 0;
        std::span<std::uint64_t> words{};
        std::uint64_t bytes = 0;
        constexpr std::uint64_t size() const noexcept { return bytes ? bytes : words.size_bytes(); }
    };

    // Opens /dev/vfio/vfio (or `path`): a container with no IOMMU set yet.
    static result<kernel_container> open(S& sys, const char* path = "/dev/vfio/vfio") {
        const int fd = sys.open(path, O_RDWR);
        if (fd < 0) return syscall_error(fd, "open of the VFIO container device");
        return kernel_container(unique_fd<S>(sys, fd));
    }

    int fd() const noexcept { return fd_.get(); }

    result<int> api_version() const { return call(abi::get_api_version, 0, "VFIO_GET_API_VERSION"); }
    // CHECK_EXTENSION before or after SET_IOMMU (SEMANTICS E2).
    result<int> check_extension(abi::extension e) const {
        return call(abi::check_extension, static_cast<std::uintptr_t>(e), "VFIO_CHECK_EXTENSION");
    }
    // SET_IOMMU with TYPE1 (v1) or TYPE1v2: attaches every group set on the container.
    result<void> set_iommu(type1::iommu_mode m) const {
        const auto type = m == type1::iommu_mode::v1 ? abi::extension::type1 : abi::extension::type1v2;
        if (auto r = call(abi::set_iommu, static_cast<std::uintptr_t>(type), "VFIO_SET_IOMMU"); !r)
            return tl::unexpected(r.error());
        return {};
    }

    // Any container ioctl on the bytes a VMM would pass, argsz and flags as given (the
    // checks only bytes can express: SEMANTICS B2, C1-C3, D1, D2, D5, E1); the kernel reads
    // and writes `arg` in place, and any bitmap at the address written in it.
    result<int> ioctl(std::uint32_t request, std::span<std::byte> arg) const {
        return call(request, reinterpret_cast<std::uintptr_t>(arg.data()), "container ioctl");
    }
    // GET_INFO on `user` as the kernel sees it: argsz is the caller's, in its first bytes.
    result<void> get_info(std::span<std::byte> user) const { return call_on(abi::iommu_get_info, user, "VFIO_IOMMU_GET_INFO"); }
    // GET_INFO as values: the header, then again with the argsz the kernel asked for.
    result<type1::info_values> info() const {
        std::vector<std::byte> buf(sizeof(abi::iommu_info));
        for (int round = 0; round < 2; ++round) {
            type1::detail::put(std::span<std::byte>(buf), 0, abi::iommu_info{static_cast<std::uint32_t>(buf.size()), 0, 0, 0, 0});
            if (auto r = get_info(buf); !r) return tl::unexpected(r.error());
            const auto need = type1::detail::get<std::uint32_t>(std::span<const std::byte>(buf), 0);
            if (need <= buf.size()) break;
            buf.assign(need, std::byte{0});
        }
        return type1::read_info(buf);
    }

    // MAP_DMA (SEMANTICS §B).
    result<void> map(iova io, std::uint64_t size, std::uint64_t vaddr, prot p) const {
        return do_map(io.value, size, vaddr,
                      (has(p, prot::read) ? abi::map_flag::read : 0) | (has(p, prot::write) ? abi::map_flag::write : 0));
    }
    result<void> update_vaddr(iova io, std::uint64_t size, std::uint64_t vaddr) const {
        return do_map(io.value, size, vaddr, abi::map_flag::vaddr);
    }
    result<void> do_map(std::uint64_t iova, std::uint64_t size, std::uint64_t vaddr, std::uint32_t flags) const {
        abi::dma_map m{abi::dma_map_minsz, flags, vaddr, iova, size};
        return call_on(abi::iommu_map_dma, as_bytes(m), "VFIO_IOMMU_MAP_DMA");
    }

    // UNMAP_DMA (SEMANTICS §C): the bytes the kernel reports unmapped.
    result<std::uint64_t> unmap(iova io, std::uint64_t size) const { return do_unmap(io.value, size, 0, {}); }
    result<std::uint64_t> unmap_all() const { return do_unmap(0, 0, abi::unmap_flag::all, {}); }
    result<std::uint64_t> invalidate_vaddr(iova io, std::uint64_t size, bool all = false) const {
        return do_unmap(io.value, size, abi::unmap_flag::vaddr | (all ? abi::unmap_flag::all : 0), {});
    }
    result<std::uint64_t> unmap_with_bitmap(iova io, std::uint64_t size, user_bitmap b) const {
        return do_unmap(io.value, size, abi::unmap_flag::get_dirty_bitmap, b);
    }
    result<std::uint64_t> do_unmap(std::uint64_t iova, std::uint64_t size, std::uint32_t flags,
                                   std::optional<user_bitmap> b) const {
        abi::dma_unmap_bitmap u{{abi::dma_unmap_minsz, flags, iova, size}, {}};
        if (b) {
            u.head.argsz = sizeof u;
            u.bits = {b->pgsize, b->size(), address_of(b->words)};
        }
        auto bytes = as_bytes(u);
        if (auto r = call_on(abi::iommu_unmap_dma, bytes.first(u.head.argsz), "VFIO_IOMMU_UNMAP_DMA"); !r)
            return tl::unexpected(r.error());
        return u.head.size; // C11: the kernel wrote the bytes unmapped back
    }

    // DIRTY_PAGES (SEMANTICS §D).
    result<void> dirty_start() const { return dirty(abi::dirty_flag::start); }
    result<void> dirty_stop() const { return dirty(abi::dirty_flag::stop); }
    result<void> dirty_get(iova io, std::uint64_t size, user_bitmap b) const {
        abi::dirty_pages_get d{{sizeof(abi::dirty_pages_get), abi::dirty_flag::get_bitmap},
                               {io.value, size, {b.pgsize, b.size(), address_of(b.words)}}};
        return call_on(abi::iommu_dirty_pages, as_bytes(d), "VFIO_IOMMU_DIRTY_PAGES");
    }

private:
    explicit kernel_container(unique_fd<S> fd) noexcept : fd_(std::move(fd)) {}

    template <class T>
    static std::span<std::byte> as_bytes(T& v) noexcept {
        return {reinterpret_cast<std::byte*>(&v), sizeof v};
    }
    static std::uint64_t address_of(std::span<std::uint64_t> w) noexcept {
        return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(w.data()));
    }
    result<int> call(unsigned long request, std::uintptr_t arg, std::string_view name) const {
        const int r = fd_.sys().ioctl(fd_.get(), request, arg);
        if (r < 0) return syscall_error(r, name);
        return r;
    }
    result<void> call_on(unsigned long request, std::span<std::byte> arg, std::string_view name) const {
        if (auto r = call(request, reinterpret_cast<std::uintptr_t>(arg.data()), name); !r)
            return tl::unexpected(r.error());
        return {};
    }
    result<void> dirty(std::uint32_t flag) const {
        abi::dirty_bitmap d{abi::dirty_bitmap_minsz, flag};
        return call_on(abi::iommu_dirty_pages, as_bytes(d), "VFIO_IOMMU_DIRTY_PAGES");
    }

    unique_fd<S> fd_;
};

// GROUP_GET_STATUS.
struct group_state {
    bool viable = false;        // every device of the group is bound to a VFIO driver or none
    bool container_set = false; // the group is in a container
    constexpr bool operator==(const group_state&) const = default;
};

// A VFIO group, /dev/vfio/<id>.
template <Syscalls S = real_syscalls>
class kernel_group {
public:
    static result<kernel_group> open(S& sys, unsigned id) {
        const std::string path = "/dev/vfio/" + std::to_string(id);
        const int fd = sys.open(path.c_str(), O_RDWR);
        if (fd < 0) return syscall_error(fd, "open of the VFIO group device");
        return kernel_group(unique_fd<S>(sys, fd), id);
    }

    unsigned id() const noexcept { return id_; }
    int fd() const noexcept { return fd_.get(); }

    result<group_state> status() const {
        group_status s{sizeof s, 0};
        if (auto r = call(group_get_status, reinterpret_cast<std::uintptr_t>(&s), "VFIO_GROUP_GET_STATUS"); !r)
            return tl::unexpected(r.error());
        return group_state{(s.flags & group_flag::viable) != 0, (s.flags & group_flag::container_set) != 0};
    }
    // GROUP_SET_CONTAINER: the kernel reads the container's fd from our memory.
    template <Syscalls C>
    result<void> set_container(const kernel_container<C>& c) const {
        const int cfd = c.fd();
        return call(group_set_container, reinterpret_cast<std::uintptr_t>(&cfd), "VFIO_GROUP_SET_CONTAINER");
    }
    result<void> unset_container() const { return call(group_unset_container, 0, "VFIO_GROUP_UNSET_CONTAINER"); }

private:
    kernel_group(unique_fd<S> fd, unsigned id) noexcept : fd_(std::move(fd)), id_(id) {}
    result<void> call(unsigned long request, std::uintptr_t arg, std::string_view name) const {
        if (const int r = fd_.sys().ioctl(fd_.get(), request, arg); r < 0) return syscall_error(r, name);
        return {};
    }

    unique_fd<S> fd_;
    unsigned id_ = 0;
};

} // namespace passthru::linux_vfio
