#pragma once
// The page-table walker: map, unmap, iova_to_phys, leaf_at and read_and_clear_dirty
// written once for every PageTableFormat (STYLE: Linux generic_pt). The format is a policy
// of constexpr encode/decode functions; nothing here knows a descriptor bit. Each
// operation is a level function over a level_cursor (pgtable/cursor.hpp).
//
// Shape of the hot paths (PGTABLE §7.2, §10): a map request is cut into page runs by the
// IOMMU-core split (SEMANTICS G1.3); each run reaches its leaf tables through a walk_path
// (from the lowest table the previous leaf table shares, not from the root) and fills
// each table's slots with one vector store loop. A leaf table created for a run is filled
// first and linked into its parent last, so the hardware never sees a half-built table and
// no slot is zeroed only to be overwritten. Unmap validates runs of small leaves a block
// at a time and clears each block with one fill; the dirty harvest turns 64 slots into one
// 64-bit mask and ORs it into the bitmap.
//
// Invariant: apart from the root, no table in the tree is empty. Map undoes everything
// it added when it fails; unmap frees what it empties. Not thread-safe: the caller
// serialises operations on one table (a hypervisor holds its domain lock).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <utility>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/concepts/walk_hooks.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/cursor.hpp>
#include <passthru/pgtable/detail/slot_kernels.hpp>
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
    using cursor = level_cursor<F>;

