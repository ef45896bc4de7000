#pragma once
// The seam between passthru and the running kernel: every open, close and ioctl the
// backend makes goes through a `Syscalls` value, so a test double (or a recorder) can
// stand where the kernel stands.
//   s.open(path, flags) -> int     a new fd, or -errno
//   s.close(fd)         -> int     0, or -errno
//   s.ioctl(fd, request, arg) -> int
//                                  the ioctl's non-negative result, or -errno; `arg` is
//                                  the integer argument or the address of the structure
// `real_syscalls` makes the system calls.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <concepts>
#include <cstdint>
#include <string_view>

#include <passthru/core/error.hpp>

namespace passthru::linux_vfio {

template <class S>
concept Syscalls = requires(S& s, const char* path, int fd, unsigned long request, std::uintptr_t arg) {
    { s.open(path, fd) } -> std::same_as<int>;
    { s.close(fd) } -> std::same_as<int>;
    { s.ioctl(fd, request, arg) } -> std::same_as<int>;
};

struct real_syscalls {
    int open(const char* path, int flags) const noexcept {
        const int fd = ::open(path, flags | O_CLOEXEC);
        return fd >= 0 ? fd : -errno;
    }
    int close(int fd) const noexcept { return ::close(fd) == 0 ? 0 : -errno; }
    int ioctl(int fd, unsigned long request, std::uintptr_t arg) const noexcept {
        const int r = ::ioctl(fd, request, arg);
        return r >= 0 ? r : -errno;
    }
};
static_assert(Syscalls<real_syscalls>);

// A negative syscall result as passthru's error: the errno as it came (errc mirrors the
// kernel's numbers, including ones it does not name), and the call that returned it.
inline tl::unexpected<error> syscall_error(int negative_errno, std::string_view call) noexcept {
    return tl::unexpected(error{static_cast<errc>(-negative_errno), call});
}

} // namespace passthru::linux_vfio
