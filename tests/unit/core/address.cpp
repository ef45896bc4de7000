// Strong address types (DESIGN core/): an iova and a phys_addr never mix, offsets keep
// the kind, and the distance between two addresses of one kind is a plain byte count.
// What must not compile is also checked by tests/compile_fail/{iova_minus_phys,...}.cpp.
#include <catch2/catch.hpp>

#include <concepts>
#include <cstdint>
#include <type_traits>

#include <passthru/core/address.hpp>

using passthru::iova;
using passthru::phys_addr;

namespace {

// Probes written as concepts so an ill-formed expression reads as `false`.
template <class A, class B>
concept subtractable = requires(A a, B b) { a - b; };
template <class A, class B>
concept addable = requires(A a, B b) { a + b; };
template <class A, class B>
concept eq_comparable = requires(A a, B b) { a == b; };
template <class A, class B>
concept lt_comparable = requires(A a, B b) { a < b; };

} // namespace

// Distinct kinds, no implicit way in or out.
static_assert(!std::is_same_v<iova, phys_addr>);
static_assert(!std::is_convertible_v<iova, phys_addr>);
static_assert(!std::is_convertible_v<phys_addr, iova>);
static_assert(!std::is_constructible_v<phys_addr, iova>);
static_assert(!std::is_convertible_v<std::uint64_t, iova>);
static_assert(!std::is_convertible_v<int, phys_addr>);
static_assert(!std::is_convertible_v<iova, std::uint64_t>);
static_assert(std::is_constructible_v<iova, std::uint64_t>); // explicit only
static_assert(std::is_trivially_copyable_v<iova> && sizeof(iova) == 8);

// Cross-kind arithmetic and comparison do not exist.
static_assert(!subtractable<iova, phys_addr>);
static_assert(!subtractable<phys_addr, iova>);
static_assert(!addable<iova, phys_addr>);
static_assert(!addable<iova, iova>); // adding two addresses is meaningless
static_assert(!eq_comparable<iova, phys_addr>);
static_assert(!lt_comparable<phys_addr, iova>);
static_assert(!eq_comparable<iova, std::uint64_t>);

// Same-kind arithmetic keeps the kind; the distance is a byte count.
static_assert(std::same_as<decltype(iova{} + std::uint64_t{1}), iova>);
static_assert(std::same_as<decltype(phys_addr{} - std::uint64_t{1}), phys_addr>);
static_assert(std::same_as<decltype(iova{} - iova{}), std::uint64_t>);
static_assert(std::same_as<decltype(phys_addr{} - phys_addr{}), std::uint64_t>);
static_assert(iova{0x1000} + 0x2000 == iova{0x3000});
static_assert(iova{0x5000} - iova{0x1000} == 0x4000);
static_assert(phys_addr{0x3000} - 0x1000 == phys_addr{0x2000});
static_assert(iova{0x1000} < iova{0x2000});

TEST_CASE("DESIGN core/ address: a default address is 0 and the raw value round-trips") {
    CHECK(iova{}.value == 0);
    CHECK(phys_addr{}.value == 0);
    CHECK(iova{0xFEE0'0000}.value == 0xFEE0'0000);
    CHECK(phys_addr{0xFFFF'FFFF'FFFF'FFFF}.value == 0xFFFF'FFFF'FFFF'FFFF);
}

TEST_CASE("DESIGN core/ address: adding or subtracting an offset keeps the address kind") {
    const iova io{0x20'0000};
    const phys_addr pa{0x40'0000};
    CHECK((io + 0x1000).value == 0x20'1000);
    CHECK((io - 0x1000).value == 0x1F'F000);
    CHECK((pa + 0x20'0000).value == 0x60'0000);
    CHECK((pa - 0x40'0000).value == 0);

    iova walk{0x1000};
    walk += 0x1000;
    walk += 0x2000;
    CHECK(walk == iova{0x4000});
}

TEST_CASE("DESIGN core/ address: the distance between two addresses of one kind is a byte count") {
    CHECK(iova{0x40'0000} - iova{0x1F'F000} == 0x20'1000);
    CHECK(phys_addr{0x1'0000'0000} - phys_addr{0xFFFF'F000} == 0x1000);
    CHECK(iova{0x1234} - iova{0x1234} == 0);
    // The whole space minus one byte: no sign, no overflow.
    CHECK(iova{0xFFFF'FFFF'FFFF'FFFF} - iova{0} == 0xFFFF'FFFF'FFFF'FFFF);
}

TEST_CASE("DESIGN core/ address: addresses of one kind are totally ordered by value") {
    const iova lo{0x1000}, hi{0xFFFF'FFFF'FFFF'F000};
    CHECK(lo < hi);
    CHECK(hi > lo);
    CHECK(lo <= iova{0x1000});
    CHECK(lo >= iova{0x1000});
    CHECK(lo != hi);
    CHECK(lo == iova{0x1000});
    CHECK((lo <=> hi) == std::strong_ordering::less);
    CHECK((phys_addr{7} <=> phys_addr{7}) == std::strong_ordering::equal);
    CHECK((phys_addr{8} <=> phys_addr{7}) == std::strong_ordering::greater);
}