public:
    using format = F;
    static constexpr unsigned top = F::top_level;

    // An empty table: just a zeroed root, allocated from `alloc`.
    static constexpr result<page_table> create(A& alloc, H hooks = {}) {
        if constexpr (requires { alloc.status(); }) // an allocator that can say why it is empty
            if (auto ok = alloc.status(); !ok) return tl::unexpected(ok.error());
        auto root = alloc.alloc_table(slots<F>(top));
        if (!root) return fail(errc::enomem, "no memory for the root table");
        return page_table(alloc, *root, std::move(hooks));
    }

    // An empty table over `root`, a table of slots<F>(top_level) words from `alloc` (for a
    // root at a fixed place, and in constant evaluation, where result<> cannot hold a
    // page_table). The table owns `root` from now on and clears it.
    constexpr page_table(A& alloc, table_page root, H hooks = {})
        : alloc_(&alloc), root_(root), hooks_(std::move(hooks)) {
        std::fill(root_.ptr, root_.ptr + slots<F>(top), pte_t{0});
        hooks_.sync_ptes(root_.ptr, slots<F>(top));
    }
    constexpr page_table(page_table&& o) noexcept
        : alloc_(o.alloc_), root_(std::exchange(o.root_, table_page{})),
          hooks_(std::move(o.hooks_)), epoch_(o.epoch_) {}
    page_table& operator=(page_table&&) = delete;
    page_table(const page_table&) = delete;
    constexpr ~page_table() {
        if (root_.ptr) free_tree(root_, top);
    }

    // Physical address of the root table: what TTBR / SLPTPTR / the DTE point at.
    constexpr phys_addr root() const noexcept { return root_.pa; }
    constexpr const H& hooks() const noexcept { return hooks_; }
    constexpr H& hooks() noexcept { return hooks_; }

    // A map session: consecutive map calls reuse the walk down to the tables the previous
    // one filled, so many short runs into the same leaf table (pages pinned one run at a
    // time) do not each descend from the root. Each call has map()'s contract. The session
    // refers to this table (do not move the table while it is in use); an unmap in
    // between may free the tables it remembers, and it then starts from the root again.
    class mapper {
    public:
        constexpr result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p,
                                   pgsize_bitmap allowed = format_pgsizes<F>()) {
            if (epoch_ != table_->epoch_) path_.reset(table_->root_.ptr);
            auto r = table_->map_along(path_, io, pa, size, p, allowed);
            epoch_ = table_->epoch_;
            return r;
        }

    private:
        friend class page_table;
        constexpr explicit mapper(page_table& t) noexcept : table_(&t), epoch_(t.epoch_) {
            path_.reset(t.root_.ptr);
        }
        page_table* table_;
        walk_path<F> path_{};
        std::uint64_t epoch_;
    };
    constexpr mapper map_session() noexcept { return mapper(*this); }

    // Map [io, io+size) to [pa, pa+size) with `p`, all or nothing: on any failure the
    // table is left exactly as it was. `allowed` narrows the page sizes (the domain's
    // pgsize_bitmap, e.g. a container without huge pages).
    //   ENODEV     no page size is both allowed and in the format (SEMANTICS G1.1)
    //   EINVAL     not aligned to the smallest page (G1.2); size 0; neither READ nor WRITE
    //              (PGTABLE §0.1)
    //   EOVERFLOW  the IOVA or the physical range wraps past 2^64-1
    //   ERANGE     beyond the format's input or output width (PGTABLE §1.8)
    //   EEXIST     any byte already mapped (the error's range is the first such slot)
    //   ENOMEM     the allocator ran dry
    constexpr result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p,
                               pgsize_bitmap allowed = format_pgsizes<F>()) {
        walk_path<F> path;
        path.reset(root_.ptr);
        return map_along(path, io, pa, size, p, allowed);
    }

    // Unmap from `io`, whole entries at a time, recording what to invalidate and the
    // tables freed in `g` (free them with release() after the invalidation). Returns the
    // bytes unmapped, SEMANTICS G1.5 / PGTABLE §0.4: 0 when misaligned or when the range
    // is not inside the input width; stops at the first hole or at a leaf that starts
    // before `io`; a leaf that starts inside the range is removed whole (or, for
    // partial_unmap::refuse formats, not at all when it reaches past the range), so the
    // result may exceed `size`.
    constexpr std::uint64_t unmap(iova io, std::uint64_t size, iotlb_gather& g) {
        const std::uint64_t min = format_pgsizes<F>().min_pgsize();
        const auto range = check_range<F>(io, size);
        if (((io.value | size) & (min - 1)) != 0 || !range) return 0;
        const interval r = *range;
        unmap_walk w{r.first, r.last, 0, false, g};
        unmap_level(cursor::over(root_.ptr, top, r.first, r.last), w);
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
        if (!fits_in(io.value, F::va_bits)) return std::nullopt; // never a lower alias
        for (cursor c = cursor::over(root_.ptr, top, io.value, io.value);; c = c.descend(*alloc_, io.value)) {
            switch (c.kind()) {
            case pte_kind::empty: return std::nullopt;
            case pte_kind::leaf: {
                const auto e = c.leaf_entry();
                const pte_t pte = c.slot();
                return leaf_info{iova{e.va}, F::leaf_pa(pte, c.level), e.size_lg2, c.level, pte,
                                 F::leaf_prot(pte, c.level)};
            }
            case pte_kind::table:
                if (c.level == 0) return std::nullopt; // a table descriptor at level 0 is corrupt
                break;
            }
        }
    }

    // Report in `bits` every page of [io, io+size) that a leaf marks written, and make
    // those leaves clean again unless `clear` is false (IOMMU_DIRTY_NO_CLEAR), adding the
    // cleaned ranges to `g` (PGTABLE §8). A dirty large leaf marks its whole span.
    // EINVAL / EOVERFLOW / ERANGE as check_range.
    constexpr result<void> read_and_clear_dirty(iova io, std::uint64_t size, dirty_bitmap& bits,
                                                iotlb_gather& g, bool clear = true)
        requires DirtyTrackingFormat<F>
    {
        const auto range = check_range<F>(io, size);
        if (!range) return tl::unexpected(range.error());
        const interval r = *range;
        dirty_walk w{r, bits, g, clear};
        dirty_level(cursor::over(root_.ptr, top, r.first, r.last), w);
        return {};
    }

