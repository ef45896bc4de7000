#pragma once
// Map as level functions over the cursor (SEMANTICS G1, PGTABLE §7.2): the IOMMU core's
// checks and page split, then for each run the leaf tables reached through a walk_path
// and filled with one store loop each; a new leaf table is filled before it is linked.
// All or nothing: a failure undoes what the call added.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <passthru/concepts/page_allocator.hpp>
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/concepts/walk_hooks.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/cursor.hpp>
#include <passthru/pgtable/detail/slot_kernels.hpp>
#include <passthru/pgtable/iotlb_gather.hpp>
#include <passthru/pgtable/unmap_walk.hpp>

namespace passthru::pgtable::detail {

template <PageTableFormat F, PageAllocator A, WalkHooks H>
class map_walker : protected unmap_walker<F, A, H> {
protected:
    using cursor = level_cursor<F>;
    static constexpr unsigned top = F::top_level;
    using unmap_walker<F, A, H>::unmap_walker;
    using typename unmap_walker<F, A, H>::unmap_walk;

    bool replace_leaves_ = false; // map_over::replace_leaves

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
                path.reset(this->root_.ptr);
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
        // Only the first ncreated are ever read: left uninitialised outside constant
        // evaluation (zeroing it cost a `rep stos` per leaf table, 15% of map_run).
        std::array<created_table, top + 1> created;
        std::size_t ncreated = 0;
        auto unwind = [&] {
            while (ncreated > 0) {
                const created_table& c = created[--ncreated];
                *c.slot = 0;
                this->hooks_.sync_ptes(c.slot, 1);
                this->alloc_->free_table(c.page, slots<F>(c.level));
            }
            path.reset(this->root_.ptr);
        };

        unsigned lvl = path.start_for(io, level);
        pte_t* t = path.table[lvl];
        for (; lvl > level; --lvl) {
            pte_t& slot = t[index_of<F>(io, lvl)];
            switch (F::classify(slot, lvl)) {
            case pte_kind::table:
                t = this->alloc_->table_at(F::table_pa(slot));
                path.remember(t, lvl - 1, io);
                continue;
            case pte_kind::leaf:
                unwind();
                return fail(errc::eexist, "a larger page already maps part of the range",
                            slot_range(io, lvl));
            case pte_kind::empty: break;
            }
            auto child = this->alloc_->alloc_table(slots<F>(lvl - 1));
            if (!child) {
                unwind();
                return fail(errc::enomem, "no memory for a page table");
            }
            if (lvl - 1 == level) {
                out = {child->ptr, *child, &slot, lvl};
                return {};
            }
            std::fill(child->ptr, child->ptr + slots<F>(lvl - 1), pte_t{0});
            this->hooks_.sync_ptes(child->ptr, slots<F>(lvl - 1));
            slot = F::make_table(child->pa, lvl);
            this->hooks_.sync_ptes(&slot, 1);
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
                if (const std::size_t busy = first_busy(lt.ptr, first, end, level);
                    busy < end && !(replace_leaves_ && same_size_leaves(lt.ptr, busy, end, level, lg2)))
                    return fail(errc::eexist, "part of the range is already mapped",
                                slot_range(io + ((busy - first) << F::item_lg2(level)), level));
            fill(lt.ptr + first, static_cast<std::size_t>(n), reps,
                 F::make_leaf(phys_addr{pa}, level, lg2, p), run.pgsize);
            if (lt.fresh.ptr) {
                // Publish the new table only once every slot holds its final value.
                std::fill(lt.ptr, lt.ptr + first, pte_t{0});
                std::fill(lt.ptr + end, lt.ptr + nslots, pte_t{0});
                this->hooks_.sync_ptes(lt.ptr, nslots);
                *lt.parent_slot = F::make_table(lt.fresh.pa, lt.parent_level);
                this->hooks_.sync_ptes(lt.parent_slot, 1);
                path.remember(lt.ptr, level, io);
            } else {
                this->hooks_.sync_ptes(lt.ptr + first, end - first);
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

    // Every slot of [from, end) is empty or a leaf of 2^lg2 bytes: what a map_over::
    // replace_leaves table rewrites in place.
    static constexpr bool same_size_leaves(const pte_t* t, std::size_t from, std::size_t end, unsigned level,
                                           unsigned lg2) noexcept {
        for (std::size_t i = from; i < end; ++i) {
            const pte_kind k = F::classify(t[i], level);
            if (k == pte_kind::table || (k == pte_kind::leaf && F::leaf_size_lg2(t[i], level) != lg2)) return false;
        }
        return true;
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
        this->unmap_level(cursor::over(this->root_.ptr, top, io.value, io.value + (mapped - 1)), w);
        this->hooks_.flush_iotlb(g);
        this->release(g);
    }
};

} // namespace passthru::pgtable::detail
