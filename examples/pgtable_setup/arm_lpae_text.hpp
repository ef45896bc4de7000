#pragma once
// ARM LPAE as text (PGTABLE §1): architectural level names (our level 3 - L), the
// descriptor bits of §1.4-§1.6, and the stage-1 TTBR/TCR/MAIR or stage-2 VTTBR/VTCR
// values of §1.7, each field decoded from the register word the driver writes.
#include <cstdint>
#include <ostream>
#include <string>

#include <passthru/pgtable/arm_lpae.hpp>

#include "format_text.hpp"
#include "text.hpp"

namespace pgtable_setup {

namespace arm_text {

inline std::string granule(unsigned tg) { // TG0 (§1.7)
    return tg == 0 ? "4K granule" : tg == 1 ? "64K granule" : tg == 2 ? "16K granule" : "?";
}
inline std::string output_bits(unsigned ps) { // IPS / PS (§1.7)
    constexpr unsigned oas[] = {32, 36, 40, 42, 44, 48, 52};
    return ps < 7 ? std::to_string(oas[ps]) + "-bit output addresses" : "?";
}
inline std::string cacheability(unsigned rgn) {
    return rgn == 0 ? "non-cacheable" : rgn == 1 ? "write-back write-allocate" : "?";
}
inline std::string shareability(unsigned sh) {
    return sh == 3 ? "inner shareable" : sh == 2 ? "outer shareable" : sh == 0 ? "non-shareable"
                                                                               : "?";
}
inline std::string mair_attr(unsigned byte) { // the four attributes Linux programs (§1.5)
    switch (byte) {
    case 0x44: return "Normal non-cacheable (default)";
    case 0xFF: return "Normal write-back RW-allocate (CACHE)";
    case 0x04: return "Device-nGnRE (MMIO)";
    case 0xF4: return "inner non-cacheable, outer WB RWA";
    }
    return "?";
}
inline unsigned get(std::uint64_t reg, unsigned lo, unsigned width) {
    return static_cast<unsigned>(reg >> lo & ((std::uint64_t{1} << width) - 1));
}

// TCR / VTCR fields shared by both stages, decoded from the word (positions per
// arm_lpae.hpp: T0SZ [5:0], IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14]).
template <class Regs>
bool common_fields(std::ostream& out, std::uint64_t reg, const Regs& r, unsigned ias) {
    const unsigned tsz = get(reg, 0, 6), irgn = get(reg, 8, 2), orgn = get(reg, 10, 2),
                   sh = get(reg, 12, 2), tg = get(reg, 14, 2);
    field(out, "T0SZ", std::to_string(tsz), "64 - IAS " + std::to_string(ias));
    field(out, "IRGN0", std::to_string(irgn), "walks: inner " + cacheability(irgn));
    field(out, "ORGN0", std::to_string(orgn), "walks: outer " + cacheability(orgn));
    field(out, "SH0", std::to_string(sh), "walks: " + shareability(sh));
    field(out, "TG0", std::to_string(tg), granule(tg));
    return tsz == r.tsz && tsz == 64 - ias && irgn == r.irgn && orgn == r.orgn && sh == r.sh &&
           tg == r.tg;
}

} // namespace arm_text

template <passthru::pgtable::arm_lpae_config C>
struct format_text<passthru::pgtable::arm_lpae<C>> {
    using F = passthru::pgtable::arm_lpae<C>;

    static std::string config() {
        using namespace passthru::pgtable;
        std::string q;
        auto quirk = [&](bool on, const char* name) {
            if (on) q += std::string(q.empty() ? "" : ", ") + "." + name + " = true";
        };
        quirk(C.quirks.ns, "ns");
        quirk(C.quirks.hd, "hd");
        quirk(C.quirks.s2fwb, "s2fwb");
        quirk(C.quirks.outer_wbwa, "outer_wbwa");
        return std::string("{.stage = ") + (C.stage == arm_stage::s1 ? "s1" : "s2") +
               ", .granule = " + std::to_string(C.granule) + ", .ias = " + std::to_string(C.ias) +
               ", .oas = " + std::to_string(C.oas) +
               ", .coherent_walk = " + (C.coherent_walk ? "true" : "false") + ", .quirks = {" + q +
               "}, .s2_concat = " +
               (C.s2_concat == arm_s2_concat::when_mandatory ? "when_mandatory" : "up_to_16") + "}";
    }
    static std::string level_name(unsigned level) { return "L" + std::to_string(3 - level); }
    static std::string leaf_word(unsigned level) { return level == 0 ? "page" : "block"; }

