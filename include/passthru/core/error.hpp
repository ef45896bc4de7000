#pragma once
// Errors: the Linux errno the kernel would return, plus a reason a person can read.
//
// `errc` values are the Linux errno numbers (asm-generic/errno-base.h, errno.h), so a
// VMM can hand them straight back to its guest or compare with what an ioctl returned.
// `error` carries a static reason string (string_view into a literal: constexpr and
// allocation-free on hot paths) and, where the reason is about one address range (the
// reserved region that leaves no IOVA, the mapping in the way), that range.
// `result<T>` is tl::expected<T, error>; success is the expected's value, never a code.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <tl/expected.hpp>

#include <passthru/core/interval.hpp>

namespace passthru {

enum class errc : int {
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
    enotty = 25,
    enospc = 28,
    erange = 34,
    eoverflow = 75,
    emsgsize = 90,
    eopnotsupp = 95,
    eaddrinuse = 98,
};

struct errno_info {
    std::string_view name; // the kernel's symbolic name, "EINVAL"
    std::string_view text; // what strerror() says on Linux (glibc), "Invalid argument"
};

constexpr errno_info describe(errc e) noexcept {
    switch (e) {
    case errc::eperm: return {"EPERM", "Operation not permitted"};
    case errc::enoent: return {"ENOENT", "No such file or directory"};
    case errc::eio: return {"EIO", "Input/output error"};
    case errc::e2big: return {"E2BIG", "Argument list too long"};
    case errc::ebadf: return {"EBADF", "Bad file descriptor"};
    case errc::enomem: return {"ENOMEM", "Cannot allocate memory"};
    case errc::eacces: return {"EACCES", "Permission denied"};
    case errc::efault: return {"EFAULT", "Bad address"};
    case errc::ebusy: return {"EBUSY", "Device or resource busy"};
    case errc::eexist: return {"EEXIST", "File exists"};
    case errc::enodev: return {"ENODEV", "No such device"};
    case errc::einval: return {"EINVAL", "Invalid argument"};
    case errc::enotty: return {"ENOTTY", "Inappropriate ioctl for device"};
    case errc::enospc: return {"ENOSPC", "No space left on device"};
    case errc::erange: return {"ERANGE", "Numerical result out of range"};
    case errc::eoverflow: return {"EOVERFLOW", "Value too large for defined data type"};
    case errc::emsgsize: return {"EMSGSIZE", "Message too long"};
    case errc::eopnotsupp: return {"EOPNOTSUPP", "Operation not supported"};
    case errc::eaddrinuse: return {"EADDRINUSE", "Address already in use"};
    }
    return {"E?", "Unknown error"};
}

// The kernel's symbolic name ("EINVAL"), for messages and test output.
constexpr std::string_view errno_name(errc e) noexcept { return describe(e).name; }

// std::error_code interoperability. `errc` is an error-condition enum, as std::errc is:
// it compares equal, both ways, to any error_code that means the same errno, whether
// passthru made it (make_error_code, the "passthru" category), an ioctl's errno was
// wrapped in the generic category, or in the system category as std::system_error does.
class error_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "passthru"; }
    // "EINVAL: Invalid argument"
    std::string message(int ev) const override {
        const errno_info i = describe(static_cast<errc>(ev));
        return std::string(i.name) + ": " + std::string(i.text);
    }
    // passthru::errc::x == std::errc::x, for a passthru error_code.
    bool equivalent(int code, const std::error_condition& cond) const noexcept override {
        return cond.category() == *this ? cond.value() == code
                                        : cond == std::error_condition(code, std::generic_category());
    }
    // Any error_code that maps to the generic errno `cond` is equivalent to errc{cond}.
    bool equivalent(const std::error_code& code, int cond) const noexcept override {
        return code.category() == *this
                   ? code.value() == cond
                   : code.default_error_condition() == std::error_condition(cond, std::generic_category());
    }
};

inline const std::error_category& error_category() noexcept {
    static const error_category_impl instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}
inline std::error_condition make_error_condition(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

struct error {
    errc code = errc::einval;
    std::string_view reason;       // points at a string literal
    std::optional<interval> range; // the address range the reason is about, if one is

    constexpr error() = default;
    constexpr error(errc c, std::string_view why, std::optional<interval> where = std::nullopt) noexcept
        : code(c), reason(why), range(where) {}

    constexpr bool operator==(const error&) const = default;
    std::error_code error_code() const noexcept { return make_error_code(code); }
};

// "EINVAL: Invalid argument: <reason> [0x0, 0xfff]", for logs and tool output.
inline std::string message(const error& e) {
    std::string out = make_error_code(e.code).message();
    if (!e.reason.empty()) out += ": " + std::string(e.reason);
    if (e.range) {
        auto hex = [](std::uint64_t v) {
            constexpr char digits[] = "0123456789abcdef";
            std::string s;
            do s.insert(s.begin(), digits[v & 0xF]); while (v >>= 4);
            return "0x" + s;
        };
        out += " [" + hex(e.range->first) + ", " + hex(e.range->last) + "]";
    }
    return out;
}

template <class T = void>
using result = tl::expected<T, error>;

constexpr tl::unexpected<error> fail(errc code, std::string_view reason) noexcept {
    return tl::unexpected<error>(error{code, reason});
}
constexpr tl::unexpected<error> fail(errc code, std::string_view reason, interval range) noexcept {
    return tl::unexpected<error>(error{code, reason, range});
}

} // namespace passthru

template <>
struct std::is_error_condition_enum<passthru::errc> : std::true_type {};
