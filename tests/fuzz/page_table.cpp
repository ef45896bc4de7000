// Fuzz target: the page-table walker against the reference model (tests/support), for a
// format picked by the input (the mock, VT-d, AMD-Vi with contiguous entries, ARM with the
// refuse rule), over an arena small enough to run dry. After every operation:
//   map       succeeds iff the reference maps and memory suffices; EEXIST (or ENOMEM) over
//             a live mapping; a failed map leaves every table word and the arena's live
//             units exactly as they were (SEMANTICS G1, PGTABLE §0.4)
//   unmap     returns the bytes the reference removes
//   lookup    every probed IOVA translates as the reference says, never past the width
//   dirty     a harvest reports exactly the entries the device wrote, and a second one
//             nothing (PGTABLE §8)
// and at the end everything unmaps to the root alone, with no misuse of the arena.
#include <array>
#include <cstdint>
#include <iterator>
#include <set>
#include <type_traits>
#include <vector>

#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/arm_lpae.hpp>
#include <passthru/pgtable/page_table.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

#include "format_properties.hpp"
#include "fuzz_input.hpp"
#include "mock_format.hpp"
#include "pgtable_harness.hpp"

using namespace passthru;
using namespace passthru::pgtable;
using passthru::fuzz::check;

namespace {

// 64 GiB of IOVA across the 512 GiB root boundary of a 4-level table.
constexpr std::uint64_t window_base = 512 * GiB - 32 * GiB, window = 64 * GiB;
constexpr std::uint64_t pa_base = 4 * GiB;

template <class F>
void run(fuzz::input& in) {
    using table_t = page_table<F, arena_allocator>;
    const pgsize_bitmap sizes = format_pgsizes<F>();
    const std::uint64_t min = sizes.min_pgsize();
    std::vector<std::uint64_t> aligns;
    for (std::uint64_t s = min; s != 0 && s <= GiB; s <<= 1)
        if (sizes.supports(s)) aligns.push_back(s);

    testing::table_fixture<F> fx(8 + in.below(120));
    testing::reference_table ref;
    ref.rule = F::partial_leaf_unmap;
    std::set<std::uint64_t> dirty; // reference entries the device wrote
    {
        auto created = table_t::create(fx.arena);
        check(created.has_value(), "create");
        table_t& t = *created;
        const std::size_t root_units = fx.arena.live_units();
        for (int op = 0; op < 64 && !in.empty(); ++op) {
            switch (in.byte() % 5) {
            case 0:
            case 1: { // map
                const std::uint64_t align = aligns[in.below(aligns.size())];
                const std::uint64_t io = window_base + in.below(window / align) * align;
                std::uint64_t size = align * (1 + in.below(8)) + min * in.below(16);
                if (io + size > window_base + window) size = window_base + window - io;
                const std::uint64_t pa =
                    pa_base + (in.byte() % 4 ? io - window_base : in.below(window / min) * min);
                const prot p = static_cast<prot>(in.byte() & 0x3F);
                const auto before = testing::snapshot<F>(t, fx.arena);
                const std::size_t live = fx.arena.live_units();
                auto r = t.map(iova{io}, phys_addr{pa}, size, p);
                const bool overlap = ref.overlaps(io, io + size - 1);
                if (!has_any(p, prot::read | prot::write)) {
                    check(!r && r.error().code == errc::einval, "a map without R or W is EINVAL");
                } else if (r) {
                    check(!overlap, "a map over a live mapping succeeded");
                    check(ref.map(sizes, io, pa, size, p), "the reference refused a map");
                } else {
                    check(r.error().code == errc::enomem || (overlap && r.error().code == errc::eexist),
                          "a map failed with an unexpected errno");
                }
                if (!r) {
                    check(testing::snapshot<F>(t, fx.arena) == before, "a failed map changed the table");
                    check(fx.arena.live_units() == live, "a failed map leaked or freed tables");
                } else {
                    // ARM's writable leaves start writable-dirty (PGTABLE §1.11 example 4).
                    bool starts_dirty = false;
                    if constexpr (DirtyTrackingFormat<F>)
                        starts_dirty = has(p, prot::write) &&
                                       F::is_dirty(F::make_leaf(phys_addr{0}, 0, F::item_lg2(0), p));
                    for (auto it = ref.entries.lower_bound(io);
                         it != ref.entries.end() && it->first < io + size; ++it)
                        if (starts_dirty) dirty.insert(it->first);
                        else dirty.erase(it->first);
                }
                break;
            }
            case 2: { // unmap
                std::uint64_t io = window_base + in.below(window / min) * min;
                if (!ref.entries.empty() && in.byte() % 4) {
                    auto it = ref.entries.lower_bound(io);
                    if (it == ref.entries.end()) it = ref.entries.begin();
                    io = it->first;
                }
                const std::uint64_t size = min * (1 + in.below(1024));
                const auto before = ref.entries;
                const std::uint64_t want = ref.unmap(io, size);
                check(t.unmap(iova{io}, size) == want, "unmap returned other bytes than the reference");
                for (const auto& [va, e] : before)
                    if (!ref.entries.count(va)) dirty.erase(va);
                break;
            }
            case 3: { // lookups
                for (int k = 0; k < 8; ++k) {
                    const std::uint64_t io = window_base + in.below(window);
                    const auto want = ref.translate(io);
                    const auto got = t.iova_to_phys(iova{io});
                    check(got.has_value() == want.has_value() && (!want || got->value == *want),
                          "a lookup differs from the reference");
                }
                if (F::va_bits < 64)
                    check(!t.leaf_at(iova{window_base + (std::uint64_t{1} << F::va_bits)}),
                          "an IOVA beyond the input width translates");
                break;
            }
            case 4: { // dirty
                if constexpr (DirtyTrackingFormat<F>) {
                    // The device writes some entries: one slot of each (PGTABLE §8).
                    for (int k = in.below(4); k > 0 && !ref.entries.empty(); --k) {
                        auto it = ref.entries.begin();
                        std::advance(it, static_cast<long>(in.below(ref.entries.size())));
                        if (!has(it->second.perm, prot::write)) continue; // no DBM on ARM
                        const std::uint64_t page = in.below(it->second.size / min) * min;
                        pte_t* slot = testing::slot_of<F>(t, fx.arena, it->first + page);
                        *slot = testing::dirty_hardware<F>::write(*slot);
                        dirty.insert(it->first);
                    }
                    const std::uint64_t first = window_base + in.below(window / (64 * min)) * 64 * min;
                    const std::uint64_t len = 64 * min * (1 + in.below(64));
                    std::vector<std::uint64_t> words(len / min / 64 + 1), again(words.size());
                    dirty_bitmap bits{iova{first}, min, words};
                    iotlb_gather g;
                    check(t.read_and_clear_dirty(iova{first}, len, bits, g).has_value(), "harvest");
                    for (std::uint64_t io = first; io < first + len; io += min) {
                        const std::uint64_t k = (io - first) / min;
                        auto it = ref.entries.upper_bound(io);
                        bool want = false;
                        if (it != ref.entries.begin()) {
                            --it;
                            want = io - it->first < it->second.size && dirty.count(it->first);
                        }
                        check(((words[k / 64] >> (k % 64)) & 1) == want, "a harvest bit differs");
                    }
                    dirty_bitmap second{iova{first}, min, again};
                    check(t.read_and_clear_dirty(iova{first}, len, second, g).has_value(), "harvest");
                    for (std::uint64_t w : again) check(w == 0, "a second harvest reports pages");
                    // Every entry that meets the range was cleaned, all of it.
                    for (auto it = dirty.begin(); it != dirty.end();) {
                        const std::uint64_t last = *it + (ref.entries.at(*it).size - 1);
                        it = last >= first && *it < first + len ? dirty.erase(it) : std::next(it);
                    }
                }
                break;
            }
            }
        }
        while (!ref.entries.empty()) {
            const auto [io, e] = *ref.entries.begin();
            check(t.unmap(iova{io}, e.size) == e.size, "unmapping an entry");
            ref.entries.erase(ref.entries.begin());
        }
        check(fx.arena.live_units() == root_units, "tables left after unmapping everything");
    }
    check(fx.arena.live_units() == 0 && fx.arena.misuse() == 0, "the arena was misused");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    switch (in.byte() % 5) {
    case 0: run<testing::mock_format<>>(in); break;
    case 4: run<testing::mock_format<partial_unmap::whole_leaf, false>>(in); break; // plain loops
    case 1: run<vtd_ss<vtd_ss_config{.levels = 4, .dirty_tracking = true}>>(in); break;
    case 2: run<amd_v1<amd_v1_config{.mode = 4, .dirty_tracking = true}>>(in); break;
    case 3: run<arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>>(in); break;
    }
    return 0;
}
