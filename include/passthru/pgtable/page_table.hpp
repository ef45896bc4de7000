#pragma once
// The page-table walker: map, unmap, iova_to_phys and read_and_clear_dirty written once
// for every PageTableFormat (STYLE: Linux generic_pt). The format is a policy of
// constexpr encode/decode functions; nothing here knows a descriptor bit.
//
// Shape of the hot paths (PGTABLE §7.2, §10): a map request is cut into page runs by the
// IOMMU-core split (SEMANTICS G1.3); each run descends from the root once per leaf
// table, then fills that table's slots in one straight loop. A leaf table created for a
// run is filled first and linked into its parent last, so the hardware never sees a
// half-built table and the fill does not pay for zeroing slots it overwrites anyway.
// Unmap is a recursive range walk that clears runs of slots and frees tables it empties.
//
// Invariant: apart from the root, no table in the tree is empty. Map undoes everything
// it added when it fails; unmap frees what it empties. Not thread-safe: the caller
// serialises operations on one table (a hypervisor holds its domain lock).
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <utility>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/allocator.hpp>
#include <passthru/pgtable/dirty_bitmap.hpp>
#include <passthru/pgtable/iotlb_gather.hpp>

namespace passthru::pgtable {

// The leaf that translates an IOVA, as the hardware would find it (Linux's pgtable_walk).
struct leaf_info {
    iova first;          // the entry's first IOVA
    phys_addr pa;        // the output address of that first byte
    unsigned size_lg2;   // the entry's size
    unsigned level;      // the level of the table holding it
    pte_t pte;           // the descriptor (one of the entry's identical slots)
    prot attrs;          // PageTableFormat::leaf_prot of the descriptor
    constexpr bool operator==(const leaf_info&) const = default;
};

template <PageTableFormat F, PageAllocator A, WalkHooks H = coherent_walk>
class page_table {
public:
    using format = F;
    static constexpr unsigned top = F::top_level;

    // Every leaf size the format can hold inside its input and output spaces (the
    // pgsize_bitmap a domain of this format can offer; generic_pt hides sizes past the OA).
    static constexpr pgsize_bitmap format_pgsizes() noexcept {
        std::uint64_t b = 0;
        for (unsigned l = 0; l <= top; ++l) b |= F::leaf_sizes(l);
        const unsigned bits = F::va_bits < F::oa_bits ? F::va_bits : F::oa_bits;
        if (bits < 64) b &= (std::uint64_t{1} << bits) - 1;
        return {b};
    }

    // An empty table: just a zeroed root, allocated from `alloc`.
    static constexpr result<page_table> create(A& alloc, H hooks = {}) {
        auto root = alloc.alloc_table(slots(top));
        if (!root) return fail(errc::enomem, "no memory for the root table");
        return page_table(alloc, *root, std::move(hooks));
    }

    // An empty table over `root`, a table of slots(top_level) words from `alloc` (for a
    // root at a fixed place, and in constant evaluation, where result<> cannot hold a
    // page_table). The table owns `root` from now on and clears it.
    constexpr page_table(A& alloc, table_page root, H hooks = {})
        : alloc_(&alloc), root_(root), hooks_(std::move(hooks)) {
        std::fill(root_.ptr, root_.ptr + slots(top), pte_t{0});
        hooks_.sync_ptes(root_.ptr, slots(top));
    }

    constexpr page_table(page_table&& o) noexcept
        : alloc_(o.alloc_), root_(std::exchange(o.root_, table_page{})), hooks_(std::move(o.hooks_)) {}
    page_table& operator=(page_table&&) = delete;
    page_table(const page_table&) = delete;
    constexpr ~page_table() {
        if (root_.ptr) free_tree(root_, top);
    }

    // Physical address of the root table: what TTBR / SLPTPTR / the DTE point at.
    constexpr phys_addr root() const noexcept { return root_.pa; }
    constexpr const H& hooks() const noexcept { return hooks_; }
    constexpr H& hooks() noexcept { return hooks_; }

