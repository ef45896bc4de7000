#pragma once
// How the report writes passthru's values as text: hex addresses, inclusive ranges in
// SEMANTICS notation ("[0x0, 0xFEDFFFFF]"), byte sizes ("4K", "512G"), page-size
// bitmaps ("4K|2M|1G"), verdicts and MSI setups. No printf: every value is built
// digit by digit, so there is no format string whose types can drift.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <passthru/core/interval.hpp>
#include <passthru/core/interval_set.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/policy/msi_strategy.hpp>
#include <passthru/policy/verdict.hpp>

namespace report {

// "0x" and upper-case digits without leading zeros, as SEMANTICS writes addresses.
inline std::string hex(std::uint64_t v) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out;
    do {
        out.insert(out.begin(), digits[v & 0xF]);
        v >>= 4;
    } while (v != 0);
    return "0x" + out;
}

// An inclusive range, "[0x8000000, 0x80FFFFF]" (SEMANTICS notation).
inline std::string range(const passthru::interval& i) {
    return "[" + hex(i.first) + ", " + hex(i.last) + "]";
}

// One string per range: the pieces a table keeps whole when it wraps a range list.
inline std::vector<std::string> range_atoms(const passthru::interval_list& set) {
    std::vector<std::string> out;
    for (const passthru::interval& i : set) out.push_back(range(i));
    return out;
}

// A range list on one line, ranges separated by a space; "none" when empty.
inline std::string ranges(const passthru::interval_list& set) {
    std::string out;
    for (const std::string& r : range_atoms(set)) out += (out.empty() ? "" : " ") + r;
    return out.empty() ? "none" : out;
}

// A byte count in the largest binary unit that divides it: 4096 -> "4K", 2^39 -> "512G",
// 2^63 -> "8E". Page sizes are powers of two, so this is always exact.
inline std::string byte_size(std::uint64_t bytes) {
    constexpr std::string_view units = "KMGTPE";
    if (bytes == 0) return "0";
    std::size_t unit = 0; // 0 = bytes, 1 = K, ...
    while (unit < units.size() && (bytes & 0x3FF) == 0) {
        bytes >>= 10;
        ++unit;
    }
    return std::to_string(bytes) + (unit == 0 ? std::string("B") : std::string(1, units[unit - 1]));
}

// A page-size bitmap, compactly:
//   sizes that are not consecutive powers of two are listed:  "4K|2M|1G", "16K|32M"
//   three or more consecutive powers of two are a run:        "4K..1G" (every power of two)
//   a long run with one or two holes names the holes:         "4K..8E except 512G" (AMD-Vi v1,
//                                                             SEMANTICS §I)
inline std::string pgsizes(passthru::pgsize_bitmap b) {
    if (b.empty()) return "none";
    const unsigned lo = static_cast<unsigned>(std::countr_zero(b.bits));
    const unsigned hi = 63u - static_cast<unsigned>(std::countl_zero(b.bits));
    const unsigned set = static_cast<unsigned>(std::popcount(b.bits));
    const unsigned holes = hi - lo + 1 - set;
    auto page = [](unsigned bit) { return byte_size(std::uint64_t{1} << bit); };

    if (set >= 4 && holes <= 2) {
        std::string out = page(lo) + ".." + page(hi);
        std::string sep = " except ";
        for (unsigned bit = lo; bit <= hi; ++bit) {
            if (b.bits >> bit & 1) continue;
            out += sep + page(bit);
            sep = ", ";
        }
        return out;
    }

    std::string out;
    for (unsigned bit = lo; bit <= hi;) {
        if (!(b.bits >> bit & 1)) {
            ++bit;
            continue;
        }
        unsigned end = bit; // last bit of this run of consecutive sizes
        while (end < hi && (b.bits >> (end + 1) & 1)) ++end;
        if (!out.empty()) out += "|";
        if (end - bit >= 2) {
            out += page(bit) + ".." + page(end);
        } else {
            out += page(bit);
            if (end != bit) out += "|" + page(end);
        }
        bit = end + 1;
    }
    return out;
}

// A verdict in a compact column: did the rule find MSIs isolated?
inline std::string_view verdict_word(passthru::msi_verdict v) {
    switch (v) {
    case passthru::msi_verdict::isolated: return "yes";
    case passthru::msi_verdict::not_isolated: return "no";
    case passthru::msi_verdict::runtime: return "at attach";
    }
    return "?";
}

// The MSI setup type1 would choose (SEMANTICS A12, G.4): "SW_MSI cookie at 0x8000000".
inline std::string msi_setup(const passthru::msi_setup& m) {
    std::string out(passthru::to_string(m.strategy));
    if (m.cookie_base) out += " at " + hex(*m.cookie_base);
    return out;
}

} // namespace report
