#pragma once
// Catch2 printers for the core vocabulary, so a failed CHECK shows "[0x1000, 0x1fff]"
// instead of "{?}". Shared by tests/unit/core and tests/conformance/core.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru::testing {
inline std::string hex(std::uint64_t v) {
    std::ostringstream os;
    os << "0x" << std::hex << v;
    return os.str();
}
} // namespace passthru::testing

namespace Catch {

template <class Tag>
struct StringMaker<passthru::address<Tag>> {
    static std::string convert(const passthru::address<Tag>& a) {
        return passthru::testing::hex(a.value);
    }
};

template <>
struct StringMaker<passthru::interval> {
    static std::string convert(const passthru::interval& i) {
        return "[" + passthru::testing::hex(i.first) + ", " + passthru::testing::hex(i.last) + "]";
    }
};

template <>
struct StringMaker<std::optional<passthru::interval>> {
    static std::string convert(const std::optional<passthru::interval>& i) {
        return i ? StringMaker<passthru::interval>::convert(*i) : "nullopt";
    }
};

template <>
struct StringMaker<passthru::page_run> {
    static std::string convert(const passthru::page_run& r) {
        return "{io " + passthru::testing::hex(r.io.value) + ", pa " +
               passthru::testing::hex(r.pa.value) + ", " + passthru::testing::hex(r.pgsize) +
               " x " + std::to_string(r.count) + "}";
    }
};

template <>
struct StringMaker<passthru::reserved_region> {
    static std::string convert(const passthru::reserved_region& r) {
        return "{" + StringMaker<passthru::interval>::convert(r.range) + " " +
               std::string(to_string(r.type)) + " prot " +
               std::to_string(static_cast<unsigned>(r.perm)) + "}";
    }
};

template <>
struct StringMaker<passthru::errc> {
    static std::string convert(passthru::errc e) {
        return std::string(passthru::errno_name(e)) + "(" + std::to_string(static_cast<int>(e)) +
               ")";
    }
};

} // namespace Catch
