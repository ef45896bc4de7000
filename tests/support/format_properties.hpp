#pragma once
// The generic_pt format tests (PGTABLE §7.4, Linux's kunit_generic_pt.h), written once and
// run for every format configuration: each format's test file instantiates them for its
// configurations and keeps only its golden vectors. Properties, per level and leaf size:
//   radix        the index fields tile [item_lg2(0), va_bits): no gap, no overlap, and
//                every IOVA rebuilds from its indexes (test_max_va, test_table_radix)
//   sizes        a level's sizes are at least an item and less than a table; nothing above
//                the top; format_pgsizes and level_for_size equal a brute-force search
//                (test_entry_possible_sizes)
//   entry OA     a leaf written as the walker writes it (2^k identical slots from an aligned
//                index) decodes in every slot to its OA and size, neighbours stay empty,
//                for a test OA, 0 and the highest OA (test_entry_oa)
//   table ptr    a table descriptor decodes to its table at every level (test_table_ptr)
//   attributes   every accepted prot re-encodes the identical word (test_attr_from_entry)
//   linearity    make_leaf(pa + k·size) == make_leaf(pa) + k·size inside one
//                2^leaf_linear_lg2 block, and not across its end (the walker's fill)
//   dirty        a cleaned leaf is clean, a device write to any slot of an entry makes it
//                dirty, cleaning every slot makes it clean again (test_dirty)
// Plain code that returns what failed, one line each: it is instantiated for well over a
// hundred configurations, and Catch's macros would dominate the build.
#include <array>
#include <bit>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/arm_lpae.hpp>
#include <passthru/pgtable/cursor.hpp>
#include <passthru/pgtable/dirty_walk.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

#include "mock_format.hpp"

