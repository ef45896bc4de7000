#pragma once
// A kernel for the Linux backend's tests: the Syscalls seam answered by the type1 engine
// itself. /dev/vfio/vfio opens a container, /dev/vfio/<id> one of the configured groups;
// SET_IOMMU creates an engine container (real page tables, type1_rig.hpp) and attaches
// the groups set on it; every other container ioctl goes to the engine's ABI face with
// the bytes at the address the backend passed. So what the backend sends and reads back
// is checked against the model, byte for byte, without a VFIO device.
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>

#include <passthru/linux/uapi.hpp>
#include <passthru/type1/abi_face.hpp>

#include "type1_rig.hpp"

namespace passthru::testing {

// This process's memory, as the engine's UserMemory: a bitmap at address a is at a.
struct own_memory {
    std::optional<std::span<std::uint64_t>> words(std::uint64_t addr, std::uint64_t bytes) const {
        if (addr == 0 || addr % 8) return std::nullopt;
        return std::span<std::uint64_t>(reinterpret_cast<std::uint64_t*>(static_cast<std::uintptr_t>(addr)), (bytes + 7) / 8);
    }
};

template <class P = x86_vtd_ir<>, class K = type1::profiles::upstream>
class fake_vfio {
public:
    using rig = table_rig<P, K>;

    // Groups that exist, and whether each is viable.
    std::map<unsigned, bool> groups{{7, true}};
    std::size_t closes = 0;

    int open(const char* path, int flags) {
        if ((flags & O_ACCMODE) != O_RDWR) return -EINVAL;
        const std::string p = path;
        if (p == "/dev/vfio/vfio") return add({kind::container, 0});
        if (p.rfind("/dev/vfio/", 0) != 0) return -ENOENT;
        const unsigned id = static_cast<unsigned>(std::stoul(p.substr(10)));
        if (!groups.count(id)) return -ENOENT;
        for (auto& [fd, f] : fds_)
            if (f.what == kind::group && f.group == id) return -EBUSY; // one opener per group
        return add({kind::group, id});
    }
    int close(int fd) {
        auto it = fds_.find(fd);
        if (it == fds_.end()) return -EBADF;
        if (it->second.what == kind::group) leave(it->second.group);
        if (it->second.what == kind::container) containers_.erase(fd);
        fds_.erase(it);
        ++closes;
        return 0;
    }
    int ioctl(int fd, unsigned long req, std::uintptr_t arg) {
        auto it = fds_.find(fd);
        if (it == fds_.end()) return -EBADF;
        return it->second.what == kind::group ? group_ioctl(it->second.group, req, arg) : container_ioctl(fd, req, arg);
    }

    std::size_t open_fds() const { return fds_.size(); }
    // The engine behind a container fd, once SET_IOMMU made one.
    rig* engine(int container_fd) {
        auto it = containers_.find(container_fd);
        return it == containers_.end() ? nullptr : it->second.engine.get();
    }

private:
    enum class kind { container, group };
    struct file {
        kind what;
        unsigned group;
    };
    struct container_state {
        std::set<unsigned> groups;
        std::unique_ptr<rig> engine;
    };

    int add(file f) {
        const int fd = next_fd_++;
        fds_.emplace(fd, f);
        if (f.what == kind::container) containers_[fd];
        return fd;
    }
    static int neg(const error& e) { return -static_cast<int>(e.code); }
    int container_of(unsigned id) const {
        for (const auto& [fd, c] : containers_)
            if (c.groups.count(id)) return fd;
        return -1;
    }
    void leave(unsigned id) {
        const int c = container_of(id);
        if (c < 0) return;
        auto& st = containers_.at(c);
        st.groups.erase(id);
        if (st.engine) {
            (void)st.engine->c.detach(id);
            if (st.groups.empty()) st.engine.reset(); // the last group takes the IOMMU with it
        }
    }

    int group_ioctl(unsigned id, unsigned long req, std::uintptr_t arg) {
        if (req == linux_vfio::group_get_status) {
            linux_vfio::group_status s{};
            std::memcpy(&s, reinterpret_cast<const void*>(arg), sizeof s);
            if (s.argsz < sizeof s) return -EINVAL;
            s.flags = (groups.at(id) ? linux_vfio::group_flag::viable : 0) |
                      (container_of(id) >= 0 ? linux_vfio::group_flag::container_set : 0);
            std::memcpy(reinterpret_cast<void*>(arg), &s, sizeof s);
            return 0;
        }
        if (req == linux_vfio::group_set_container) {
            int cfd = -1;
            std::memcpy(&cfd, reinterpret_cast<const void*>(arg), sizeof cfd);
            if (container_of(id) >= 0) return -EINVAL;
            if (!groups.at(id)) return -EPERM;
            auto c = containers_.find(cfd);
            if (c == containers_.end()) return -EBADF;
            if (c->second.engine)
                if (auto r = c->second.engine->c.attach(type1::group{.id = id}); !r) return neg(r.error());
            c->second.groups.insert(id);
            return 0;
        }
        if (req == linux_vfio::group_unset_container) {
            if (container_of(id) < 0) return -EINVAL;
            leave(id);
            return 0;
        }
        return -ENOTTY;
    }

    int container_ioctl(int fd, unsigned long req, std::uintptr_t arg) {
        auto& st = containers_.at(fd);
        if (req == type1::abi::set_iommu) {
            if (st.groups.empty() || st.engine) return st.engine ? -EBUSY : -EINVAL;
            const auto mode = type1::iommu_mode_of<K>(static_cast<std::uint32_t>(arg));
            if (!mode) return neg(mode.error());
            auto e = std::make_unique<rig>(*mode);
            for (unsigned g : st.groups)
                if (auto r = e->c.attach(type1::group{.id = g}); !r) return neg(r.error());
            st.engine = std::move(e);
            return 0;
        }
        if (!st.engine) {
            if (req == type1::abi::get_api_version) return type1::abi::api_version;
            if (req == type1::abi::check_extension)
                return type1::check_extension_unset<K>(static_cast<type1::abi::extension>(arg));
            return -EINVAL; // no IOMMU set yet
        }
        own_memory mem;
        std::span<std::byte> bytes;
        if (req != type1::abi::get_api_version && req != type1::abi::check_extension) {
            // The kernel copies each structure's first minsz bytes whatever argsz says (the
            // caller's memory), then more only as argsz allows.
            std::uint32_t argsz = 0;
            std::memcpy(&argsz, reinterpret_cast<const void*>(arg), sizeof argsz);
            const std::uint32_t minsz = req == type1::abi::iommu_get_info  ? type1::abi::info_minsz
                                        : req == type1::abi::iommu_map_dma ? type1::abi::dma_map_minsz
                                        : req == type1::abi::iommu_unmap_dma ? type1::abi::dma_unmap_minsz
                                                                             : type1::abi::dirty_bitmap_minsz;
            bytes = {reinterpret_cast<std::byte*>(arg), std::max(argsz, minsz)};
        }
        const auto r = type1::ioctl(st.engine->c, static_cast<std::uint32_t>(req), bytes, arg, mem);
        return r ? *r : neg(r.error());
    }

    std::map<int, file> fds_;
    std::map<int, container_state> containers_;
    int next_fd_ = 3;
};

} // namespace passthru::testing