    // Map [io, io+size) to [pa, pa+size) with `p`, all or nothing: on any failure the
    // table is left exactly as it was. `allowed` narrows the page sizes (the domain's
    // pgsize_bitmap, e.g. a container without huge pages).
    //   EINVAL  neither READ nor WRITE (PGTABLE §0.1); size 0; not aligned (SEMANTICS G1.2)
    //   ENODEV  no page size left (G1.1)
    //   EOVERFLOW  io + size - 1 wraps
    //   ERANGE  beyond the format's input or output width (PGTABLE §1.8)
    //   EEXIST  any byte already mapped
    //   ENOMEM  the allocator ran dry
    constexpr result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p,
                               pgsize_bitmap allowed = format_pgsizes()) {
        // The IOMMU core's checks first (SEMANTICS G1.1, G1.2), then the driver's.
        const pgsize_bitmap b = allowed & format_pgsizes();
        if (b.empty()) return fail(errc::enodev, "no page size is both allowed and in the format");
        if (size == 0) return fail(errc::einval, "size is 0");
        if (!aligned_for(b, io, pa, size))
            return fail(errc::einval, "iova, paddr or size is not a multiple of the smallest page");
        if (io.value + (size - 1) < io.value || pa.value + (size - 1) < pa.value)
            return fail(errc::eoverflow, "the range wraps past 2^64-1");
        if (!has_any(p, prot::read | prot::write))
            return fail(errc::einval, "a mapping needs IOMMU_READ or IOMMU_WRITE");
        if (!below(io.value + (size - 1), F::va_bits))
            return fail(errc::erange, "iova beyond the table's input address width");
        if (!below(pa.value + (size - 1), F::oa_bits))
            return fail(errc::erange, "physical address beyond the table's output width");

        std::uint64_t mapped = 0;
        for (const page_run& run : page_split(b, io, pa, size)) {
            const error e = map_run(run, p, mapped);
            if (e.code != errc::ok) {
                undo(io, mapped);
                return tl::unexpected(e);
            }
        }
        return {};
    }

    // Unmap from `io`, whole entries at a time, recording what to invalidate and the
    // tables freed in `g` (free them with release() after the invalidation). Returns the
    // bytes unmapped, SEMANTICS G1.5 / PGTABLE §0.4: 0 when misaligned or beyond the input
    // width; stops at the first hole or at a leaf that starts before `io`; a leaf that
    // starts inside the range is removed whole (or, for partial_unmap::refuse formats,
    // not at all when it reaches past the range), so the result may exceed `size`.
    constexpr std::uint64_t unmap(iova io, std::uint64_t size, iotlb_gather& g) {
        const std::uint64_t min = format_pgsizes().min_pgsize();
        if (size == 0 || ((io.value | size) & (min - 1)) != 0) return 0;
        if (io.value + (size - 1) < io.value || !below(io.value + (size - 1), F::va_bits)) return 0;
        unmap_walk w{io.value, size, 0, false, g};
        unmap_level(root_.ptr, top, w);
        return w.done;
    }

    // The IommuDomain-style unmap: gathers, lets the hooks invalidate, frees.
    constexpr std::uint64_t unmap(iova io, std::uint64_t size) {
        iotlb_gather g;
        const std::uint64_t done = unmap(io, size, g);
        if (!g.empty()) hooks_.flush_iotlb(g);
        release(g);
        return done;
    }

    // Give the tables of `g` back to the allocator; call after invalidating its range.
    constexpr void release(iotlb_gather& g) {
        for (const freed_table& t : g.freed) alloc_->free_table(t.page, t.slots);
        g.freed.clear();
    }

    constexpr std::optional<phys_addr> iova_to_phys(iova io) const {
        const auto leaf = leaf_at(io);
        if (!leaf) return std::nullopt;
        return leaf->pa + (io - leaf->first);
    }

