#pragma once
// The terminal report: one table row per catalog platform, with the reason and the
// usable IOVA ranges on detail lines under it. Fits any width from 80 to 200 columns:
// the MSI-setup and page-size columns move to detail lines first, then the interrupt
// controller's name wraps (table.hpp).
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "catalog_rows.hpp"
#include "format.hpp"
#include "table.hpp"

namespace report {

inline text_table platform_table(const std::vector<platform_row>& rows) {
    text_table t(
        {
            {.title = "#", .side = align::right},
            {.title = "IOMMU", .wrap = true},
            {.title = "Interrupt controller", .wrap = true},
            {.title = "6.3+"},
            {.title = "4.11"},
            {.title = "3.15"},
            {.title = "Attach"},
            {.title = "MSI setup", .demote_rank = 1},
            {.title = "Page sizes", .demote_rank = 2},
        },
        {"usable IOVA", "why"});
    std::string_view arch;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const platform_row& r = rows[i];
        t.add_row(
            {
                std::to_string(i + 1),
                r.iommu,
                r.irq,
                verdict_word(r.v6_3.verdict),
                verdict_word(r.v4_11.verdict),
                verdict_word(r.v3_15.verdict),
                passthru::to_string(r.decision),
                msi_setup(r.msi),
                pgsizes(r.pgsizes),
            },
            {cell::of_atoms(range_atoms(r.usable)), cell(r.v6_3.reason)},
            r.arch != arch);
        arch = r.arch;
    }
    return t;
}

// How many platforms each attach decision covers: "18 platforms: 7 allow, 11 refuse (EPERM)".
inline std::string summary(const std::vector<platform_row>& rows) {
    using passthru::attach_decision;
    std::string out = std::to_string(rows.size()) + " platforms:";
    std::string_view sep = " ";
    for (attach_decision d : {attach_decision::allow, attach_decision::allow_unsafe,
                              attach_decision::refuse, attach_decision::at_attach}) {
        std::size_t n = 0;
        for (const platform_row& r : rows) n += r.decision == d ? 1 : 0;
        if (n == 0) continue;
        out += std::string(sep) + std::to_string(n) + " " + std::string(passthru::to_string(d));
        sep = ", ";
    }
    return out;
}

// What the columns mean. Prose is wrapped to at most 100 columns, wider reads badly.
inline std::string legend(std::size_t width) {
    const cell text(
        "6.3+ / 4.11 / 3.15: are MSIs isolated under Linux v6.3+ (the current rule, "
        "SEMANTICS H.1), v4.11-v6.2 and v3.15-v4.10 (H.3)? Attach: what VFIO type1 does "
        "under the current rule without allow_unsafe_interrupts (A13). Verdicts are for a "
        "PCI device; only the 2014 RFC rule depends on the bus (platform_report --markdown). "
        "Page sizes: a..b is every power of two from a to b. Usable IOVA: the aperture "
        "minus reserved regions (A.1), inclusive.");
    std::string out;
    for (const std::string& line : text.wrap(std::min<std::size_t>(width, 100) - 1))
        out += " " + line + "\n";
    return out;
}

inline std::string text_report(const std::vector<platform_row>& rows, std::size_t width) {
    return " passthru platform report: would Linux VFIO type1 attach a device?\n\n" +
           platform_table(rows).render(width) + "\n " + summary(rows) + "\n\n" +
           legend(width);
}

} // namespace report
