#pragma once
// AMD-Vi v1 as text (PGTABLE §4): 0-based level names (L0 holds 4K pages, as §4 and
// generic_pt number them), the entry bits of §4.1 with NextLevel, and the device table
// entry's first quadword: Mode, root pointer and the other bits amd_v1_regs::dte0() sets.
#include <cstdint>
#include <ostream>
#include <string>

#include <passthru/pgtable/amd_v1.hpp>

#include "format_text.hpp"
#include "text.hpp"

namespace pgtable_setup {

template <passthru::pgtable::amd_v1_config C>
struct format_text<passthru::pgtable::amd_v1<C>> {
    using F = passthru::pgtable::amd_v1<C>;

    static std::string config() {
        auto flag = [](bool b) { return b ? "true" : "false"; };
        return "{.mode = " + std::to_string(C.mode) + ", .force_coherent = " +
               flag(C.force_coherent) + ", .dirty_tracking = " + flag(C.dirty_tracking) + "}";
    }
    static std::string level_name(unsigned level) { return "L" + std::to_string(level); }
    static std::string leaf_word(unsigned) { return "page"; }

    // §4.1: PR, D, NextLevel, FC, IR, IW. NL=7 leaves carry their size in the address.
    static std::string fields(passthru::pte_t pte, unsigned) {
        std::string out = set_bits(pte, {{0, "PR"}, {6, "D"}});
        out += " NL=" + std::to_string(F::next_level(pte));
        const std::string rest = set_bits(pte, {{60, "FC"}, {61, "IR"}, {62, "IW"}});
        return rest.empty() ? out : out + " " + rest;
    }

    static void geometry(std::ostream& out) {
        line(out, "", std::string("FC on every leaf: ") + (C.force_coherent ? "yes" : "no") +
                          "; the root never grows (Mode is fixed)");
    }

    static bool registers(std::ostream& out, passthru::phys_addr root) {
        using regs = passthru::pgtable::amd_v1_regs;
        const regs r = F::registers(root);
        const std::uint64_t dte0 = r.dte0();
        line(out, "registers", "device table entry, quadword 0");
        line(out, "  DTE0", word(dte0));
        const unsigned had = static_cast<unsigned>(dte0 >> 7 & 3);
        const unsigned mode = static_cast<unsigned>(dte0 >> 9 & 7);
        field(out, "V, TV", std::to_string(dte0 & 1) + ", " + std::to_string(dte0 >> 1 & 1),
              "entry valid, translation valid");
        field(out, "HAD", std::to_string(had),
              had ? "host access and dirty bits recorded" : "host dirty tracking off");
        field(out, "Mode", std::to_string(mode), std::to_string(mode) + " levels");
        field(out, "root", report::hex(dte0 & regs::dte_root_mask), "root table PA, bits [51:12]");
        field(out, "IR, IW", std::to_string(dte0 >> 61 & 1) + ", " + std::to_string(dte0 >> 62 & 1),
              "reads and writes allowed; leaves decide");
        return (dte0 & regs::dte_root_mask) == root.value && mode == C.mode &&
               mode == F::top_level + 1 && (had != 0) == C.dirty_tracking;
    }
};

} // namespace pgtable_setup
