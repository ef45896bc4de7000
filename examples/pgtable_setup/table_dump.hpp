#pragma once
// A page table as text, for any format that has a format_text: its geometry (levels,
// index bits, slots, leaf sizes per level) and every descriptor reachable from the root,
// depth first, read through the allocator exactly as the hardware walker would read it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <passthru/core/page_size.hpp>
#include <passthru/pgtable/page_table.hpp>

#include "format_text.hpp"
#include "text.hpp"

namespace pgtable_setup {

// Slots of a table at `level` (the root may be wider or narrower than the others).
template <class F>
constexpr std::size_t slots_at(unsigned level) {
    return std::size_t{1} << F::table_lg2(level);
}

// Levels, then one row per level: its index bits, slots, what one slot maps, and the leaf
// sizes it can hold (PageTableFormat's item_lg2 / table_lg2 / leaf_sizes).
template <DescribedFormat F>
void geometry(std::ostream& out, passthru::pgsize_bitmap domain_sizes) {
    using T = format_text<F>;
    const std::size_t root_slots = slots_at<F>(F::top_level);
    line(out, "geometry", std::to_string(F::top_level + 1) + " levels, root " +
                              T::level_name(F::top_level) + ": " + std::to_string(root_slots) +
                              " slots, " + kib(root_slots * 8) + "; IOVA " +
                              std::to_string(F::va_bits) + " bits, output " +
                              std::to_string(F::oa_bits) + " bits");
    T::geometry(out);
    line(out, "", "table  level  index    slots  slot maps  leaf sizes");
    for (unsigned l = F::top_level + 1; l-- > 0;) {
        const unsigned lo = F::item_lg2(l);
        const unsigned hi = std::min(lo + F::table_lg2(l), F::va_bits) - 1;
        std::string row = T::level_name(l);
        row.resize(7, ' ');
        row += std::to_string(l);
        row.resize(14, ' ');
        row += bits(hi, lo);
        row.resize(23, ' ');
        row += std::to_string(slots_at<F>(l));
        row.resize(30, ' ');
        row += report::byte_size(std::uint64_t{1} << lo);
        row.resize(41, ' ');
        row += report::pgsizes(passthru::pgsize_bitmap{F::leaf_sizes(l)});
        line(out, "", row);
    }
    const passthru::pgsize_bitmap all = passthru::pgtable::format_pgsizes<F>();
    std::string sizes = "format " + report::pgsizes(all);
    if (domain_sizes != all) sizes += "; domain " + report::pgsizes(domain_sizes);
    line(out, "page sizes", sizes);
}

struct dump_row {
    std::string where; // indented "L2[1]"
    std::uint64_t pte = 0;
    std::string what;   // "table -> 0x880002000", "block 2M  0x40000000 -> 0x80000000"
    std::string detail; // the leaf's named bits and attributes, on a line of its own
};

struct table_census {
    std::size_t tables = 0;
    std::uint64_t bytes = 0;
    bool replicas_ok = true; // every slot of a contiguous entry holds the same word
};

// Depth first from the table at `level` that maps IOVA `base` onwards.
template <DescribedFormat F, class A>
void walk(const A& alloc, const passthru::pte_t* t, unsigned level, std::uint64_t base,
          unsigned depth, std::vector<dump_row>& rows, table_census& census) {
    using T = format_text<F>;
    using passthru::pte_kind;
    ++census.tables;
    census.bytes += slots_at<F>(level) * sizeof(passthru::pte_t);
    const std::string indent(2 * depth, ' ');
    for (std::size_t i = 0; i < slots_at<F>(level); ++i) {
        const passthru::pte_t e = t[i];
        const pte_kind kind = F::classify(e, level);
        if (kind == pte_kind::empty) continue;
        const std::uint64_t io = base + (std::uint64_t{i} << F::item_lg2(level));
        if (kind == pte_kind::table) {
            const passthru::phys_addr child = F::table_pa(e);
            std::string what = "table -> " + report::hex(child.value);
            const std::string f = T::fields(e, level);
            if (!f.empty()) what += " (" + f + ")";
            rows.push_back({indent + T::level_name(level) + "[" + std::to_string(i) + "]", e, what,
                            ""});
            walk<F>(alloc, alloc.table_at(child), level - 1, io, depth + 1, rows, census);
            continue;
        }
        // A leaf: one entry of 2^(size - item) identical slots (contiguous formats).
        const unsigned size_lg2 = F::leaf_size_lg2(e, level);
        const std::size_t reps = std::size_t{1} << (size_lg2 - F::item_lg2(level));
        const std::size_t last = i + reps - 1;
        for (std::size_t r = i; r <= last && r < slots_at<F>(level); ++r)
            census.replicas_ok = census.replicas_ok && t[r] == e;
        std::string where = indent + T::level_name(level) + "[" + std::to_string(i);
        where += reps > 1 ? ".." + std::to_string(last) + "]" : "]";
        const std::string what = T::leaf_word(level) + " " +
                                 report::byte_size(std::uint64_t{1} << size_lg2) + "  " +
                                 report::hex(io) + " -> " +
                                 report::hex(F::leaf_pa(e, level).value);
        std::string detail = T::fields(e, level) + " = " + prot_text(F::leaf_prot(e, level));
        if (reps > 1) detail += "; the same word in " + std::to_string(reps) + " slots";
        rows.push_back({where, e, what, detail});
        i = last;
    }
}

// Every descriptor reachable from the root; returns what the walk found.
template <DescribedFormat F, class A, class H>
table_census descriptors(std::ostream& out,
                         const passthru::pgtable::page_table<F, A, H>& table, const A& alloc) {
    std::vector<dump_row> rows;
    table_census census;
    walk<F>(alloc, alloc.table_at(table.root()), F::top_level, 0, 0, rows, census);
    std::size_t width = 0;
    for (const dump_row& r : rows) width = std::max(width, r.where.size());
    line(out, "walk", "every descriptor, depth first from the root (empty slots left out)");
    for (const dump_row& r : rows) {
        std::string where = "  " + r.where;
        where.resize(width + 4, ' ');
        out << where << word(r.pte) << "  " << r.what << '\n';
        if (!r.detail.empty()) out << std::string(width + 4, ' ') << r.detail << '\n';
    }
    return census;
}

} // namespace pgtable_setup
