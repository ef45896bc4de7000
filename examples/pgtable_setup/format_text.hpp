#pragma once
// What pgtable_setup needs to know about one page-table format beyond the
// PageTableFormat concept: how its documentation names levels and leaves, what the bits
// of a descriptor are called, and which registers a driver programs from the root.
// One specialisation per format family, in arm_lpae_text.hpp, vtd_ss_text.hpp and
// amd_v1_text.hpp. A specialisation provides, all static:
//   config()                 the format's configuration, as C++ designated initialisers
//   level_name(level)        "L1" (ARM, architectural), "PDE" (VT-d), "L1" (AMD, 0-based)
//   leaf_word(level)         "block", "superpage", "page"
//   fields(pte, level)       the named bits of a table or leaf descriptor
//   geometry(out)            format-specific geometry lines (may print nothing)
//   registers(out, root)     the register values for a table rooted at `root`; false
//                            when the values do not decode back to what they claim
#include <concepts>
#include <ostream>
#include <string>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>

namespace pgtable_setup {

template <class F>
struct format_text; // specialised per format family

// The format has a specialisation (the dump cannot describe a format without one).
template <class F>
concept DescribedFormat = passthru::PageTableFormat<F> && requires(
    std::ostream& out, passthru::pte_t pte, unsigned level, passthru::phys_addr root) {
    { format_text<F>::config() } -> std::same_as<std::string>;
    { format_text<F>::level_name(level) } -> std::same_as<std::string>;
    { format_text<F>::leaf_word(level) } -> std::same_as<std::string>;
    { format_text<F>::fields(pte, level) } -> std::same_as<std::string>;
    format_text<F>::geometry(out);
    { format_text<F>::registers(out, root) } -> std::same_as<bool>;
};

} // namespace pgtable_setup
