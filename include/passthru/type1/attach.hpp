#pragma once
// Attach and detach of a group (SEMANTICS §A, A.1, A.2), in the kernel's order: the first
// failing rule decides the errno, and nothing is committed until every check passed.
#include <functional>

#include <passthru/type1/container.hpp>

namespace passthru::type1 {

namespace detail {
// A map through a session, or straight into the domain.
template <class S>
constexpr result<void> map_via(S& s, iova io, phys_addr pa, std::uint64_t size, prot p) {
    if constexpr (requires { s.get(); }) return s.get().map(io, pa, size, p);
    else return s.map(io, pa, size, p);
}
} // namespace detail

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<void> container<P, F, Pn, K>::attach(const group& g) {
    // A.3: VFIO refuses to register a device behind an IOMMU that does not snoop, so the
    // group never reaches attach; we refuse it here, first.
    if (!P::cache_coherent)
        return fail(errc::einval, "SEMANTICS A.3: the IOMMU is not cache coherent; VFIO refuses its devices");
    if (vaddr_invalid_count_ > 0)
        return fail(errc::ebusy, "SEMANTICS A1: a mapping's vaddr is invalidated (UNMAP_DMA with VADDR)");
    if (has_group(g.id)) return fail(errc::einval, "SEMANTICS A2: the group is already in this container");
    for (const reserved_region& r : g.firmware_regions)
        if (r.range.first > r.range.last)
            return fail(errc::einval, "a firmware reserved region ends before it starts", r.range);
    if (g.emulated) { // A4: no domain, no IOVA rules, no MSI check; in pinned-page scope
        emulated_.push_back(g);
        return {};
    }

    std::optional<domain_type> made;
    if (auto r = factory_->create(g, made); !r || !made) { // A5
        if (K::facts.allocator_errno && !r) return tl::unexpected(r.error());
        return fail(errc::eio, "SEMANTICS A5: the IOMMU driver could not allocate a domain");
    }
    domain_type& dom = *made;

    // A8: the new aperture against the current list and the mappings outside it.
    const interval ap = dom.aperture();
    if (!iova_list_.empty()) {
        const interval span{iova_list_.front().first, iova_list_.back().last};
        if (!ap.overlaps(span))
            return fail(errc::einval, "SEMANTICS A8: the domain's aperture misses the usable IOVA space", ap);
        if (ap.first > span.first && dma_overlaps({span.first, ap.first - 1}))
            return fail(errc::einval, "SEMANTICS A8: a mapping lies below the new domain's aperture", ap);
        if (ap.last < span.last && dma_overlaps({ap.last + 1, span.last}))
            return fail(errc::einval, "SEMANTICS A8: a mapping lies above the new domain's aperture", ap);
    }

    // A9, A10: the group's regions, none over a mapping unless it is relaxable.
    const reserved_region_list regions = merge_resv_regions(dom.reserved_regions(), g.firmware_regions);
    for (const reserved_region& r : regions)
        if (r.excludes_iova() && dma_overlaps(r.range))
            return fail(errc::einval, "SEMANTICS A10: a reserved region of the group covers a mapping", r.range);

    // A11: the candidate list, on a copy.
    interval_list candidate = iova_list_;
    aper_resize(candidate, ap);
    resv_exclude(candidate, regions);
    if (candidate.empty())
        return fail(errc::einval, "SEMANTICS A11: reserved regions leave no usable IOVA in the aperture", ap);

    // A12, A13: the MSI window and isolation, with the module parameter read now (P8).
    const msi_setup msi = select_msi_setup<typename P::iommu, typename P::irq>(regions);
    attach_facts facts;
    facts.allow_unsafe_interrupts = opt_.allow_unsafe_interrupts;
    facts.msi_bank_exclusive = g.msi_bank_exclusive;
    facts.devices_have_msi_domain = g.devices_have_msi_domain;
    if (auto isolated = msi_isolated_at_attach<P>(facts); !isolated) return tl::unexpected(isolated.error());

    // A14, A15: join a compatible domain of the same IOMMU unit instead; no replay, no
    // cookie, no page-size change.
    const bool cc = dom.enforce_cache_coherency();
    for (domain_entry* d : domains_) {
        if (d->enforce_cache_coherency != cc || d->iommu_unit != g.iommu_unit) continue;
        d->groups.push_back(g);
        iova_list_ = std::move(candidate);
        ++num_non_pinned_;
        return {};
    }

    // A17: replay every mapping into the new domain. Mappings already in a domain take
    // their pages from the head domain; mappings of an emulated-only container are pinned
    // now. On failure the new domain (and its tables) goes away with everything it held.
    std::array<domain_type*, 1> target{&dom};
    std::vector<std::pair<dma*, std::uint64_t>> charged; // pinned by this replay
    std::uint64_t pending = 0;
    auto unwind = [&]() {
        for (auto [d, pages] : charged) unmap_unpin(target, d->iova, d->size);
    };
    auto into = [&] {
        if constexpr (DomainWithMapSession<domain_type>) return dom.map_session();
        else return std::ref(dom);
    }();
    for (dma& d : dmas_) {
        if (d.iommu_mapped) {
            domain_type& from = domains_.front()->dom;
            for (std::uint64_t off = 0; off < d.size;) {
                const auto run = contiguous_run(from, d.iova + off, d.size - off);
                if (!run) { // not reachable: a mapped dma is mapped in every domain
                    off += host_page;
                    continue;
                }
                if (auto r = detail::map_via(into, d.iova + off, run->pa, run->len, d.perm | P::map_prot); !r) {
                    unwind();
                    return tl::unexpected(r.error());
                }
                off += run->len;
            }
        } else {
            auto pages = pin_map(d, target, pending);
            if (!pages) {
                unwind();
                return tl::unexpected(pages.error());
            }
            charged.emplace_back(&d, *pages);
            pending += *pages;
        }
    }

    // A18-A20: commit.
    for (auto [d, pages] : charged) {
        d->locked += pages;
        locked_vm_ += pages;
    }
    for (dma& d : dmas_) d.iommu_mapped = true;
    auto* entry = new domain_entry{std::move(dom), {g}, cc, g.iommu_unit, std::nullopt};
    if (msi.strategy == msi_strategy::sw_msi_cookie) entry->msi_cookie = msi.cookie_base;
    domains_.insert(domains_.begin(), entry);
    domains_changed();
    iova_list_ = std::move(candidate);
    ++num_non_pinned_;
    return {};
}

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<void> container<P, F, Pn, K>::detach(std::uint32_t group_id) {
    auto same = [group_id](const group& g) { return g.id == group_id; };
    // D1: an emulated group; the last one out, with no domain left, takes every mapping.
    if (auto it = std::find_if(emulated_.begin(), emulated_.end(), same); it != emulated_.end()) {
        emulated_.erase(it);
        if (emulated_.empty() && domains_.empty()) remove_all_dmas();
        return {}; // emulated groups are in pinned-page scope: no D6
    }
    auto owner = std::find_if(domains_.begin(), domains_.end(), [&](const domain_entry* d) {
        return std::any_of(d->groups.begin(), d->groups.end(), same);
    });
    // The kernel's detach cannot be asked about a group it does not hold (D5); we say so.
    if (owner == domains_.end()) return fail(errc::einval, "the group is not in this container");

    interval_list copy = iova_list_; // D2
    domain_entry* d = *owner;
    d->groups.erase(std::find_if(d->groups.begin(), d->groups.end(), same));
    if (d->groups.empty()) { // D3
        // iommu_dirty: what the departing domain's tables recorded is kept for the next report.
        if (opt_.iommu_dirty && dirty_tracking_)
            for (dma& m : dmas_)
                if (m.iommu_mapped) harvest_iommu_dirty(m, m.bitmap, d);
        if (domains_.size() == 1) {
            if (emulated_.empty()) {
                remove_all_dmas();
            } else { // unmap_unpin_reaccount: keep the entries, give the pages back
                auto targets = all_domains();
                for (dma& m : dmas_) {
                    unmap_unpin(targets, m.iova, m.size);
                    locked_vm_ -= m.locked;
                    m.locked = 0;
                    m.iommu_mapped = false;
                }
            }
        }
        domains_.erase(owner);
        delete d;
        domains_changed();
        interval window = whole_space;
        for (const domain_entry* o : domains_) {
            const interval a = o->dom.aperture();
            window.first = std::max(window.first, a.first);
            window.last = std::min(window.last, a.last);
        }
        aper_expand(copy, window);
    }
    // D4: the holes of the remaining groups only; kept as it was if that leaves nothing.
    reserved_region_list regions;
    for (const domain_entry* o : domains_)
        for (const group& g : o->groups)
            for (const reserved_region& r : merge_resv_regions(o->dom.reserved_regions(), g.firmware_regions))
                regions.push_back(r);
    if (resv_refresh(copy, regions)) iova_list_ = std::move(copy);
    // D6: an IOMMU group never in pinned-page scope leaves (iommu_dirty: its writes are in
    // the bitmaps already, or still in the tables of the domain it shared).
    --num_non_pinned_;
    if (dirty_tracking_ && !opt_.iommu_dirty)
        for (dma& m : dmas_) set_first_bits(m.bitmap, m.size / min_pgsize());
    return {};
}

} // namespace passthru::type1
