#pragma once
// MAP_DMA and UNMAP_DMA (SEMANTICS §B, §C), pinning and the page runs that reach every
// domain (B14), and the removal of a mapping (unmap from every domain, unpin, uncharge).
#include <passthru/type1/container.hpp>

namespace passthru::type1 {

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<void> container<P, F, Pn, K>::do_map(std::uint64_t iova, std::uint64_t size,
                                                      std::uint64_t vaddr, std::uint32_t flags) {
    using namespace abi::map_flag;
    if (flags & ~(read | write | abi::map_flag::vaddr))
        return fail(errc::einval, "SEMANTICS B2: unknown MAP_DMA flags");
    if (K::facts.overflow_is_eoverflow) { // B4, the v6.18 order
        if (size == 0) return fail(errc::einval, "SEMANTICS B4: size is 0");
        if (iova + (size - 1) < iova || vaddr + (size - 1) < vaddr)
            return overflow("SEMANTICS B4: the IOVA or vaddr range wraps past 2^64-1");
    }
    const prot p = (flags & read ? prot::read : prot::none) | (flags & write ? prot::write : prot::none);
    const bool update = flags & abi::map_flag::vaddr;
    if ((p != prot::none) == update) // B5
        return fail(errc::einval, update ? "SEMANTICS B5: VADDR updates take no READ/WRITE"
                                         : "SEMANTICS B5: a mapping needs READ and/or WRITE");
    const std::uint64_t pg = min_pgsize(); // B6
    if (size == 0 || ((size | iova | vaddr) & (pg - 1))) // B7
        return fail(errc::einval, "SEMANTICS B7: iova, size and vaddr must be multiples of the smallest page size");
    if (iova + (size - 1) < iova || vaddr + (size - 1) < vaddr) // B8
        return overflow("SEMANTICS B8: the IOVA or vaddr range wraps past 2^64-1");
    const interval range{iova, iova + (size - 1)};

    auto hit = dmas_.first_overlapping(range); // B9
    if (update) {
        if (hit == dmas_.end()) return fail(errc::enoent, "SEMANTICS B9: no mapping at this IOVA to update");
        if (!hit->vaddr_invalid || hit->iova.value != iova || hit->size != size)
            return fail(errc::einval, "SEMANTICS B9: a VADDR update must name exactly one invalidated mapping");
        // One process owns every mapping here, so the change of owner moves no charge.
        hit->vaddr = vaddr;
        hit->vaddr_invalid = false;
        --vaddr_invalid_count_;
        return {};
    }
    if (hit != dmas_.end()) return fail(errc::eexist, "SEMANTICS B9: the range overlaps a mapping", range);
    if (dma_avail_ == 0) return fail(errc::enospc, "SEMANTICS B10: dma_entry_limit mappings are live");
    if (!iova_usable(iova_list_, range))
        return fail(errc::einval, "SEMANTICS B11: the range is not inside one usable IOVA range", range);

    dma d{passthru::iova{iova}, size, vaddr, p, false, false, pinner_->lock_cap(), 0, {}}; // B12
    // The kernel links the mapping here and removes it again if what follows fails. Only
    // its tree keeps a trace (the rebalancing moves nodes), and only P5 can show it.
    auto unlinked = [&](const error& e) -> tl::unexpected<error> {
        if constexpr (K::facts.top_end_wraps) dmas_.erase(dmas_.insert(d));
        return tl::unexpected(e);
    };
    auto targets = all_domains();
    if (!targets.empty()) { // B13, B14
        auto pages = pin_map(d, targets);
        if (!pages) return unlinked(pages.error());
        d.locked = *pages;
        d.iommu_mapped = true;
    }
    if (dirty_tracking_) { // B15, after pinning as in the kernel; a failure removes it all
        const std::uint64_t pages = size / pg;
        if (pages > abi::dirty_bitmap_pages_max) {
            if (d.iommu_mapped) unmap_unpin(targets, d.iova, d.size);
            return unlinked({errc::einval, "SEMANTICS B15: too many pages for a dirty bitmap"});
        }
        d.bitmap.assign(abi::dirty_bitmap_bytes(pages) / 8 + 1, 0);
    }
    locked_vm_ += d.locked;
    --dma_avail_;
    dmas_.insert(d);
    return {};
}

// Pin the mapping's pages in runs of consecutive frames of one kind (normal or reserved),
// charge the normal ones against the locked-memory limit page by page in address order,
// and map each maximal run into every target; a run continues across pin calls, as the
// kernel's continues across GUP batches. Returns the pages to charge (`pending` are
// charged already but not yet in locked_vm); on failure everything it did is undone.
template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<std::uint64_t> container<P, F, Pn, K>::pin_map(const dma& d, std::span<domain_type* const> targets,
                                                               std::uint64_t pending) {
    std::array<pinned_run, 256> got{};
    const bool write = has(d.perm, prot::write);
    const std::uint64_t limit = pinner_->memlock_limit_pages();
    const std::uint64_t npages = d.size / host_page;
    std::uint64_t mapped = 0, charged = 0; // bytes mapped from d.iova; pages to charge
    pinned_run open{};                     // pinned, not yet mapped

    auto undo = [&](std::span<const pinned_run> unused, const error& e) -> tl::unexpected<error> {
        for (const pinned_run& r : unused) pinner_->unpin(r.pa, r.pages);
        if (open.pages) pinner_->unpin(open.pa, open.pages);
        if (mapped) unmap_unpin(targets, d.iova, mapped);
        return tl::unexpected(e);
    };
    // One map session per target where the domain keeps its walk (DomainWithMapSession).
    constexpr bool sessions = DomainWithMapSession<domain_type>;
    using session = typename detail::map_session_of<domain_type>::type;
    std::vector<session> walk;
    if constexpr (sessions)
        for (domain_type* t : targets) walk.push_back(t->map_session());
    auto map_one = [&](std::size_t t, passthru::iova io, phys_addr pa, std::uint64_t len) {
        if constexpr (sessions) return walk[t].map(io, pa, len, d.perm | P::map_prot);
        else return targets[t]->map(io, pa, len, d.perm | P::map_prot);
    };
    auto flush = [&]() -> result<void> {
        const passthru::iova io = d.iova + mapped;
        const std::uint64_t len = open.pages * host_page;
        for (std::size_t t = 0; t < targets.size(); ++t) {
            if (auto r = map_one(t, io, open.pa, len); !r) {
                for (std::size_t u = 0; u < t; ++u) targets[u]->unmap(io, len);
                return r;
            }
        }
        mapped += len;
        open.pages = 0;
        return {};
    };
    // Adds `r` to the open run, flushing first when it does not continue it.
    auto take = [&](const pinned_run& r) -> result<void> {
        if (open.pages && r.reserved == open.reserved && r.pa.value == open.pa.value + open.pages * host_page) {
            open.pages += r.pages;
            return {};
        }
        if (open.pages)
            if (auto f = flush(); !f) return f;
        open = r;
        return {};
    };

    for (std::uint64_t done = 0; done < npages;) {
        auto n = pinner_->pin(d.vaddr + done * host_page, npages - done, write, got);
        if (!n) return undo({}, n.error());
        const std::span<pinned_run> runs(got.data(), *n);
        for (std::size_t i = 0; i < runs.size(); ++i) {
            pinned_run r = runs[i];
            if (!r.reserved && !d.lock_cap && locked_vm_ + pending + charged + r.pages > limit) {
                error e{errc::enomem, "SEMANTICS B14: RLIMIT_MEMLOCK exceeded (locked memory)"};
                return undo(runs.subspan(i), e);
            }
            if (!r.reserved) charged += r.pages;
            done += r.pages;
            if (!opt_.disable_hugepages) {
                if (auto t = take(r); !t) return undo(runs.subspan(i), t.error()); // r is not open yet
                continue;
            }
            for (std::uint64_t k = 0; k < r.pages; ++k) { // one page per run
                if (auto t = take({r.pa + k * host_page, 1, r.reserved}); !t) {
                    const pinned_run rest{r.pa + k * host_page, r.pages - k, r.reserved};
                    pinner_->unpin(rest.pa, rest.pages);
                    return undo(runs.subspan(i + 1), t.error());
                }
                if (auto f = flush(); !f) {
                    if (k + 1 < r.pages) pinner_->unpin(r.pa + (k + 1) * host_page, r.pages - k - 1);
                    return undo(runs.subspan(i + 1), f.error());
                }
            }
        }
    }
    if (open.pages) {
        if (auto r = flush(); !r) return undo({}, r.error());
    }
    return charged;
}

// vfio_unmap_unpin over [io, io+size): every target but the first is unmapped whole; the
// first is read back for the frames to release, in physically contiguous chunks.
template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr void container<P, F, Pn, K>::unmap_unpin(std::span<domain_type* const> targets, passthru::iova io,
                                                   std::uint64_t size) {
    if (targets.empty() || size == 0) return;
    for (std::size_t t = 1; t < targets.size(); ++t) targets[t]->unmap(io, size);
    domain_type& first = *targets[0];
    for (std::uint64_t off = 0; off < size;) {
        const auto run = contiguous_run(first, io + off, size - off);
        if (!run) {
            off += host_page;
            continue;
        }
        const std::uint64_t gone = first.unmap(io + off, run->len);
        if (gone == 0) break;
        pinner_->unpin(run->pa, gone / host_page);
        off += gone;
    }
}

// The physically contiguous run of `dom` from io (mapped), at most `max` bytes, in host
// pages: what vfio_unmap_unpin and the replay find by iova_to_phys a host page at a time.
// A domain that reports its leaves is read a leaf at a time with the same answer: inside
// one leaf every page follows the one before, so only the first host page at or after
// each leaf's end needs the test (a 1 GiB mapping of 2M leaves: 512 walks, not 262,144).
template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr std::optional<typename container<P, F, Pn, K>::phys_run>
container<P, F, Pn, K>::contiguous_run(const domain_type& dom, passthru::iova io, std::uint64_t max) {
    if constexpr (DomainWithLeaves<domain_type>) {
        // Bytes from q to the first host-page boundary at or after the end of q's leaf.
        const auto rest = [](const pgtable::leaf_info& l, std::uint64_t q) {
            const std::uint64_t to_end = (std::uint64_t{1} << l.size_lg2) - (q - l.first.value);
            return (to_end + (host_page - 1)) & ~(host_page - 1);
        };
        const auto at = dom.leaf_at(io);
        if (!at) return std::nullopt;
        const std::uint64_t pa = at->pa.value + (io.value - at->first.value);
        std::uint64_t len = rest(*at, io.value);
        while (len < max) {
            const auto next = dom.leaf_at(io + len);
            if (!next || next->pa.value + ((io.value + len) - next->first.value) != pa + len) break;
            len += rest(*next, io.value + len);
        }
        return phys_run{phys_addr{pa}, std::min(len, max)};
    } else {
        const auto pa = dom.iova_to_phys(io);
        if (!pa) return std::nullopt;
        std::uint64_t len = host_page;
        while (len < max) {
            const auto next = dom.iova_to_phys(io + len);
            if (!next || next->value != pa->value + len) break;
            len += host_page;
        }
        return phys_run{*pa, len};
    }
}

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr void container<P, F, Pn, K>::release_dma(dma& d) {
    if (d.iommu_mapped && !domains_.empty()) {
        auto targets = all_domains();
        unmap_unpin(targets, d.iova, d.size);
    }
    locked_vm_ -= d.locked;
    if (d.vaddr_invalid) --vaddr_invalid_count_;
    ++dma_avail_;
}

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<std::uint64_t> container<P, F, Pn, K>::do_unmap(std::uint64_t iova, std::uint64_t size,
                                                                 std::uint32_t flags,
                                                                 std::optional<user_bitmap> bitmap) {
    using namespace abi::unmap_flag;
    if (flags & ~(get_dirty_bitmap | all | abi::unmap_flag::vaddr))
        return fail(errc::einval, "SEMANTICS C1: unknown UNMAP_DMA flags");
    const bool with_bitmap = flags & get_dirty_bitmap, whole = flags & all, vaddr_only = flags & abi::unmap_flag::vaddr;
    if (with_bitmap && (whole || vaddr_only))
        return fail(errc::einval, "SEMANTICS C2: GET_DIRTY_BITMAP goes with neither ALL nor VADDR");
    if (with_bitmap) { // C3
        if (!bitmap || bitmap->words.size_bytes() < (bitmap->size() & ~std::uint64_t{7}))
            return fail(errc::einval, "SEMANTICS C3: the bitmap is not accessible");
        if (!bitmap_size_ok(bitmap_pages(size, bitmap->pgsize), bitmap->size()))
            return fail(errc::einval, "SEMANTICS C3: the bitmap is too small for the range, or larger than 256 MiB");
    }
    if (vaddr_only && K::facts.vaddr_rules_v6_3 && !emulated_.empty())
        return fail(errc::ebusy, "SEMANTICS C4: VADDR updates are refused while emulated groups are attached");
    const std::uint64_t pg = min_pgsize();
    if (iova & (pg - 1)) return fail(errc::einval, "SEMANTICS C6: iova is not a multiple of the smallest page size");
    interval range = whole_space;
    if (whole) {
        if (iova || size) return fail(errc::einval, "SEMANTICS C7: UNMAP_ALL takes iova 0 and size 0");
    } else {
        if (size == 0 || (size & (pg - 1)))
            return fail(errc::einval, "SEMANTICS C7: size is 0 or not a multiple of the smallest page size");
        if (iova + (size - 1) < iova) return overflow("SEMANTICS C7: the range wraps past 2^64-1");
        range = {iova, iova + (size - 1)};
    }
    if (with_bitmap && (!dirty_tracking_ || bitmap->pgsize != pg))
        return fail(errc::einval, "SEMANTICS C8: dirty tracking is off, or the bitmap's page size is not the smallest");
    if (mode_ == iommu_mode::v2 && !whole && bisects(range.first, range.last))
        return fail(errc::einval, "SEMANTICS C9: a v2 unmap may not cut a mapping", range);

    // The walk stops at a mapping that starts past the range. Before v6.18 the test is
    // iova >= iova + size, and for a range ending at 2^64-1 that sum is 0 (P5).
    const std::uint64_t end_sum = whole ? ~std::uint64_t{0} : iova + size;
    auto past = [&](const dma& d) {
        return K::facts.top_end_wraps ? d.iova.value >= end_sum : d.iova.value > range.last;
    };
    std::uint64_t unmapped = 0;
    const auto first = dmas_.first_ending_at_or_after(passthru::iova{range.first});
    auto it = first;
    if (vaddr_only) { // C10, VADDR: all or nothing
        for (; it != dmas_.end() && !past(*it); ++it) {
            if (mode_ == iommu_mode::v1 && it->iova.value < range.first) break;
            if (it->vaddr_invalid) {
                for (auto u = first; u != it; ++u) u->vaddr_invalid = false;
                vaddr_invalid_count_ -= static_cast<std::uint64_t>(std::distance(first, it));
                return fail(errc::einval, "SEMANTICS C10: the mapping's vaddr is already invalidated");
            }
            it->vaddr_invalid = true;
            ++vaddr_invalid_count_;
            unmapped += it->size;
        }
        return unmapped;
    }
    // UNMAP_ALL from the first mapping takes every one: no bitmap comes with it (C2), v1
    // stops only below a start above 0, and `past` only at a mapping starting at 2^64-1,
    // which none can. (Where the kernel's first-node search misses, P5, `first` is the end
    // and the walk below takes none.)
    if (whole && first == dmas_.begin()) {
        for (const dma& d : dmas_) unmapped += d.size;
        remove_all_dmas();
        return unmapped;
    }
    while (it != dmas_.end() && !past(*it)) {
        if (mode_ == iommu_mode::v1 && it->iova.value < range.first) break; // C10, v1
        if (with_bitmap) report_dirty(*it, range.first, pg, bitmap->words);
        unmapped += it->size;
        it = remove_dma(it);
    }
    return unmapped;
}

} // namespace passthru::type1
