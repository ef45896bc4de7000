#pragma once
// Errors: the Linux errno the kernel would return, plus a reason a person can read.
//
// `errc` values are the Linux errno numbers (asm-generic/errno-base.h, errno.h), so a
// VMM can hand them straight back to its guest or compare with what an ioctl returned.
// `error` carries a static reason string (string_view into a literal: constexpr and
// allocation-free on hot paths). `result<T>` is tl::expected<T, error>.
#include <string>
#include <string_view>
#include <system_error>

#include <tl/expected.hpp>

namespace passthru {

enum class errc : int {
    ok = 0,
    eperm = 1,
    enoent = 2,
    eio = 5,
    e2big = 7,
    ebadf = 9,
    enomem = 12,
    eacces = 13,
    efault = 14,
    ebusy = 16,
    eexist = 17,
    enodev = 19,
    einval = 22,
    enospc = 28,
    erange = 34,
    enotty = 25,
    emsgsize = 90,
    eopnotsupp = 95,
    eaddrinuse = 98,
    eoverflow = 75,
};

// The kernel's symbolic name ("EINVAL"), for messages and test output.
constexpr std::string_view errno_name(errc e) noexcept {
    switch (e) {
    case errc::ok: return "OK";
    case errc::eperm: return "EPERM";
    case errc::enoent: return "ENOENT";
    case errc::eio: return "EIO";
    case errc::e2big: return "E2BIG";
    case errc::ebadf: return "EBADF";
    case errc::enomem: return "ENOMEM";
    case errc::eacces: return "EACCES";
    case errc::efault: return "EFAULT";
    case errc::ebusy: return "EBUSY";
    case errc::eexist: return "EEXIST";
    case errc::enodev: return "ENODEV";
    case errc::einval: return "EINVAL";
    case errc::enospc: return "ENOSPC";
    case errc::erange: return "ERANGE";
    case errc::enotty: return "ENOTTY";
    case errc::emsgsize: return "EMSGSIZE";
    case errc::eopnotsupp: return "EOPNOTSUPP";
    case errc::eaddrinuse: return "EADDRINUSE";
    case errc::eoverflow: return "EOVERFLOW";
    }
    return "E?";
}

// std::error_code interoperability: a passthru errc converts to an error_code in the
// passthru category, which compares equal to the matching std::errc on Linux.
class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "passthru"; }
    std::string message(int ev) const override {
        return std::string(errno_name(static_cast<errc>(ev)));
    }
    bool equivalent(int code, const std::error_condition& cond) const noexcept override {
        return cond.category() == std::generic_category() && cond.value() == code;
    }
};

inline const std::error_category& error_category() noexcept {
    static const error_category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

struct error {
    errc code = errc::einval;
    std::string_view reason; // points at a string literal

    constexpr bool operator==(const error&) const = default;
    std::error_code error_code() const noexcept { return make_error_code(code); }
};

template <class T = void>
using result = tl::expected<T, error>;

constexpr tl::unexpected<error> fail(errc code, std::string_view reason) noexcept {
    return tl::unexpected<error>(error{code, reason});
}

} // namespace passthru

template <>
struct std::is_error_code_enum<passthru::errc> : std::true_type {};
