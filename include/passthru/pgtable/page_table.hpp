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
#include <passthru/pgtable/dirty_bitmap.hpp>
#include <passthru/pgtable/dirty_walk.hpp>
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

// The algorithms are level functions in bases, one header each: unmap_walk.hpp,
// map_walk.hpp (map undoes through unmap), dirty_walk.hpp; the state is
// detail/table_state.hpp. This class is the interface and the lookup.
enum class map_over : std::uint8_t { refuse, replace_leaves };

template <PageTableFormat F, PageAllocator A, WalkHooks H = coherent_walk>
class page_table : detail::dirty_walker<F, A, H> {
    using base = detail::dirty_walker<F, A, H>;
    using cursor = level_cursor<F>;
    using base::alloc_;
    using base::epoch_;
    using base::hooks_;
    using base::root_;
    using typename base::dirty_walk;
    using typename base::unmap_walk;

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
        : base(alloc, root, std::move(hooks)) {
        std::fill(root_.ptr, root_.ptr + slots<F>(top), pte_t{0});
        hooks_.sync_ptes(root_.ptr, slots<F>(top));
    }
    constexpr page_table(page_table&& o) noexcept : base(std::move(o)) {}
    page_table& operator=(page_table&&) = delete;
    page_table(const page_table&) = delete;
    constexpr ~page_table() {
        if (root_.ptr) free_tree(root_, top);
    }

    // What a map over already-mapped slots does. Every current driver refuses (EEXIST); the
    // AMD-Vi io-pgtable before the generic_pt conversion (v6.19) rewrote leaves in place,
    // which the 6.1/6.12 profiles need where type1 maps one page twice (SEMANTICS P5). Only
    // leaves of the new page's size are rewritten; anything else is still EEXIST. A failed
    // map then undoes the whole range, rewritten leaves included, as that kernel did.
    constexpr void set_map_over(map_over m) noexcept { this->replace_leaves_ = m == map_over::replace_leaves; }
    constexpr map_over map_over_mode() const noexcept {
        return this->replace_leaves_ ? map_over::replace_leaves : map_over::refuse;
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
        return this->map_along(path, io, pa, size, p, allowed);
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
        this->unmap_level(cursor::over(root_.ptr, top, r.first, r.last), w);
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
    constexpr void release(iotlb_gather& g) { base::release(g); }

    constexpr std::optional<phys_addr> iova_to_phys(iova io) const {
        const auto leaf = find_leaf(io);
        if (!leaf) return std::nullopt;
        const std::uint64_t mask = (std::uint64_t{1} << F::leaf_size_lg2(leaf->pte, leaf->level)) - 1;
        return F::leaf_pa(leaf->pte, leaf->level) + (io.value & mask);
    }

    // The leaf entry that translates `io`, if any: its extent, level, descriptor and
    // attributes (what a VMM needs to find physically contiguous runs, or to audit).
    constexpr std::optional<leaf_info> leaf_at(iova io) const {
        const auto leaf = find_leaf(io);
        if (!leaf) return std::nullopt;
        const unsigned lg2 = F::leaf_size_lg2(leaf->pte, leaf->level);
        return leaf_info{iova{io.value & ~((std::uint64_t{1} << lg2) - 1)}, F::leaf_pa(leaf->pte, leaf->level),
                         lg2, leaf->level, leaf->pte, F::leaf_prot(leaf->pte, leaf->level)};
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
        this->dirty_level(cursor::over(root_.ptr, top, r.first, r.last), w);
        return {};
    }

private:
    // ---- lookup ------------------------------------------------------------------

    // The lookup walk: the leaf descriptor that translates `io` and its level, or nothing
    // over a hole and beyond the input width (never a lower alias). A lookup reads one
    // slot per level, so it indexes the tables directly rather than through a
    // level_cursor, in a plain loop that g++ inlines whole, each format's decode folded in.
    // (Unrolled over the level as a template argument, the walk grew its callers until g++
    // outlined the decodes: up to 2.4x the latency, scripts/bench iova_to_phys.)
    struct leaf_slot {
        pte_t pte;
        unsigned level;
    };
    constexpr std::optional<leaf_slot> find_leaf(iova io) const {
        if (!fits_in(io.value, F::va_bits)) return std::nullopt;
        const pte_t* table = root_.ptr;
        for (unsigned level = top;; --level) {
            const pte_t pte = table[index_of<F>(io.value, level)];
            switch (F::classify(pte, level)) {
            case pte_kind::empty: return std::nullopt;
            case pte_kind::leaf: return leaf_slot{pte, level};
            case pte_kind::table: table = alloc_->table_at(F::table_pa(pte)); break;
            }
            if (level == 0) return std::nullopt; // a table descriptor at level 0 is corrupt
        }
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
};

} // namespace passthru::pgtable