namespace passthru::testing {

// How each IOMMU marks a leaf the device wrote (PGTABLE §8), and the bits that stay after
// make_clean (the accessed flag, which cleaning leaves alone).
template <class F>
struct dirty_hardware;
template <pgtable::arm_lpae_config C>
struct dirty_hardware<pgtable::arm_lpae<C>> {
    static constexpr pte_t write(pte_t e) { return e & ~pgtable::arm_pte::ap_rdonly; } // DBM: AP[2] cleared
    static constexpr pte_t sticky = 0;
};
template <pgtable::vtd_ss_config C>
struct dirty_hardware<pgtable::vtd_ss<C>> {
    static constexpr pte_t sticky = pgtable::vtd_ss<C>::a_bit;
    static constexpr pte_t write(pte_t e) { return e | pgtable::vtd_ss<C>::d_bit | sticky; }
};
template <pgtable::amd_v1_config C>
struct dirty_hardware<pgtable::amd_v1<C>> {
    static constexpr pte_t sticky = pte_t{1} << 5; // A [arch]
    static constexpr pte_t write(pte_t e) { return e | pgtable::amd_v1<C>::d_bit | sticky; }
};
template <partial_unmap R, bool T>
struct dirty_hardware<mock_format<R, T>> {
    static constexpr pte_t write(pte_t e) { return e | mock_format<R, T>::dirty_bit; }
    static constexpr pte_t sticky = 0;
};

// The OAs test_entry_oa installs for a size: a test pattern, 0, and the highest OA.
template <class F>
constexpr std::array<std::uint64_t, 3> test_oas(unsigned size_lg2) {
    const std::uint64_t in_space = low_mask(F::oa_bits - 1);
    const std::uint64_t aligned = ~low_mask(size_lg2 - 1);
    return {0xA5A5'A5A5'A5A5'A5A5 & in_space & aligned, 0, in_space & aligned};
}

template <PageTableFormat F>
std::vector<std::string> format_properties() {
    std::vector<std::string> failures;
    unsigned level = 0, size_lg2 = 0;
    std::uint64_t oa = 0;
    auto expect = [&](bool ok, const char* what) {
        if (ok) return;
        std::ostringstream os;
        os << F::name << ": " << what << " (level " << level << ", size 2^" << size_lg2
           << ", oa 0x" << std::hex << oa << ")";
        failures.push_back(os.str());
    };
    constexpr unsigned top = F::top_level;
    constexpr prot rw = prot::read | prot::write;

    // radix
    std::uint64_t covered = 0;
    for (level = 0; level <= top; ++level) {
        const unsigned lo = F::item_lg2(level), hi = lo + F::table_lg2(level) - 1;
        expect(F::table_lg2(level) >= 1, "a table has at least two slots");
        const std::uint64_t field = low_mask(hi < 63 ? hi : 63) & ~low_mask(lo - 1);
        expect((covered & field) == 0, "index fields overlap");
        covered |= field;
        if (level < top) expect(hi + 1 == F::item_lg2(level + 1), "a gap between index fields");
    }
    level = top;
    expect(F::item_lg2(top) + F::table_lg2(top) == F::va_bits, "the top table ends at va_bits");
    expect(covered == (low_mask(F::va_bits - 1) & ~low_mask(F::item_lg2(0) - 1)),
           "the index fields cover the input space");
    for (const std::uint64_t va : {std::uint64_t{0}, low_mask(F::va_bits - 1),
                                   0x0123'4567'89AB'CDEF & low_mask(F::va_bits - 1)}) {
        std::uint64_t rebuilt = va & low_mask(F::item_lg2(0) - 1);
        for (unsigned l = 0; l <= top; ++l)
            rebuilt |= std::uint64_t{pgtable::index_of<F>(va, l)} << F::item_lg2(l);
        oa = va;
        expect(rebuilt == va, "an IOVA does not rebuild from its indexes");
    }

    // sizes
    std::uint64_t union_of_levels = 0;
    for (level = 0; level <= top + 1 && level < 6; ++level) {
        const std::uint64_t sizes = F::leaf_sizes(level);
        if (level > top) {
            expect(sizes == 0, "leaves above the top level");
            break;
        }
        const unsigned lo = F::item_lg2(level), span = pgtable::table_span_lg2<F>(level);
        expect((sizes & low_mask(lo - 1)) == 0, "a leaf smaller than the level's item");
        if (span < 64) expect((sizes & ~low_mask(span - 1)) == 0, "a leaf as large as the table");
        union_of_levels |= sizes;
    }
    const unsigned width = F::va_bits < F::oa_bits ? F::va_bits : F::oa_bits;
    for (size_lg2 = 0; size_lg2 < 64; ++size_lg2) {
        // Brute force: the walker puts a size at the highest level that holds it.
        bool in_some_level = false;
        for (unsigned l = 0; l <= top; ++l)
            if (F::leaf_sizes(l) >> size_lg2 & 1) {
                in_some_level = true;
                level = l;
            }
        const bool offered = in_some_level && (width >= 64 || size_lg2 < width);
        expect(pgtable::format_pgsizes<F>().supports(std::uint64_t{1} << size_lg2) == offered,
               "format_pgsizes differs from the levels' sizes");
        if (in_some_level) expect(pgtable::level_for_size<F>(size_lg2) == level, "level_for_size");
    }
    expect(pgtable::format_pgsizes<F>().bits ==
               (width >= 64 ? union_of_levels : union_of_levels & low_mask(width - 1)),
           "format_pgsizes is not the union of the levels' sizes");

    // entry OA, attributes, linearity, dirty: every size at every level
    for (level = 0; level <= top; ++level) {
        const std::size_t nslots = pgtable::slots<F>(level);
        expect(F::classify(0, level) == pte_kind::empty, "a zero slot is not empty");
        for (size_lg2 = F::item_lg2(level); size_lg2 < 64; ++size_lg2) {
            if ((F::leaf_sizes(level) >> size_lg2 & 1) == 0) continue;
            const std::size_t reps = std::size_t{1} << (size_lg2 - F::item_lg2(level));
            if (reps * 2 > nslots) {
                expect(false, "an entry of more than half a table");
                continue;
            }
            for (const std::uint64_t test_oa : test_oas<F>(size_lg2)) {
                oa = test_oa;
                // The entry at the second aligned position of a table, as the walker writes it.
                const pte_t e = F::make_leaf(phys_addr{oa}, level, size_lg2, rw);
                std::vector<pte_t> t(nslots, 0);
                for (std::size_t i = reps; i < 2 * reps; ++i) t[i] = e;
                for (std::size_t i = 0; i < nslots; ++i) {
                    if (i < reps || i >= 2 * reps) {
                        if (i == 0 || i == 2 * reps)
                            expect(F::classify(t[i], level) == pte_kind::empty, "a neighbour is not empty");
                        continue;
                    }
                    expect(F::classify(t[i], level) == pte_kind::leaf, "a slot of the entry is not a leaf");
                    expect(F::leaf_pa(t[i], level).value == oa, "a slot decodes to another OA");
                    expect(F::leaf_size_lg2(t[i], level) == size_lg2, "a slot decodes to another size");
                }
                for (unsigned raw = 0; raw < 64; ++raw) {
                    const auto p = static_cast<prot>(raw);
                    if (!has_any(p, rw)) continue; // the walker refuses those (PGTABLE §0.1)
                    const pte_t leaf = F::make_leaf(phys_addr{oa}, level, size_lg2, p);
                    const prot back = F::leaf_prot(leaf, level);
                    expect(F::make_leaf(F::leaf_pa(leaf, level), level,
                                        F::leaf_size_lg2(leaf, level), back) == leaf,
                           "leaf_prot does not re-encode the same word");
                    expect(has_any(back, rw), "leaf_prot lost both READ and WRITE");
                }
            }
            oa = 0;
            const std::uint64_t size = std::uint64_t{1} << size_lg2;
            if (F::leaf_linear_lg2 < 64 && size_lg2 + 3 <= F::leaf_linear_lg2) {
                const std::uint64_t block = std::uint64_t{1} << F::leaf_linear_lg2;
                // Bases around every 2^b boundary inside the block, where an encoding that
                // moves address bits (ARM's 52-bit packing at 2^48) would break the promise.
                std::vector<std::uint64_t> bases{0, 0x0000'0ABC'C000'0000 & (block - 1) & ~(size - 1),
                                                 block - 8 * size};
                for (unsigned b = size_lg2 + 3; b < F::leaf_linear_lg2; ++b)
                    bases.push_back((std::uint64_t{1} << b) - 4 * size);
                for (const std::uint64_t base : bases) {
                    oa = base;
                    const pte_t first = F::make_leaf(phys_addr{base}, level, size_lg2, rw);
                    for (std::uint64_t k = 1; k < 8; ++k)
                        expect(F::make_leaf(phys_addr{base + k * size}, level, size_lg2, rw) ==
                                   first + k * size,
                               "make_leaf is not linear inside a leaf_linear_lg2 block");
                }
                // Where the block ends below the output width, the walker must stop there.
                if (F::leaf_linear_lg2 < F::oa_bits) {
                    oa = block;
                    const pte_t last = F::make_leaf(phys_addr{block - size}, level, size_lg2, rw);
                    expect(F::make_leaf(phys_addr{block}, level, size_lg2, rw) != last + size,
                           "make_leaf is linear across a leaf_linear_lg2 boundary");
                }
            }
            if constexpr (DirtyTrackingFormat<F>) {
                if (reps > 16) continue; // up to 16 replicas is plenty
                using hw = dirty_hardware<F>;
                const pte_t clean = F::make_clean(F::make_leaf(phys_addr{0}, level, size_lg2, rw));
                auto entry_dirty = [&](const std::vector<pte_t>& t) {
                    bool dirty = false; // the walker ORs the slots of an entry
                    for (std::size_t i = 0; i < reps; ++i) dirty |= F::is_dirty(t[i]);
                    return dirty;
                };
                const std::vector<pte_t> fresh(reps, clean);
                expect(!entry_dirty(fresh), "a cleaned leaf is dirty");
                expect(F::make_clean(clean) == clean, "make_clean changes a clean leaf");
                expect(F::classify(clean, level) == pte_kind::leaf &&
                           F::leaf_size_lg2(clean, level) == size_lg2,
                       "make_clean changes what the slot is");
                for (std::size_t j = 0; j < reps; ++j) {
                    std::vector<pte_t> t = fresh;
                    t[j] = hw::write(t[j]);
                    expect(entry_dirty(t), "a device write to one slot is not seen");
                    for (pte_t& s : t) s = F::make_clean(s);
                    expect(!entry_dirty(t), "make_clean leaves the entry dirty");
                    expect(t[j] == (clean | hw::sticky), "make_clean changes more than the dirty mark");
                }
                const pte_t read_only = F::make_leaf(phys_addr{0}, level, size_lg2, prot::read);
                expect(!F::is_dirty(read_only), "a new read-only leaf is dirty");
            }
        }
    }

    // slot tests: the bit tests of the walker's vector loops mean what classify,
    // leaf_size_lg2 and is_dirty say, on every word the walker or the hardware writes and
    // on arbitrary ones.
    if constexpr (PageTableSlotTests<F>) {
        std::vector<pte_t> words{0, ~pte_t{0}};
        std::uint64_t x = 0x9E37'79B9'7F4A'7C15;
        for (int k = 0; k < 256; ++k) { // splitmix64
            x += 0x9E37'79B9'7F4A'7C15;
            std::uint64_t z = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9;
            z = (z ^ (z >> 27)) * 0x94D0'49BB'1331'11EB;
            words.push_back(z ^ (z >> 31));
        }
        for (unsigned l = 0; l <= top; ++l) {
            for (unsigned s = F::item_lg2(l); s < 64; ++s)
                if (F::leaf_sizes(l) >> s & 1)
                    for (const prot p : {prot::read, prot::write, rw | prot::cache})
                        words.push_back(F::make_leaf(phys_addr{test_oas<F>(s)[0]}, l, s, p));
            if (l > 0) words.push_back(F::make_table(phys_addr{0x4000'0000}, l));
        }
        if constexpr (DirtyTrackingFormat<F>) {
            const std::size_t n = words.size();
            for (std::size_t k = 0; k < n; ++k) {
                words.push_back(dirty_hardware<F>::write(words[k]));
                words.push_back(F::make_clean(words[k]));
            }
        }
        for (level = 0; level <= top; ++level)
            for (const pte_t w : words) {
                oa = w;
                const pte_kind kind = F::classify(w, level);
                expect(F::empty_test(level)(w) == (kind == pte_kind::empty), "empty_test");
                expect(F::item_leaf_test(level)(w) ==
                           (kind == pte_kind::leaf && F::leaf_size_lg2(w, level) == F::item_lg2(level)),
                       "item_leaf_test");
                if constexpr (DirtyTrackingFormat<F>) {
                    expect(F::dirty_test()(w) == F::is_dirty(w), "dirty_test");
                    // the vector harvest cleans with one XOR (pgtable::detail::clean_flip)
                    if (F::is_dirty(w))
                        expect(F::make_clean(w) == (w ^ pgtable::detail::clean_flip<F>()),
                               "make_clean of a dirty slot is not the XOR clean_flip");
                }
            }
    }

    // table ptr
    for (level = 1; level <= top; ++level) {
        const unsigned child_lg2 = F::table_lg2(level - 1) + 3;
        for (const std::uint64_t test_oa : test_oas<F>(child_lg2 > 12 ? child_lg2 : 12)) {
            oa = test_oa;
            const pte_t e = F::make_table(phys_addr{oa}, level);
            expect(F::classify(e, level) == pte_kind::table, "a table descriptor is not a table");
            expect(F::table_pa(e).value == oa, "a table descriptor points elsewhere");
        }
    }
    return failures;
}

} // namespace passthru::testing
