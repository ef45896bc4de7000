// errc, std::error_code interop and result<T> (DESIGN core/): the values are the Linux
// errnos a VMM compares an ioctl's errno with, so each is written out by hand.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <passthru/core/error.hpp>

#include "printers.hpp"

using passthru::errc;

// An error-condition enum, as std::errc is: it compares with error codes of any category.
static_assert(std::is_error_condition_enum_v<errc> && !std::is_error_code_enum_v<errc>);
static_assert(static_cast<int>(errc::einval) == 22);
static_assert(passthru::errno_name(errc::eoverflow) == "EOVERFLOW");
static_assert([] {
    constexpr passthru::result<int> r = passthru::fail(errc::enospc, "no dma entries left");
    return !r && r.error().code == errc::enospc && r.error().reason == "no dma entries left";
}());

TEST_CASE("DESIGN core/ errc: values and names are the Linux errnos") {
    struct row {
        errc e;
        int value;
        std::string_view name;
        int host; // <cerrno> on this (Linux) host, as a second witness
    };
    const row r = GENERATE(values<row>({
        {errc::eperm, 1, "EPERM", EPERM},
        {errc::enoent, 2, "ENOENT", ENOENT},
        {errc::eio, 5, "EIO", EIO},
        {errc::e2big, 7, "E2BIG", E2BIG},
        {errc::ebadf, 9, "EBADF", EBADF},
        {errc::enomem, 12, "ENOMEM", ENOMEM},
        {errc::eacces, 13, "EACCES", EACCES},
        {errc::efault, 14, "EFAULT", EFAULT},
        {errc::ebusy, 16, "EBUSY", EBUSY},
        {errc::eexist, 17, "EEXIST", EEXIST},
        {errc::enodev, 19, "ENODEV", ENODEV},
        {errc::einval, 22, "EINVAL", EINVAL},
        {errc::enotty, 25, "ENOTTY", ENOTTY},
        {errc::enospc, 28, "ENOSPC", ENOSPC},
        {errc::erange, 34, "ERANGE", ERANGE},
        {errc::eoverflow, 75, "EOVERFLOW", EOVERFLOW},
        {errc::emsgsize, 90, "EMSGSIZE", EMSGSIZE},
        {errc::eopnotsupp, 95, "EOPNOTSUPP", EOPNOTSUPP},
        {errc::eaddrinuse, 98, "EADDRINUSE", EADDRINUSE},
    }));
    INFO(r.name);
    CHECK(static_cast<int>(r.e) == r.value);
    CHECK(r.value == r.host);
    CHECK(passthru::errno_name(r.e) == r.name);
    // The strerror text after the name, as glibc words it on this host.
    CHECK(passthru::make_error_code(r.e).message() ==
          std::string(r.name) + ": " + std::strerror(r.host));
    CHECK(passthru::describe(r.e).text == std::strerror(r.host));
}

TEST_CASE("DESIGN core/ errc: an unknown value has a placeholder name") {
    CHECK(passthru::errno_name(static_cast<errc>(1234)) == "E?");
    CHECK(passthru::error_category().message(1234) == "E?: Unknown error");
}