    // The leaf entry that translates `io`, if any: its extent, level, descriptor and
    // attributes (what a VMM needs to find physically contiguous runs, or to audit).
    constexpr std::optional<leaf_info> leaf_at(iova io) const {
        if (!below(io.value, F::va_bits)) return std::nullopt;
        const pte_t* t = root_.ptr;
        for (unsigned lvl = top;; --lvl) {
            const pte_t e = t[index(io.value, lvl)];
            switch (F::classify(e, lvl)) {
            case pte_kind::empty: return std::nullopt;
            case pte_kind::leaf: {
                const unsigned lg2 = F::leaf_size_lg2(e, lvl);
                const std::uint64_t mask = (std::uint64_t{1} << lg2) - 1;
                return leaf_info{iova{io.value & ~mask}, F::leaf_pa(e, lvl), lg2, lvl, e,
                                 F::leaf_prot(e, lvl)};
            }
            case pte_kind::table: t = alloc_->table_at(F::table_pa(e)); break;
            }
            if (lvl == 0) return std::nullopt; // a table descriptor at level 0 is corrupt
        }
    }

    // Report in `bits` every page of [io, io+size) that a leaf marks written, and make
    // those leaves clean again unless `clear` is false (IOMMU_DIRTY_NO_CLEAR), adding the
    // cleaned ranges to `g` (PGTABLE §8). A dirty large leaf marks its whole span.
    constexpr result<void> read_and_clear_dirty(iova io, std::uint64_t size, dirty_bitmap& bits,
                                                iotlb_gather& g, bool clear = true)
        requires F::dirty_tracking
    {
        if (size == 0) return fail(errc::einval, "size is 0");
        if (io.value + (size - 1) < io.value) return fail(errc::eoverflow, "the range wraps");
        if (!below(io.value + (size - 1), F::va_bits))
            return fail(errc::erange, "iova beyond the table's input address width");
        dirty_walk w{{io.value, io.value + (size - 1)}, bits, g, clear};
        dirty_level(root_.ptr, top, w);
        return {};
    }

    // Number of slots in a table at `level`.
    static constexpr std::size_t slots(unsigned level) noexcept {
        return std::size_t{1} << F::table_lg2(level);
    }

private:
    static constexpr bool below(std::uint64_t last, unsigned bits) noexcept {
        return bits >= 64 || (last >> bits) == 0;
    }
    static constexpr std::size_t index(std::uint64_t io, unsigned level) noexcept {
        return static_cast<std::size_t>((io >> F::item_lg2(level)) & (slots(level) - 1));
    }
    // The level whose leaves have size 2^lg2 (an item, or a contiguous group of items).
    static constexpr unsigned level_for(unsigned lg2) noexcept {
        for (unsigned l = top + 1; l-- > 0;)
            if (F::item_lg2(l) <= lg2 && (F::leaf_sizes(l) >> lg2 & 1)) return l;
        return 0;
    }

    // ---- map ---------------------------------------------------------------------

    struct leaf_table {
        pte_t* ptr = nullptr;
        table_page fresh{};           // set when the table was allocated for this run
        pte_t* parent_slot = nullptr; // where to link a fresh table
        unsigned parent_level = 0;
    };

    // Walk from the root to the table at `level` that holds `io`, creating missing
    // intermediate tables. The table at `level` itself, when missing, is allocated but
    // not linked (the caller fills it first). On failure nothing created here remains.
    constexpr error descend_for_map(std::uint64_t io, unsigned level, leaf_table& out) {
        struct created_table {
            pte_t* slot;
            table_page page;
            unsigned level;
        };
        std::array<created_table, 6> created{};
        std::size_t ncreated = 0;
        auto unwind = [&] {
            while (ncreated > 0) {
                const created_table& c = created[--ncreated];
                *c.slot = 0;
                hooks_.sync_ptes(c.slot, 1);
                alloc_->free_table(c.page, slots(c.level));
            }
        };

        pte_t* t = root_.ptr;
        for (unsigned lvl = top; lvl > level; --lvl) {
            pte_t& slot = t[index(io, lvl)];
            switch (F::classify(slot, lvl)) {
            case pte_kind::table: t = alloc_->table_at(F::table_pa(slot)); continue;
            case pte_kind::leaf: return {errc::eexist, "a larger page already maps part of the range"};
            case pte_kind::empty: break;
            }
            auto child = alloc_->alloc_table(slots(lvl - 1));
            if (!child) {
                unwind();
                return {errc::enomem, "no memory for a page table"};
            }
            if (lvl - 1 == level) {
                out = {child->ptr, *child, &slot, lvl};
                return {errc::ok, {}};
            }
            std::fill(child->ptr, child->ptr + slots(lvl - 1), pte_t{0});
            hooks_.sync_ptes(child->ptr, slots(lvl - 1));
            slot = F::make_table(child->pa, lvl);
            hooks_.sync_ptes(&slot, 1);
            created[ncreated++] = {&slot, *child, lvl - 1};
            t = child->ptr;
        }
        out = {t, {}, nullptr, 0};
        return {errc::ok, {}};
    }

