#pragma once
// A file descriptor the backend owns: closed through the same seam it was opened with.
#include <utility>

#include <passthru/linux/syscalls.hpp>

namespace passthru::linux_vfio {

template <Syscalls S>
class unique_fd {
public:
    unique_fd() = default;
    unique_fd(S& sys, int fd) noexcept : sys_(&sys), fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : sys_(o.sys_), fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            reset();
            sys_ = o.sys_;
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    S& sys() const noexcept { return *sys_; }
    void reset() noexcept {
        if (fd_ >= 0) sys_->close(fd_); // nothing to do about a failed close of our own fd
        fd_ = -1;
    }

private:
    S* sys_ = nullptr;
    int fd_ = -1;
};

} // namespace passthru::linux_vfio