    static std::string fields(passthru::pte_t pte, unsigned level) {
        namespace b = passthru::pgtable::arm_pte;
        if (F::classify(pte, level) == passthru::pte_kind::table) // §1.4
            return set_bits(pte, {{55, "SW_SYNC"}, {63, "NSTable"}});
        const unsigned sh = static_cast<unsigned>((pte & b::sh_mask) >> 8);
        std::string out;
        if constexpr (F::s1) { // §1.5
            out = "AttrIndx=" + std::to_string((pte & b::attrindx_mask) >> 2) + " " +
                  set_bits(pte, {{5, "NS"}, {6, "AP[1]"}, {7, "AP[2]"}});
        } else { // §1.6
            const unsigned s2ap = static_cast<unsigned>(pte >> 6 & 3);
            out = "MemAttr=" + report::hex((pte & b::memattr_mask) >> 2) + " S2AP=" +
                  (s2ap == 3 ? "RW" : s2ap == 2 ? "W" : s2ap == 1 ? "R" : "none");
        }
        out += std::string(" SH=") + (sh == 3 ? "IS" : sh == 2 ? "OS" : "NS") + " " +
               set_bits(pte, {{10, "AF"}, {11, "nG"}, {51, "DBM"}, {53, "PXN"}, {54, "XN"}});
        return out;
    }

    static void geometry(std::ostream& out) {
        constexpr auto g = F::geometry;
        line(out, "", "walk starts at L" + std::to_string(g.start_level) + "; " +
                          std::to_string(g.bpl) + " index bits per table");
        if (g.concatenated)
            line(out, "", "root = " + std::to_string(1u << (g.pgd_bits - g.bpl)) +
                              " concatenated L" + std::to_string(g.start_level) + " tables of " +
                              std::to_string(1u << g.bpl) + " slots");
    }

    static bool registers(std::ostream& out, passthru::phys_addr root) {
        const auto r = F::registers(root);
        if constexpr (F::s1) {
            line(out, "registers", "stage 1: TTBR0, TCR (TCR_EL1 layout), MAIR");
            line(out, "  TTBR0", word(r.ttbr) + "  root table PA");
            line(out, "  TCR", word(r.tcr));
            bool ok = arm_text::common_fields(out, r.tcr, r, C.ias);
            const unsigned ips = arm_text::get(r.tcr, 32, 3);
            field(out, "IPS", std::to_string(ips), arm_text::output_bits(ips));
            line(out, "  MAIR", word(r.mair));
            for (unsigned i = 0; i < 4; ++i) {
                const unsigned attr = arm_text::get(r.mair, 8 * i, 8);
                field(out, "attr" + std::to_string(i), byte(attr), arm_text::mair_attr(attr));
            }
            return ok && ips == r.ips && r.ttbr == root.value;
        } else {
            line(out, "registers", "stage 2: VTTBR, VTCR (VTCR_EL2 layout)");
            line(out, "  VTTBR", word(r.vttbr) + "  root table PA");
            line(out, "  VTCR", word(r.vtcr));
            bool ok = arm_text::common_fields(out, r.vtcr, r, C.ias);
            // SL0 = ~(start level + 1 for 4K) & 3 (§1.7), so the start level is its inverse.
            const unsigned sl0 = arm_text::get(r.vtcr, 6, 2);
            const unsigned start = (~sl0 & 3) - (C.granule == 4096 ? 1 : 0);
            field(out, "SL0", std::to_string(sl0), "walk starts at L" + std::to_string(start));
            const unsigned ps = arm_text::get(r.vtcr, 16, 3);
            field(out, "PS", std::to_string(ps), arm_text::output_bits(ps));
            return ok && sl0 == r.sl && start == F::geometry.start_level && ps == r.ps &&
                   r.vttbr == root.value;
        }
    }
};

} // namespace pgtable_setup