    // Map one run of equal pages, a leaf table at a time; adds what it mapped to `mapped`.
    constexpr error map_run(const page_run& run, prot p, std::uint64_t& mapped) {
        const unsigned lg2 = static_cast<unsigned>(std::countr_zero(run.pgsize));
        const unsigned level = level_for(lg2);
        const std::size_t reps = std::size_t{1} << (lg2 - F::item_lg2(level));
        const std::size_t nslots = slots(level);

        std::uint64_t io = run.io.value, pa = run.pa.value, left = run.count;
        while (left > 0) {
            leaf_table lt;
            if (error e = descend_for_map(io, level, lt); e.code != errc::ok) return e;
            const std::size_t first = index(io, level);
            std::uint64_t n = std::min<std::uint64_t>(left, (nslots - first) / reps);
            // Keep the fill linear in the output address (PageTableFormat::leaf_linear_lg2).
            if (F::leaf_linear_lg2 < 64) {
                const std::uint64_t block = std::uint64_t{1} << F::leaf_linear_lg2;
                n = std::min<std::uint64_t>(n, (block - (pa & (block - 1))) >> lg2);
            }
            const std::size_t end = first + static_cast<std::size_t>(n) * reps;

            if (!lt.fresh.ptr && !slots_empty(lt.ptr, first, end, level))
                return {errc::eexist, "part of the range is already mapped"};
            fill(lt.ptr + first, static_cast<std::size_t>(n), reps,
                 F::make_leaf(phys_addr{pa}, level, lg2, p), run.pgsize);
            if (lt.fresh.ptr) {
                // Publish the new table only once every slot holds its final value.
                std::fill(lt.ptr, lt.ptr + first, pte_t{0});
                std::fill(lt.ptr + end, lt.ptr + nslots, pte_t{0});
                hooks_.sync_ptes(lt.ptr, nslots);
                *lt.parent_slot = F::make_table(lt.fresh.pa, lt.parent_level);
                hooks_.sync_ptes(lt.parent_slot, 1);
            } else {
                hooks_.sync_ptes(lt.ptr + first, end - first);
            }
            const std::uint64_t bytes = n << lg2;
            mapped += bytes;
            left -= n;
            io += bytes;
            pa += bytes;
        }
        return {errc::ok, {}};
    }

    static constexpr bool slots_empty(const pte_t* t, std::size_t first, std::size_t end,
                                      unsigned level) noexcept {
        pte_t any = 0;
        for (std::size_t i = first; i < end; ++i) any |= t[i];
        if (any == 0) return true;
        // Only an all-zero word is written for "empty"; a format may still read some
        // non-zero words as empty (VT-d without R/W), so ask it before refusing.
        for (std::size_t i = first; i < end; ++i)
            if (F::classify(t[i], level) != pte_kind::empty) return false;
        return true;
    }

    // The straight loop of the map hot path: n entries of `reps` identical slots each,
    // consecutive entries `step` bytes apart in output space.
    static constexpr void fill(pte_t* t, std::size_t n, std::size_t reps, pte_t v,
                               std::uint64_t step) noexcept {
        if (reps == 1) {
            for (std::size_t i = 0; i < n; ++i, v += step) t[i] = v;
            return;
        }
        for (std::size_t e = 0; e < n; ++e, v += step)
            std::fill(t + e * reps, t + (e + 1) * reps, v);
    }

    // Remove what a failed map added (a range it mapped completely, so no holes).
    constexpr void undo(iova io, std::uint64_t mapped) {
        if (mapped == 0) return;
        iotlb_gather g;
        unmap_walk w{io.value, mapped, 0, false, g};
        unmap_level(root_.ptr, top, w);
        hooks_.flush_iotlb(g);
        release(g);
    }

    // ---- unmap -------------------------------------------------------------------