TEST_CASE("DESIGN core/ errc: converts to std::error_code and compares with std::errc") {
    const std::error_code ec = passthru::make_error_code(errc::einval);
    CHECK(ec.value() == 22);
    CHECK(std::string_view(ec.category().name()) == "passthru");
    CHECK(ec == std::errc::invalid_argument);
    CHECK(ec != std::errc::no_such_file_or_directory);
    CHECK(ec == errc::einval);
    CHECK(ec != errc::eexist);
    CHECK(ec.message() == "EINVAL: Invalid argument");
    CHECK(ec); // a real error is truthy

    CHECK(passthru::make_error_code(errc::eperm) == std::errc::operation_not_permitted);
    CHECK(passthru::make_error_code(errc::enomem) == std::errc::not_enough_memory);
    CHECK(passthru::make_error_code(errc::eexist) == std::errc::file_exists);
    CHECK(passthru::make_error_code(errc::enodev) == std::errc::no_such_device);
    CHECK(passthru::make_error_code(errc::enospc) == std::errc::no_space_on_device);
    CHECK(passthru::make_error_code(errc::eoverflow) == std::errc::value_too_large);
    CHECK(passthru::make_error_code(errc::eopnotsupp) == std::errc::operation_not_supported);
    CHECK(passthru::make_error_code(errc::eaddrinuse) == std::errc::address_in_use);
    CHECK(passthru::make_error_code(errc::enotty) == std::errc::inappropriate_io_control_operation);
    CHECK(passthru::make_error_code(errc::ebusy) != std::errc::invalid_argument);
}

TEST_CASE("DESIGN core/ errc: error carries a code and a reason, and converts to error_code") {
    const passthru::error e{errc::eexist, "range already mapped"};
    CHECK(e.code == errc::eexist);
    CHECK(e.reason == "range already mapped");
    CHECK(e.error_code() == std::errc::file_exists);
    CHECK(e == passthru::error{errc::eexist, "range already mapped"});
    CHECK_FALSE(e == passthru::error{errc::einval, "range already mapped"});
}

TEST_CASE("DESIGN core/ errc: result<T> and fail carry the code and the reason") {
    const passthru::result<int> bad = passthru::fail(errc::enospc, "no dma entries left");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == errc::enospc);
    CHECK(bad.error().reason == "no dma entries left");
    CHECK(bad.error().error_code() == std::errc::no_space_on_device);

    const passthru::result<int> good = 42;
    REQUIRE(good.has_value());
    CHECK(*good == 42);

    const passthru::result<> ok{};
    CHECK(ok.has_value());
    const passthru::result<> refused = passthru::fail(errc::eperm, "unsafe interrupts");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == errc::eperm);
    CHECK(refused.error().reason == "unsafe interrupts");
}

TEST_CASE("DESIGN core/ errc: an errno from the kernel compares equal to the errc, both ways") {
    // What a VMM holds after a failed ioctl: errno in the generic or the system category.
    const std::error_code generic(EPERM, std::generic_category());
    const std::error_code system(EINVAL, std::system_category());
    CHECK(generic == errc::eperm);
    CHECK(errc::eperm == generic);
    CHECK(generic != errc::einval);
    CHECK(system == errc::einval);
    CHECK(errc::einval == system);
    CHECK(system != errc::eperm);
    CHECK(std::error_code(ENOSPC, std::generic_category()) == errc::enospc);
    CHECK(std::error_code(EOVERFLOW, std::system_category()) == errc::eoverflow);
    // And passthru's own codes compare with both.
    CHECK(passthru::make_error_code(errc::eexist) == errc::eexist);
    CHECK(passthru::make_error_code(errc::eexist) == std::errc::file_exists);
    CHECK(std::system_error(EBUSY, std::system_category()).code() == errc::ebusy);
}

TEST_CASE("DESIGN core/ errc: message() gives the name, the strerror text, the reason and the range") {
    const passthru::error plain{errc::eperm, "GICv2m provides no MSI isolation"};
    CHECK(passthru::message(plain) ==
          "EPERM: Operation not permitted: GICv2m provides no MSI isolation");
    const passthru::error ranged{errc::einval, "a direct reserved region covers the aperture",
                                 passthru::interval{0x1000, 0xFFFF'FFFF'FFFF'FFFF}};
    CHECK(passthru::message(ranged) == "EINVAL: Invalid argument: a direct reserved region "
                                       "covers the aperture [0x1000, 0xffffffffffffffff]");
    CHECK(passthru::message(passthru::error{errc::enomem, {}}) == "ENOMEM: Cannot allocate memory");
    CHECK(ranged != passthru::error{errc::einval, "a direct reserved region covers the aperture"});
}
