#pragma once
// The report as Markdown: the generated tables of docs/platforms.md (every pairing under
// every kernel rule, the reasons, the DMA and MSI setup, and the facts of every catalog
// component). `platform_report --markdown` prints exactly this; a CTest keeps the doc
// equal to it (examples/doc_sync.cmake).
#include <string>
#include <string_view>
#include <vector>

#include "catalog_rows.hpp"
#include "components.hpp"
#include "format.hpp"

namespace report {

namespace md {

// A table cell: `|` would end the cell, so it is escaped (GitHub-flavoured Markdown).
inline std::string escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

inline std::string table_row(const std::vector<std::string>& cells) {
    std::string out = "|";
    for (const std::string& c : cells) out += " " + escape(c) + " |";
    return out + "\n";
}

inline std::string table_head(const std::vector<std::string>& titles) {
    std::string out = table_row(titles) + "|";
    for (std::size_t i = 0; i < titles.size(); ++i) out += "---|";
    return out + "\n";
}

inline std::string yes_no(bool b) { return b ? "yes" : "no"; }

inline std::string platform_name(const platform_row& r) {
    return std::string(r.iommu) + " + " + std::string(r.irq);
}

inline std::string_view intr_remap(passthru::intr_remap_cap c) {
    switch (c) {
    case passthru::intr_remap_cap::never: return "never";
    case passthru::intr_remap_cap::when_remapping_enabled: return "when IR is enabled";
    case passthru::intr_remap_cap::always: return "always";
    }
    return "?";
}

inline std::string regions(const passthru::reserved_region_list& list) {
    std::string out;
    for (const passthru::reserved_region& r : list)
        out += (out.empty() ? "" : "<br>") + std::string(passthru::to_string(r.type)) + " " +
               range(r.range);
    return out.empty() ? "none" : out;
}

} // namespace md

inline std::string verdict_table(const std::vector<platform_row>& rows) {
    namespace rules = passthru::rules;
    std::string out = md::table_head({
        "#", "IOMMU", "Interrupt controller",
        std::string(rules::linux_v6_3::facts.name), std::string(rules::linux_v4_11::facts.name),
        std::string(rules::linux_v3_15::facts.name), "2014 RFC, PCI device", "2014 RFC, platform device",
        std::string(rules::exclusive_bank_aware::facts.name), "Attach (v6.3+)"});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const platform_row& r = rows[i];
        out += md::table_row({std::to_string(i + 1), std::string(r.iommu), std::string(r.irq),
                              std::string(verdict_word(r.v6_3.verdict)),
                              std::string(verdict_word(r.v4_11.verdict)),
                              std::string(verdict_word(r.v3_15.verdict)),
                              std::string(verdict_word(r.rfc_2014_pci.verdict)),
                              std::string(verdict_word(r.rfc_2014_platform.verdict)),
                              std::string(verdict_word(r.exclusive_bank_aware.verdict)),
                              std::string(passthru::to_string(r.decision))});
    }
    return out;
}

// The reason under the current rule, and under each older rule that disagrees with it
// (the 2014 RFC's one reason, "skipped for a non-PCI bus", is left out).
inline std::string reason_table(const std::vector<platform_row>& rows) {
    namespace rules = passthru::rules;
    std::string out = md::table_head({"#", "Platform", "Rule", "Verdict", "Reason"});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const platform_row& r = rows[i];
        auto line = [&](std::string_view rule, const rule_result& res) {
            out += md::table_row({std::to_string(i + 1), md::platform_name(r), std::string(rule),
                                  std::string(passthru::to_string(res.verdict)),
                                  std::string(res.reason)});
        };
        line(rules::linux_v6_3::facts.name, r.v6_3);
        if (r.v4_11.verdict != r.v6_3.verdict) line(rules::linux_v4_11::facts.name, r.v4_11);
        if (r.v3_15.verdict != r.v6_3.verdict) line(rules::linux_v3_15::facts.name, r.v3_15);
        if (r.exclusive_bank_aware.verdict != r.v6_3.verdict)
            line(rules::exclusive_bank_aware::facts.name, r.exclusive_bank_aware);
    }
    return out;
}

inline std::string dma_table(const std::vector<platform_row>& rows) {
    std::string out = md::table_head(
        {"#", "Platform", "MSI setup", "Page sizes", "Aperture", "Usable IOVA (inclusive)"});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const platform_row& r = rows[i];
        std::string usable;
        for (const std::string& a : range_atoms(r.usable)) usable += (usable.empty() ? "" : "<br>") + a;
        out += md::table_row({std::to_string(i + 1), md::platform_name(r), msi_setup(r.msi),
                              pgsizes(r.pgsizes), range(r.aperture), usable});
    }
    return out;
}

inline std::string iommu_table(const std::vector<iommu_facts>& iommus) {
    std::string out = md::table_head({"IOMMU", "Arch", "Page sizes", "Aperture",
                                      "Reserved regions", "Cache coherent",
                                      "Enforces coherency", "INTR_REMAP cap (until v6.2)",
                                      "MSI table", "Dirty tracking", "SEMANTICS"});
    for (const iommu_facts& f : iommus)
        out += md::table_row({std::string(f.name), std::string(f.arch), pgsizes(f.pgsizes),
                              range(f.aperture), md::regions(f.reserved),
                              md::yes_no(f.caps.cache_coherency),
                              md::yes_no(f.caps.enforce_cache_coherency),
                              std::string(md::intr_remap(f.caps.intr_remap)),
                              md::yes_no(f.caps.msi_table), md::yes_no(f.caps.dirty_tracking),
                              std::string(f.semantics)});
    return out;
}

inline std::string irq_table(const std::vector<irq_facts>& irqs) {
    std::string out = md::table_head({"Interrupt controller", "Arch", "MSI isolation",
                                      "MSIs through the IOMMU", "Hardware MSI window",
                                      "Generic MSI domains", "MSI_REMAP flag (v4.11-v6.2)",
                                      "SEMANTICS"});
    for (const irq_facts& f : irqs)
        out += md::table_row({std::string(f.name), std::string(f.arch),
                              std::string(passthru::to_string(f.isolation)),
                              md::yes_no(f.msi_through_iommu),
                              f.msi_window ? range(*f.msi_window) : std::string("none"),
                              md::yes_no(f.generic_msi_domains),
                              md::yes_no(f.msi_remap_flag_pre_6_3), std::string(f.semantics)});
    return out;
}

inline std::string markdown_report(const std::vector<platform_row>& rows) {
    return "### Verdict of every pairing under every kernel rule\n\n"
           "yes: MSIs isolated, the attach goes ahead. no: EPERM unless "
           "allow_unsafe_interrupts. at attach: decided per domain when it is attached. "
           "The 2014 RFC is the one rule whose verdict depends on the bus.\n\n" +
           verdict_table(rows) +
           "\n### Why: the current rule, and every older rule that disagrees with it\n\n" +
           reason_table(rows) + "\n### DMA and MSI setup\n\n" + dma_table(rows) +
           "\n### IOMMUs\n\n" + iommu_table(catalog_iommus()) +
           "\n### Interrupt controllers\n\n" + irq_table(catalog_irqchips());
}

} // namespace report