    struct unmap_walk {
        std::uint64_t cur;  // next IOVA to unmap
        std::uint64_t left; // bytes still requested
        std::uint64_t done; // bytes unmapped
        bool stop;          // a hole or a partial leaf ended the walk
        iotlb_gather& g;
    };

    // Unmap inside table `t` (at `level`) from w.cur; returns true when `t` is now empty.
    constexpr bool unmap_level(pte_t* t, unsigned level, unmap_walk& w) {
        const std::size_t n = slots(level);
        const std::size_t start = index(w.cur, level);
        std::size_t i = start;
        std::size_t cleared_from = n, cleared_to = 0; // slot span to sync
        while (i < n && w.left > 0 && !w.stop) {
            const pte_t e = t[i];
            const pte_kind kind = F::classify(e, level);
            if (kind == pte_kind::empty) {
                w.stop = true; // a hole ends the unmap (SEMANTICS G1.5)
                break;
            }
            if (kind == pte_kind::table) {
                const phys_addr child_pa = F::table_pa(e);
                if (unmap_level(alloc_->table_at(child_pa), level - 1, w)) {
                    t[i] = 0;
                    cleared_from = std::min(cleared_from, i);
                    cleared_to = std::max(cleared_to, i + 1);
                    w.g.walk_cache = true;
                    w.g.freed.push_back({{child_pa, alloc_->table_at(child_pa)}, slots(level - 1)});
                }
                if (w.stop || w.left == 0) break;
                ++i; // the child's span is done
                continue;
            }
            const unsigned size_lg2 = F::leaf_size_lg2(e, level);
            if (size_lg2 == F::item_lg2(level) && (w.cur & ((std::uint64_t{1} << size_lg2) - 1)) == 0) {
                // The hot case: a run of one-slot leaves, cleared in one tight loop with
                // one gather update. A leaf starting inside the range goes whole, so the
                // run may take ceil(left / item) slots; refuse-rule formats only whole ones.
                const unsigned item_lg2 = F::item_lg2(level);
                const std::uint64_t fit = F::partial_leaf_unmap == partial_unmap::refuse
                                              ? w.left >> item_lg2
                                              : ((w.left - 1) >> item_lg2) + 1;
                const std::size_t last = i + static_cast<std::size_t>(
                                                 std::min<std::uint64_t>(fit, n - i));
                const std::size_t j = clear_item_leaf_run(t, i, last, level);
                if (j == i) {
                    w.stop = true; // the refuse rule: the leaf reaches past the range
                    break;
                }
                const std::uint64_t bytes = std::uint64_t{j - i} << item_lg2;
                cleared_from = std::min(cleared_from, i);
                cleared_to = std::max(cleared_to, j);
                w.g.add_range({w.cur, w.cur + (bytes - 1)});
                w.done += bytes;
                w.left = bytes >= w.left ? 0 : w.left - bytes;
                w.cur += bytes;
                i = j;
                continue;
            }
            const std::uint64_t esize = std::uint64_t{1} << size_lg2;
            if ((w.cur & (esize - 1)) != 0 ||
                (F::partial_leaf_unmap == partial_unmap::refuse && esize > w.left)) {
                w.stop = true; // starts inside a leaf, or would remove more than asked (§0.4)
                break;
            }
            const std::size_t reps = std::size_t{1} << (size_lg2 - F::item_lg2(level));
            const std::size_t first = i & ~(reps - 1);
            std::fill(t + first, t + first + reps, pte_t{0});
            cleared_from = std::min(cleared_from, first);
            cleared_to = std::max(cleared_to, first + reps);
            w.g.add_range({w.cur, w.cur + (esize - 1)});
            w.done += esize;
            w.left = esize >= w.left ? 0 : w.left - esize;
            w.cur += esize; // wraps to 0 only with left == 0
            i = first + reps;
        }
        if (cleared_from < cleared_to)
            hooks_.sync_ptes(t + cleared_from, cleared_to - cleared_from);
        if (level == top) return false; // the root stays
        // Cleared from the first slot to the last without stopping: empty, no scan needed.
        if (start == 0 && cleared_from == 0 && cleared_to == n) return true;
        return std::all_of(t, t + n, [](pte_t e) { return e == 0; });
    }

