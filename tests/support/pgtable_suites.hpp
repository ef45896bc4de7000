#pragma once
// The format-independent page-table suites, run over every real format configuration:
//   selftest_sequence  the Linux io-pgtable selftest shape (PGTABLE §1.12) for any format
//   random_vs_reference thousands of random map/unmap operations against the reference
//                       model, with every touched entry translated and the table freed
// Each is a function template so a test file picks its configurations.
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/page_table.hpp>

#include "pgtable_harness.hpp"

namespace passthru::testing {

inline constexpr prot rw_cache = prot::read | prot::write | prot::cache;
inline constexpr pgsize_bitmap pgsizes_of(std::uint64_t size) { return {size}; }

template <class F>
constexpr bool fits_bits(std::uint64_t last, unsigned bits) {
    return bits >= 64 || (last >> bits) == 0;
}

// PGTABLE §1.12, for any format: an empty table translates nothing; for every page size
// (ascending) at IOVA = k GiB: identity map succeeds, a second map of the same IOVA
// fails with EEXIST, iova_to_phys(iova+42) == iova+42; then each page unmaps with exactly
// its size, no longer translates, and maps again write-only; finally the last
// largest-page below 2^va_bits maps and unmaps. The table ends with only its root.
// Returns what went wrong, one line each (empty: passed). Plain code rather than Catch
// assertions, because it is instantiated for well over a hundred formats and Catch's
// macros would dominate the build.
template <class F>
std::vector<std::string> selftest_sequence(std::size_t units = 96) {
    using table_t = pgtable::page_table<F, pgtable::arena_allocator>;
    const pgsize_bitmap sizes = passthru::pgtable::format_pgsizes<F>();
    std::vector<std::string> failures;
    auto expect = [&](bool ok, const char* what, std::uint64_t size = 0) {
        if (!ok) failures.push_back(std::string(what) + " (page size " + std::to_string(size) + ")");
        return ok;
    };
    table_fixture<F> fx(units);
    {
        auto created = table_t::create(fx.arena);
        if (!expect(created.has_value(), "create")) return failures;
        table_t& t = *created;
        const std::size_t root_units = fx.arena.live_units();
        for (std::uint64_t io : {std::uint64_t{42}, GiB + 42, 2 * GiB + 42})
            expect(!t.iova_to_phys(iova{io}), "an empty table translates");

        // Each size at the next k GiB aligned to it, identity mapped.
        std::vector<std::pair<std::uint64_t, std::uint64_t>> at; // (size, iova)
        std::uint64_t k = 0;
        for (std::uint64_t s = sizes.min_pgsize(); s != 0 && s <= sizes.max_pgsize(); s <<= 1) {
            if (!sizes.supports(s)) continue;
            std::uint64_t io = k * GiB;
            if (io % s) io = (io / s + 1) * s;
            if (io + (s - 1) < io || !fits_bits<F>(io + (s - 1), F::va_bits) ||
                !fits_bits<F>(io + (2 * s - 1), F::oa_bits))
                break;
            at.emplace_back(s, io);
            const prot all = prot::read | prot::write | prot::noexec | prot::cache;
            if (!expect(t.map(iova{io}, phys_addr{io}, s, all, pgsizes_of(s)).has_value(), "map", s))
                continue;
            auto again = t.map(iova{io}, phys_addr{io + s}, s, prot::read | prot::noexec, pgsizes_of(s));
            expect(!again && again.error().code == errc::eexist, "over-map is EEXIST", s);
            expect(t.iova_to_phys(iova{io + 42}) == phys_addr{io + 42}, "translate", s);
            k = io / GiB + 1 + s / GiB;
        }
        for (const auto& [s, io] : at) {
            expect(t.unmap(iova{io}, s) == s, "unmap returns the size", s);
            expect(!t.iova_to_phys(iova{io + 42}), "unmapped page translates", s);
            expect(t.map(iova{io}, phys_addr{io}, s, prot::write, pgsizes_of(s)).has_value(),
                   "remap write-only", s);
            expect(t.iova_to_phys(iova{io + 42}) == phys_addr{io + 42}, "translate after remap", s);
            expect(t.unmap(iova{io}, s) == s, "unmap again", s);
        }
        expect(fx.arena.live_units() == root_units, "tables freed after the size sweep");

        // The last largest page below the top of the input space.
        const std::uint64_t s = sizes.max_pgsize();
        const std::uint64_t io = (F::va_bits >= 64 ? 0 : std::uint64_t{1} << F::va_bits) - s;
        expect(t.map(iova{io}, phys_addr{0}, s, rw_cache, pgsizes_of(s)).has_value(),
               "map the last page below 2^ias", s);
        expect(t.iova_to_phys(iova{io + s - 1}) == phys_addr{s - 1}, "translate the last byte", s);
        expect(t.unmap(iova{io}, s) == s, "unmap the last page", s);
        expect(fx.arena.live_units() == root_units, "only the root is left");
    }
    expect(fx.arena.live_units() == 0, "destruction frees the root");
    expect(fx.arena.misuse() == 0, "no double or foreign free");
    return failures;
}

// The generic_pt regressions (PGTABLE §7.4), for any format with 4K, 2M and 1G pages:
// pgsize_boundary (VA 512K-aligned, PA only 4K-aligned → 4K pages) and test_mixed
// (14 × 2M + 3 × 1G + 3 × 2M = 20 entries).
template <class F>
void generic_pt_regressions() {
    using table_t = pgtable::page_table<F, pgtable::arena_allocator>;
    table_fixture<F> fx(64);
    auto t = table_t::create(fx.arena);
    REQUIRE(t);
    const std::size_t root_units = fx.arena.live_units();
    REQUIRE(t->map(iova{0xFEF80000}, phys_addr{0x208B95D000}, 0x20000, rw_cache));
    auto e = list_entries<F>(*t, fx.arena);
    CHECK(e.size() == 0x20);
    for (const auto& [io, info] : e) CHECK(info.size == 4 * KiB);
    CHECK(t->unmap(iova{0xFEF80000}, 0x20000) == 0x20000);

    const pgsize_bitmap b{4 * KiB | 2 * MiB | 1 * GiB};
    REQUIRE(t->map(iova{0x3FE400000}, phys_addr{0x3FE400000}, 0x4C0600000 - 0x3FE400000, rw_cache, b));
    e = list_entries<F>(*t, fx.arena);
    CHECK(e.size() == 20);
    CHECK(t->unmap(iova{0x3FE400000}, 0x4C0600000 - 0x3FE400000) == 0x4C0600000 - 0x3FE400000);
    CHECK(fx.arena.live_units() == root_units);
}

// Random map/unmap against reference_table inside a window of the input space (output
// addresses inside [pa_base, pa_base + window_size)); every entry an operation touched
// is translated at its first and last byte, the whole entry list is compared now and then, failed maps must leave
// the table identical, and unmapping everything returns every table page.
// Deterministic (fixed seed).
template <class F>
void random_vs_reference(std::uint64_t window_base, std::uint64_t window_size, int ops,
                         std::size_t units, std::uint64_t pa_base = GiB,
                         std::uint32_t seed = 2026) {
    using table_t = pgtable::page_table<F, pgtable::arena_allocator>;
    const pgsize_bitmap sizes = passthru::pgtable::format_pgsizes<F>();
    table_fixture<F> fx(units);
    std::mt19937_64 rng(seed);
    reference_table ref;
    ref.rule = F::partial_leaf_unmap;
    {
        auto created = table_t::create(fx.arena);
        REQUIRE(created);
        table_t& t = *created;
        const std::size_t root_units = fx.arena.live_units();

        // Page sizes that fit the window, to pick alignments from.
        std::vector<std::uint64_t> aligns;
        for (std::uint64_t s = sizes.min_pgsize(); s != 0 && s <= window_size / 4; s <<= 1)
            if (sizes.supports(s)) aligns.push_back(s);
        const std::uint64_t min = sizes.min_pgsize();
        auto pick_align = [&] { return aligns[rng() % aligns.size()]; };
        auto random_in_window = [&](std::uint64_t align) {
            return window_base + (rng() % (window_size / align)) * align;
        };
        // Translate every entry the reference has in [first, first+size) at its first and
        // last byte, and the range itself at up to 64 evenly spaced pages (holes included).
        // Plain comparisons: millions of them, and Catch's macros cost more than the lookup.
        auto check_at = [&](std::uint64_t io) {
            const auto want = ref.translate(io);
            const auto got = t.iova_to_phys(iova{io});
            if (got.has_value() != want.has_value() || (want && got->value != *want))
                FAIL("iova " << io << " translates to "
                             << (got ? std::to_string(got->value) : std::string("nothing"))
                             << ", the reference says "
                             << (want ? std::to_string(*want) : std::string("nothing")));
        };
        auto check_range = [&](std::uint64_t first, std::uint64_t size) {
            const std::uint64_t last = first + (size - 1);
            auto it = ref.entries.upper_bound(first);
            if (it != ref.entries.begin()) --it;
            for (; it != ref.entries.end() && it->first <= last; ++it) {
                check_at(it->first);
                check_at(it->first + (it->second.size - 1));
            }
            for (std::uint64_t off = 0; off < size; off += std::max(min, size / 64))
                check_at(first + off + 7);
        };
        for (int op = 0; op < ops; ++op) {
            INFO("op " << op);
            if (rng() % 100 < 60) {
                const std::uint64_t align = pick_align();
                const std::uint64_t io = random_in_window(align);
                std::uint64_t size = align * (1 + rng() % 8) + (rng() % 2) * min * (rng() % 16);
                if (io + size > window_base + window_size) size = window_base + window_size - io;
                // Co-aligned with the IOVA most of the time, so large pages happen.
                const std::uint64_t pa =
                    pa_base + (rng() % 4 ? io - window_base
                                         : (rng() % ((window_size - size) / min + 1)) * min);
                const prot p = (rng() % 3 == 0) ? prot::read : (rng() % 2 ? prot::write : rw_cache);
                const bool overlap = ref.overlaps(io, io + size - 1);
                const auto before = overlap && op % 8 == 0 ? snapshot<F>(t, fx.arena)
                                                           : decltype(snapshot<F>(t, fx.arena)){};
                auto r = t.map(iova{io}, phys_addr{pa}, size, p);
                if (overlap) {
                    REQUIRE_FALSE(r);
                    REQUIRE(r.error().code == errc::eexist);
                    if (op % 8 == 0) REQUIRE(snapshot<F>(t, fx.arena) == before);
                } else {
                    REQUIRE(r);
                    REQUIRE(ref.map(sizes, io, pa, size, p));
                }
                check_range(io, size);
            } else {
                // Unmap from an entry's start most of the time, else anywhere aligned.
                std::uint64_t io = random_in_window(min);
                if (!ref.entries.empty() && rng() % 4) {
                    auto it = ref.entries.lower_bound(io);
                    if (it == ref.entries.end()) it = ref.entries.begin();
                    io = it->first;
                }
                const std::uint64_t size = min * (1 + rng() % 1024);
                const std::uint64_t want = ref.unmap(io, size);
                REQUIRE(t.unmap(iova{io}, size) == want);
                check_range(io, std::min(size, window_base + window_size - io));
            }
            if (op % 256 == 255) {
                const auto got = list_entries<F>(t, fx.arena);
                REQUIRE(got.size() == ref.entries.size());
                for (const auto& [io, e] : ref.entries) {
                    auto g = got.find(io);
                    REQUIRE(g != got.end());
                    CHECK(g->second.pa == e.pa);
                    CHECK(g->second.size == e.size);
                }
            }
        }
        // Unmap every entry: only the root remains.
        while (!ref.entries.empty()) {
            const auto [io, e] = *ref.entries.begin();
            REQUIRE(t.unmap(iova{io}, e.size) == e.size);
            ref.entries.erase(ref.entries.begin());
        }
        CHECK(list_entries<F>(t, fx.arena).empty());
        CHECK(fx.arena.live_units() == root_units);
    }
    CHECK(fx.arena.live_units() == 0);
    CHECK(fx.arena.misuse() == 0);
}

} // namespace passthru::testing
