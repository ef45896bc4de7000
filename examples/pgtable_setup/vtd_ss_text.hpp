#pragma once
// Intel VT-d second stage as text (PGTABLE §3): the entry names of §3.1 (PTE, PDE, PDPE,
// PML4E, PML5E), the entry bits of §3.2, and what a context or PASID entry needs: the
// root pointer, the AW field and whether SSADE must be on (§3.1, §8).
#include <ostream>
#include <string>

#include <passthru/pgtable/vtd_ss.hpp>

#include "format_text.hpp"
#include "text.hpp"

namespace pgtable_setup {

template <passthru::pgtable::vtd_ss_config C>
struct format_text<passthru::pgtable::vtd_ss<C>> {
    using F = passthru::pgtable::vtd_ss<C>;

    static std::string config() {
        auto flag = [](bool b) { return b ? "true" : "false"; };
        return "{.levels = " + std::to_string(C.levels) +
               ", .superpage_levels = " + std::to_string(C.superpage_levels) +
               ", .force_snoop = " + flag(C.force_snoop) +
               ", .dirty_tracking = " + flag(C.dirty_tracking) +
               ", .haw = " + std::to_string(C.haw) + "}";
    }
    static std::string level_name(unsigned level) {
        constexpr const char* names[] = {"PTE", "PDE", "PDPE", "PML4E", "PML5E"};
        return level < 5 ? names[level] : "?";
    }
    static std::string leaf_word(unsigned level) { return level == 0 ? "page" : "superpage"; }

    // §3.2: R, W, PS, A, D, SNP. Tables are PA | R | W.
    static std::string fields(passthru::pte_t pte, unsigned) {
        return set_bits(pte, {{0, "R"}, {1, "W"}, {7, "PS"}, {8, "A"}, {9, "D"}, {11, "SNP"}});
    }

    static void geometry(std::ostream& out) {
        line(out, "", std::string("SNP on every leaf: ") + (C.force_snoop ? "yes" : "no") +
                          "; superpages: " +
                          (C.superpage_levels == 0   ? "none"
                           : C.superpage_levels == 1 ? "2M"
                                                     : "2M and 1G"));
    }

    static bool registers(std::ostream& out, passthru::phys_addr root) {
        const passthru::pgtable::vtd_ss_regs r = F::registers(root);
        line(out, "registers", "context entry (legacy) or PASID entry (scalable mode)");
        line(out, "  SLPTPTR", word(r.slptptr.value) + "  root table PA");
        field(out, "AW", std::to_string(r.aw),
              std::to_string(30 + 9 * r.aw) + "-bit, " + std::to_string(r.aw + 2) +
                  " levels (30 + 9*AW)",
              2);
        field(out, "SSADE", r.ssade ? "1" : "0",
              r.ssade ? "on: the IOMMU sets A and D (bits 8, 9)" : "off: no dirty tracking", 2);
        return r.slptptr == root && 30 + 9 * r.aw == F::va_bits && r.aw + 2 == C.levels &&
               r.ssade == C.dirty_tracking;
    }
};

} // namespace pgtable_setup