    // Clear the run of one-slot leaves that starts at t[i] and ends before t[last];
    // returns where it ended. The unmap hot path, instantiated per level so each
    // format's decode folds to a few bit tests (one pass: ~1.4-2.1x memset over 1 GiB of
    // 4K pages in scripts/bench, against ~1.6-2.3x for scan-then-fill).
    static constexpr std::size_t clear_item_leaf_run(pte_t* t, std::size_t i, std::size_t last,
                                                     unsigned level) noexcept {
        return [&]<unsigned... L>(std::integer_sequence<unsigned, L...>) {
            std::size_t j = i;
            (void)((level == L && (j = clear_item_leaf_run_at<L>(t, i, last), true)) || ...);
            return j;
        }(std::make_integer_sequence<unsigned, top + 1>{});
    }
    template <unsigned Level>
    static constexpr std::size_t clear_item_leaf_run_at(pte_t* t, std::size_t i,
                                                        std::size_t last) noexcept {
        constexpr unsigned item_lg2 = F::item_lg2(Level);
        for (; i < last && F::classify(t[i], Level) == pte_kind::leaf &&
               F::leaf_size_lg2(t[i], Level) == item_lg2;
             ++i)
            t[i] = 0;
        return i;
    }

    // ---- dirty -------------------------------------------------------------------

    struct dirty_walk {
        interval range;
        dirty_bitmap& bits;
        iotlb_gather& g;
        bool clear;
    };

    constexpr void dirty_level(pte_t* t, unsigned level, dirty_walk& w) {
        const std::uint64_t item = std::uint64_t{1} << F::item_lg2(level);
        // Slots of this table that intersect the range.
        const std::uint64_t table_span_lg2 = F::item_lg2(level) + F::table_lg2(level);
        const std::uint64_t table_base =
            table_span_lg2 >= 64 ? 0 : w.range.first & ~((std::uint64_t{1} << table_span_lg2) - 1);
        std::size_t i = index(w.range.first, level);
        for (; i < slots(level); ++i) {
            const std::uint64_t slot_first = table_base + i * item;
            if (slot_first > w.range.last || (i > 0 && slot_first == 0)) break;
            const pte_t e = t[i];
            const pte_kind kind = F::classify(e, level);
            if (kind == pte_kind::empty) continue;
            if (kind == pte_kind::table) {
                dirty_walk sub = w;
                sub.range.first = std::max(w.range.first, slot_first);
                dirty_level(alloc_->table_at(F::table_pa(e)), level - 1, sub);
                continue;
            }
            const unsigned size_lg2 = F::leaf_size_lg2(e, level);
            const std::size_t reps = std::size_t{1} << (size_lg2 - F::item_lg2(level));
            const std::size_t first = i & ~(reps - 1);
            bool dirty = false;
            for (std::size_t r = first; r < first + reps; ++r) dirty |= F::is_dirty(t[r]);
            if (dirty) {
                const std::uint64_t entry_first = table_base + first * item;
                const std::uint64_t entry_last = entry_first + ((std::uint64_t{1} << size_lg2) - 1);
                const interval span{std::max(entry_first, w.range.first),
                                    std::min(entry_last, w.range.last)};
                w.bits.set(span.first, span.last);
                if (w.clear) {
                    for (std::size_t r = first; r < first + reps; ++r) t[r] = F::make_clean(t[r]);
                    hooks_.sync_ptes(t + first, reps);
                    w.g.add_range(span);
                }
            }
            i = first + reps - 1;
        }
    }

    // ---- teardown ----------------------------------------------------------------

    constexpr void free_tree(table_page t, unsigned level) {
        if (level > 0)
            for (std::size_t i = 0; i < slots(level); ++i)
                if (F::classify(t.ptr[i], level) == pte_kind::table) {
                    const phys_addr child = F::table_pa(t.ptr[i]);
                    free_tree({child, alloc_->table_at(child)}, level - 1);
                }
        alloc_->free_table(t, slots(level));
    }

    A* alloc_;
    table_page root_;
    [[no_unique_address]] H hooks_;
};

} // namespace passthru::pgtable
