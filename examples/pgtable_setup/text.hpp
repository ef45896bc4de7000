#pragma once
// How pgtable_setup writes descriptors and register fields as text. Addresses and sizes
// come from report/format.hpp (hex without leading zeros, "2M"); this adds what a page
// table dump needs on top: full 64-bit words, bit ranges, mapping attributes, and
// two-column "label  value" lines.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/prot.hpp>

#include "../report/format.hpp"

namespace pgtable_setup {

// A descriptor or register as the hardware holds it: "0x" and all 16 digits
// (0x0000000080000F45), the form PGTABLE's worked examples use.
inline std::string word(std::uint64_t v) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    std::string out = "0x0000000000000000";
    for (std::size_t i = 17; i >= 2; --i, v >>= 4) out[i] = digits[v & 0xF];
    return out;
}

// An inclusive bit range, "[47:39]".
inline std::string bits(unsigned hi, unsigned lo) {
    return "[" + std::to_string(hi) + ":" + std::to_string(lo) + "]";
}

// Mapping attributes in PGTABLE's spelling: "RW|CACHE", "READ|NOEXEC".
inline std::string prot_text(passthru::prot p) {
    using passthru::prot;
    std::string out = passthru::has(p, prot::read | prot::write) ? "RW"
                      : passthru::has(p, prot::read)            ? "READ"
                      : passthru::has(p, prot::write)           ? "WRITE"
                                                                : "";
    auto add = [&](prot flag, std::string_view name) {
        if (!passthru::has(p, flag)) return;
        if (!out.empty()) out += '|';
        out += name;
    };
    add(prot::cache, "CACHE");
    add(prot::noexec, "NOEXEC");
    add(prot::mmio, "MMIO");
    add(prot::priv, "PRIV");
    return out.empty() ? "none" : out;
}

// Names of the set bits of a descriptor, space-separated: fields({{bit, "AF"}, ...}).
struct named_bit {
    unsigned bit;
    std::string_view name;
};
inline std::string set_bits(passthru::pte_t pte, std::initializer_list<named_bit> names) {
    std::string out;
    for (const named_bit& b : names)
        if (pte >> b.bit & 1) out += (out.empty() ? "" : " ") + std::string(b.name);
    return out;
}

// "label      text": the label column is 11 wide; an empty label continues the item above.
// Text longer than the 80-column layout allows is wrapped after the last ", " or "{" that
// fits (C++ initialisers and lists).
inline void line(std::ostream& out, std::string_view label, std::string text) {
    constexpr std::size_t label_width = 11, text_width = 80 - label_width;
    std::string l(label);
    if (l.size() < label_width) l.resize(label_width, ' ');
    while (text.size() > text_width) {
        const std::size_t comma = text.rfind(", ", text_width - 2);
        const std::size_t brace = text.rfind('{', text_width - 1);
        std::size_t keep = 0, skip = 0; // characters kept on this line, then dropped
        if (comma != std::string::npos) keep = comma + 1, skip = 1;
        if (brace != std::string::npos && brace + 1 > keep) keep = brace + 1, skip = 0;
        if (keep == 0) break;
        out << l << text.substr(0, keep) << '\n';
        text.erase(0, keep + skip);
        l.assign(label_width, ' ');
    }
    out << l << text << '\n';
}

// A byte count in KiB, "8 KiB", or bytes when smaller.
inline std::string kib(std::uint64_t bytes) {
    return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB" : std::to_string(bytes) + " B";
}

// A register byte, two digits: "0x04".
inline std::string byte(unsigned v) {
    constexpr std::string_view digits = "0123456789ABCDEF";
    return std::string("0x") + digits[v >> 4 & 0xF] + digits[v & 0xF];
}

// "    NAME   value     meaning": one field of the register above (indent 4), or a
// register of its own (indent 2).
inline void field(std::ostream& out, std::string_view name, const std::string& value,
                  std::string_view meaning, std::size_t indent = 4) {
    std::string n = std::string(indent, ' ') + std::string(name);
    n.resize(11, ' ');
    std::string v = value;
    if (v.size() < 20) v.resize(20, ' ');
    out << n << v << meaning << '\n';
}

} // namespace pgtable_setup