private:
    // ---- map ---------------------------------------------------------------------

    constexpr result<void> map_along(walk_path<F>& path, iova io, phys_addr pa,
                                     std::uint64_t size, prot p, pgsize_bitmap allowed) {
        // The IOMMU core's checks first (SEMANTICS G1.1, G1.2), then the driver's.
        const pgsize_bitmap b = allowed & format_pgsizes<F>();
        if (b.empty()) return fail(errc::enodev, "no page size is both allowed and in the format");
        if (!aligned_for(b, io, pa, size))
            return fail(errc::einval, "iova, paddr or size is not a multiple of the smallest page");
        if (auto in = check_range<F>(io, size); !in) return tl::unexpected(in.error());
        if (auto out = check_range<F>(pa, size); !out) return tl::unexpected(out.error());
        if (!has_any(p, prot::read | prot::write))
            return fail(errc::einval, "a mapping needs IOMMU_READ or IOMMU_WRITE");

        std::uint64_t mapped = 0;
        for (const page_run& run : page_split(b, io, pa, size)) {
            if (auto r = map_run(path, run, p, mapped); !r) {
                undo(io, mapped);
                path.reset(root_.ptr);
                return r;
            }
        }
        return {};
    }

    // The leaf table a run fills: live, or allocated for it and not linked yet.
    struct leaf_table {
        pte_t* ptr = nullptr;
        table_page fresh{};           // set when the table was allocated for this run
        pte_t* parent_slot = nullptr; // where to link a fresh table
        unsigned parent_level = 0;
    };

    // The table at `level` that translates `io`, reached from the lowest table of `path`
    // that translates it, creating missing tables below that. A missing table at `level`
    // itself is allocated but not linked (the caller fills it first). On failure nothing
    // created here remains, and `path` is back at the root.
    constexpr result<void> descend_for_map(walk_path<F>& path, std::uint64_t io, unsigned level,
                                           leaf_table& out) {
        struct created_table {
            pte_t* slot;
            table_page page;
            unsigned level;
        };
        std::array<created_table, top + 1> created{};
        std::size_t ncreated = 0;
        auto unwind = [&] {
            while (ncreated > 0) {
                const created_table& c = created[--ncreated];
                *c.slot = 0;
                hooks_.sync_ptes(c.slot, 1);
                alloc_->free_table(c.page, slots<F>(c.level));
            }
            path.reset(root_.ptr);
        };

        unsigned lvl = path.start_for(io, level);
        pte_t* t = path.table[lvl];
        for (; lvl > level; --lvl) {
            pte_t& slot = t[index_of<F>(io, lvl)];
            switch (F::classify(slot, lvl)) {
            case pte_kind::table:
                t = alloc_->table_at(F::table_pa(slot));
                path.remember(t, lvl - 1, io);
                continue;
            case pte_kind::leaf:
                unwind();
                return fail(errc::eexist, "a larger page already maps part of the range",
                            slot_range(io, lvl));
            case pte_kind::empty: break;
            }
            auto child = alloc_->alloc_table(slots<F>(lvl - 1));
            if (!child) {
                unwind();
                return fail(errc::enomem, "no memory for a page table");
            }
            if (lvl - 1 == level) {
                out = {child->ptr, *child, &slot, lvl};
                return {};
            }
            std::fill(child->ptr, child->ptr + slots<F>(lvl - 1), pte_t{0});
            hooks_.sync_ptes(child->ptr, slots<F>(lvl - 1));
            slot = F::make_table(child->pa, lvl);
            hooks_.sync_ptes(&slot, 1);
            created[ncreated++] = {&slot, *child, lvl - 1};
            t = child->ptr;
            path.remember(t, lvl - 1, io);
        }
        out = {t, {}, nullptr, 0};
        return {};
    }

    // Map one run of equal pages, a leaf table at a time; adds what it mapped to `mapped`.
    constexpr result<void> map_run(walk_path<F>& path, const page_run& run, prot p,
                                   std::uint64_t& mapped) {
        const unsigned lg2 = static_cast<unsigned>(std::countr_zero(run.pgsize));
        const unsigned level = level_for_size<F>(lg2);
        const std::size_t reps = std::size_t{1} << (lg2 - F::item_lg2(level));
        const std::size_t nslots = slots<F>(level);

        std::uint64_t io = run.io.value, pa = run.pa.value, left = run.count;
        while (left > 0) {
            leaf_table lt;
            if (auto r = descend_for_map(path, io, level, lt); !r) return r;
            const std::size_t first = index_of<F>(io, level);
            std::uint64_t n = std::min<std::uint64_t>(left, (nslots - first) / reps);
            // Keep the fill linear in the output address (PageTableFormat::leaf_linear_lg2).
            if (F::leaf_linear_lg2 < 64) {
                const std::uint64_t block = std::uint64_t{1} << F::leaf_linear_lg2;
                n = std::min<std::uint64_t>(n, (block - (pa & (block - 1))) >> lg2);
            }
            const std::size_t end = first + static_cast<std::size_t>(n) * reps;

            if (!lt.fresh.ptr)
                if (const std::size_t busy = first_busy(lt.ptr, first, end, level); busy < end)
                    return fail(errc::eexist, "part of the range is already mapped",
                                slot_range(io + ((busy - first) << F::item_lg2(level)), level));
            fill(lt.ptr + first, static_cast<std::size_t>(n), reps,
                 F::make_leaf(phys_addr{pa}, level, lg2, p), run.pgsize);
            if (lt.fresh.ptr) {
                // Publish the new table only once every slot holds its final value.
                std::fill(lt.ptr, lt.ptr + first, pte_t{0});
                std::fill(lt.ptr + end, lt.ptr + nslots, pte_t{0});
                hooks_.sync_ptes(lt.ptr, nslots);
                *lt.parent_slot = F::make_table(lt.fresh.pa, lt.parent_level);
                hooks_.sync_ptes(lt.parent_slot, 1);
                path.remember(lt.ptr, level, io);
            } else {
                hooks_.sync_ptes(lt.ptr + first, end - first);
            }
            const std::uint64_t bytes = n << lg2;
            mapped += bytes;
            left -= n;
            io += bytes;
            pa += bytes;
        }
        return {};
    }

    // The first slot of [first, end) that is not empty, or `end`.
    static constexpr std::size_t first_busy(const pte_t* t, std::size_t first, std::size_t end,
                                            unsigned level) noexcept {
        pte_t any = 0;
        for (std::size_t i = first; i < end; ++i) any |= t[i];
        if (any == 0) return end;
        // Only an all-zero word is written for "empty"; a format may still read some
        // non-zero words as empty (VT-d without R/W), so ask it before refusing.
        for (std::size_t i = first; i < end; ++i)
            if (F::classify(t[i], level) != pte_kind::empty) return i;
        return end;
    }

    // n entries of `reps` identical slots each, consecutive entries `step` bytes apart in
    // output space.
    static constexpr void fill(pte_t* t, std::size_t n, std::size_t reps, pte_t v,
                               std::uint64_t step) noexcept {
        if (reps == 1) return detail::fill_linear(t, n, v, step);
        for (std::size_t e = 0; e < n; ++e, v += step) std::fill_n(t + e * reps, reps, v);
    }

    // The IOVA span of the slot at `level` that translates `io`.
    static constexpr interval slot_range(std::uint64_t io, unsigned level) noexcept {
        const std::uint64_t first = io & ~(cursor::item_size(level) - 1);
        return {first, first + (cursor::item_size(level) - 1)};
    }

    // Remove what a failed map added (a range it mapped completely, so no holes).
    constexpr void undo(iova io, std::uint64_t mapped) {
        if (mapped == 0) return;
        iotlb_gather g;
        unmap_walk w{io.value, io.value + (mapped - 1), 0, false, g};
        unmap_level(cursor::over(root_.ptr, top, io.value, io.value + (mapped - 1)), w);
        hooks_.flush_iotlb(g);
        release(g);
    }

    // ---- unmap -------------------------------------------------------------------

    struct unmap_walk {
        std::uint64_t cur;  // next IOVA to unmap
        std::uint64_t last; // last IOVA requested
        std::uint64_t done; // bytes unmapped
        bool stop;          // finished, or a hole or a partial leaf ended the walk
        iotlb_gather& g;
    };

    // Unmap inside the cursor's table from w.cur; returns true when the table is now empty.
    constexpr bool unmap_level(cursor c, unmap_walk& w) {
        const std::size_t start = c.index, n = slots<F>(c.level);
        std::size_t cleared_to = start; // slots [start, cleared_to) are now all empty
        std::size_t sync_from = n, sync_to = 0;
        auto cleared = [&](std::size_t from, std::size_t to) {
            sync_from = std::min(sync_from, from);
            sync_to = std::max(sync_to, to);
            if (from <= cleared_to) cleared_to = std::max(cleared_to, to);
        };
        while (!c.done() && !w.stop) {
            switch (c.kind()) {
            case pte_kind::empty: w.stop = true; break; // a hole ends the unmap (G1.5)
            case pte_kind::table: {
                const phys_addr child = F::table_pa(c.slot());
                if (unmap_level(c.descend(*alloc_, w.cur), w)) {
                    c.slot() = 0;
                    cleared(c.index, c.index + 1);
                    w.g.walk_cache = true;
                    w.g.freed.push_back({{child, alloc_->table_at(child)}, slots<F>(c.level - 1)});
                    ++epoch_;
                }
                c.advance();
                break;
            }
            case pte_kind::leaf: {
                const auto e = c.leaf_entry();
                const std::uint64_t size = std::uint64_t{1} << e.size_lg2;
                const std::uint64_t elast = e.va + (size - 1);
                // Starts before the range, or (refuse rule) reaches past it (§0.4).
                if (e.va != w.cur || (F::partial_leaf_unmap == partial_unmap::refuse && elast > w.last)) {
                    w.stop = true;
                    break;
                }
                // A run of one-slot leaves goes a block at a time; otherwise this entry.
                const std::size_t k = e.slots == 1 ? clear_item_run(c, w) : 0;
                const std::size_t to = k ? c.index + k : e.first + e.slots;
                if (k == 0) std::fill(c.table + e.first, c.table + to, pte_t{0});
                const std::uint64_t bytes = k ? std::uint64_t{k} << F::item_lg2(c.level) : size;
                cleared(k ? c.index : e.first, to);
                w.g.add_range({w.cur, w.cur + (bytes - 1)});
                w.done += bytes;
                if (w.cur + (bytes - 1) >= w.last) w.stop = true; // also when it ends at 2^64-1
                w.cur += bytes;
                c.advance(to - c.index);
                break;
            }
            }
        }
        if (sync_from < sync_to) hooks_.sync_ptes(c.table + sync_from, sync_to - sync_from);
        if (c.level == top) return false; // the root stays
        if (start == 0 && cleared_to == n) return true;
        return std::all_of(c.table, c.table + n, [](pte_t e) { return e == 0; });
    }

    // Clear the run of one-slot leaves that starts at the cursor's slot (a leaf at w.cur),
    // as far as the range allows; returns how many slots it cleared.
    constexpr std::size_t clear_item_run(const cursor& c, const unmap_walk& w) const noexcept {
        // Entries that start inside the range go whole; refuse-rule formats take only
        // those that end inside it.
        const unsigned item_lg2 = F::item_lg2(c.level);
        const std::uint64_t span = w.last - w.cur; // bytes in range, minus one
        const std::uint64_t item_mask = (std::uint64_t{1} << item_lg2) - 1;
        const std::uint64_t fit = F::partial_leaf_unmap == partial_unmap::refuse
                                      ? (span >> item_lg2) + ((span & item_mask) == item_mask)
                                      : (span >> item_lg2) + 1;
        const std::size_t last = c.index + static_cast<std::size_t>(
                                               std::min<std::uint64_t>(fit, c.end - c.index));
        return clear_item_leaves(c.table, c.index, last, c.level) - c.index;
    }

    // Clear t[i..) while it holds one-slot leaves, up to t[last]; returns where it ended.
    // Instantiated per level so each format's decode folds to a few bit tests.
    static constexpr std::size_t clear_item_leaves(pte_t* t, std::size_t i, std::size_t last,
                                                   unsigned level) noexcept {
        return [&]<unsigned... L>(std::integer_sequence<unsigned, L...>) {
            std::size_t j = i;
            (void)((level == L && (j = clear_item_leaves_at<L>(t, i, last), true)) || ...);
            return j;
        }(std::make_integer_sequence<unsigned, top + 1>{});
    }
    template <unsigned Level>
    static constexpr bool is_item_leaf(pte_t e) noexcept {
        return F::classify(e, Level) == pte_kind::leaf &&
               F::leaf_size_lg2(e, Level) == F::item_lg2(Level);
    }
    template <unsigned Level>
    static constexpr std::size_t clear_item_leaves_at(pte_t* t, std::size_t i,
                                                      std::size_t last) noexcept {
        // Whole blocks first: one AND-reduction validates a block, one fill clears it.
        constexpr std::size_t block = 16;
        for (; i + block <= last; i += block) {
            bool all = true;
            for (std::size_t k = 0; k < block; ++k) all &= is_item_leaf<Level>(t[i + k]);
            if (!all) break;
            std::fill_n(t + i, block, pte_t{0});
        }
        for (; i < last && is_item_leaf<Level>(t[i]); ++i) t[i] = 0;
        return i;
    }

    // ---- dirty -------------------------------------------------------------------

    struct dirty_walk {
        interval range;
        dirty_bitmap& bits;
        iotlb_gather& g;
        bool clear;
    };

    constexpr void dirty_level(cursor c, dirty_walk& w)
        requires DirtyTrackingFormat<F>
    {
        if (c.level == 0) c.advance(harvest_masks(c, w));
        while (!c.done()) {
            switch (c.kind()) {
            case pte_kind::empty: c.advance(); break;
            case pte_kind::table:
                dirty_level(c.descend(*alloc_, w.range.first), w);
                c.advance();
                break;
            case pte_kind::leaf: {
                const auto e = c.leaf_entry();
                harvest_entry(c.table, e, w);
                c.advance(e.first + e.slots - c.index);
                break;
            }
            }
        }
    }

    // A leaf table wholly inside the harvest range, one bitmap bit per slot (4K leaves, a
    // 4K-page bitmap): each 64 slots become one dirty mask, built without branches and ORed
    // into the bitmap, and only the dirty slots are written back. Returns how many slots
    // it handled: all of them, or up to the first 64 that hold something else (a
    // contiguous entry), which dirty_level then takes one entry at a time.
    constexpr std::size_t harvest_masks(const cursor& c, dirty_walk& w) {
        const std::size_t n = slots<F>(0);
        const unsigned item_lg2 = F::item_lg2(0);
        const std::uint64_t base = w.bits.base.value;
        if (w.bits.pgsize != cursor::item_size(0) || n % 64 != 0 || c.index != 0 || c.end != n ||
            c.va < base)
            return 0;
        const std::uint64_t bit0 = (c.va - base) >> item_lg2;
        if (bit0 > w.bits.words.size() * 64 || w.bits.words.size() * 64 - bit0 < n) return 0;
        pte_t* t = c.table;
        for (std::size_t j = 0; j < n; j += 64) {
            std::uint64_t dirty = 0, other = 0;
            for (std::size_t k = 0; k < 64; ++k) {
                const pte_t e = t[j + k];
                const bool leaf = is_item_leaf<0>(e);
                dirty |= std::uint64_t{leaf && F::is_dirty(e)} << k;
                other |= std::uint64_t{!leaf && F::classify(e, 0) != pte_kind::empty} << k;
            }
            if (other) return j;
            if (!dirty) continue;
            const std::uint64_t bit = bit0 + j;
            w.bits.words[bit / 64] |= dirty << (bit % 64);
            if (bit % 64) w.bits.words[bit / 64 + 1] |= dirty >> (64 - bit % 64);
            if (!w.clear) continue;
            const std::size_t lo = static_cast<std::size_t>(std::countr_zero(dirty));
            const std::size_t hi = 63 - static_cast<std::size_t>(std::countl_zero(dirty));
            for (std::uint64_t m = dirty; m; m &= m - 1) {
                pte_t& e = t[j + static_cast<std::size_t>(std::countr_zero(m))];
                e = F::make_clean(e);
            }
            hooks_.sync_ptes(t + j + lo, hi - lo + 1);
            w.g.add_range({c.va + ((j + lo) << item_lg2), c.va + ((j + hi + 1) << item_lg2) - 1});
        }
        return n;
    }

    // One leaf entry: dirty if any of its slots is (the hardware may mark only one).
    constexpr void harvest_entry(pte_t* t, const typename cursor::entry& e, dirty_walk& w) {
        bool dirty = false;
        for (std::size_t r = e.first; r < e.first + e.slots; ++r) dirty |= F::is_dirty(t[r]);
        if (!dirty) return;
        const std::uint64_t elast = e.va + ((std::uint64_t{1} << e.size_lg2) - 1);
        const interval span{std::max(e.va, w.range.first), std::min(elast, w.range.last)};
        w.bits.set(span.first, span.last);
        if (!w.clear) return;
        for (std::size_t r = e.first; r < e.first + e.slots; ++r) t[r] = F::make_clean(t[r]);
        hooks_.sync_ptes(t + e.first, e.slots);
        w.g.add_range(span);
    }

    // ---- teardown ----------------------------------------------------------------

    constexpr void free_tree(table_page t, unsigned level) {
        if (level > 0)
            for (cursor c = cursor::whole(t.ptr, level, 0); !c.done(); c.advance())
                if (c.kind() == pte_kind::table) {
                    const phys_addr child = F::table_pa(c.slot());
                    free_tree({child, alloc_->table_at(child)}, level - 1);
                }
        alloc_->free_table(t, slots<F>(level));
    }

    A* alloc_;
    table_page root_;
    [[no_unique_address]] H hooks_;
    std::uint64_t epoch_ = 0; // tables taken out of the tree so far (walk_path validity)
};

} // namespace passthru::pgtable
