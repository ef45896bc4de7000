#pragma once
// Dirty page tracking of a v2 container (SEMANTICS §D): START gives every mapping a bitmap,
// GET_BITMAP reports and resets the bits of the mappings inside a range, STOP drops them.
// type1 cannot see device writes: while any IOMMU-backed group has not pinned pages
// through the emulated-device API (every group here), every page of every mapped range is
// reported dirty (D7). With container_options::iommu_dirty the domains' tables say instead
// which pages devices wrote (PGTABLE §8), read and cleared at each report.
#include <vector>

#include <passthru/type1/container.hpp>
#include <passthru/type1/domain_factory.hpp>

namespace passthru::type1 {

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<void> container<P, F, Pn, K>::dirty_start() {
    if (mode_ != iommu_mode::v2) return fail(errc::eacces, "SEMANTICS D1: dirty tracking needs a v2 container");
    if (dirty_tracking_) return {}; // D3: already on, bitmaps kept
    if constexpr (!DirtyTrackingDomain<domain_type>)
        if (opt_.iommu_dirty) return fail(errc::eopnotsupp, "iommu_dirty: the domains' tables do not record DMA writes");
    const std::uint64_t pg = min_pgsize();
    for (const dma& d : dmas_)
        if (d.size / pg > abi::dirty_bitmap_pages_max)
            return fail(errc::einval, "SEMANTICS D3: a mapping has too many pages for a dirty bitmap");
    for (dma& d : dmas_) {
        d.bitmap.assign(abi::dirty_bitmap_bytes(d.size / pg) / 8 + 1, 0);
        // Writes before START are not reported: read the tables clean (ARM's writable leaves
        // are created dirty), into the bitmap that is then zeroed again.
        if (opt_.iommu_dirty && d.iommu_mapped) {
            harvest_iommu_dirty(d, d.bitmap);
            std::fill(d.bitmap.begin(), d.bitmap.end(), 0);
        }
    }
    dirty_tracking_ = true;
    return {};
}

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<void> container<P, F, Pn, K>::dirty_stop() {
    if (mode_ != iommu_mode::v2) return fail(errc::eacces, "SEMANTICS D1: dirty tracking needs a v2 container");
    if (dirty_tracking_) { // D4
        dirty_tracking_ = false;
        for (dma& d : dmas_) d.bitmap.clear();
    }
    return {};
}

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr void container<P, F, Pn, K>::report_dirty(dma& d, std::uint64_t base, std::uint64_t pgsize,
                                                    std::span<std::uint64_t> user) {
    const std::uint64_t nbits = d.size / pgsize;
    if (opt_.iommu_dirty) {
        if (d.iommu_mapped) harvest_iommu_dirty(d, d.bitmap);
    } else if (num_non_pinned_ && d.iommu_mapped) {
        set_first_bits(d.bitmap, nbits); // D7
    }
    report_bits(user, (d.iova.value - base) / pgsize, d.bitmap, nbits);
    clear_first_bits(d.bitmap, nbits); // back to the pages pinned by emulated devices: none
}

// OR into the first size/pgsize bits of `into` the pages any domain's tables (or only
// `only`'s) saw written in `d`, and clean those tables (a leaf larger than the page marks
// all its pages).
template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr void container<P, F, Pn, K>::harvest_iommu_dirty(dma& d, std::span<std::uint64_t> into,
                                                           const domain_entry* only) {
    if constexpr (DirtyTrackingDomain<domain_type>) {
        pgtable::dirty_bitmap bits{d.iova, min_pgsize(), into};
        pgtable::iotlb_gather g;
        for (domain_entry* e : domains_) {
            if (only && e != only) continue;
            // The range is a mapping of this domain: the walk's range check cannot fail.
            [[maybe_unused]] const auto r = e->dom.read_and_clear_dirty(d.iova, d.size, bits, g);
        }
    } else {
        (void)d;
        (void)into;
        (void)only;
    }
}

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K>
constexpr result<void> container<P, F, Pn, K>::dirty_get(passthru::iova io, std::uint64_t size, user_bitmap b) {
    if (mode_ != iommu_mode::v2) return fail(errc::eacces, "SEMANTICS D1: dirty tracking needs a v2 container");
    const std::uint64_t iova = io.value;
    if (K::facts.overflow_is_eoverflow) { // D5, the v6.18 order
        if (size == 0) return fail(errc::einval, "SEMANTICS D5: size is 0");
        if (iova + (size - 1) < iova) return overflow("SEMANTICS D5: the range wraps past 2^64-1");
    } else if (iova + size < iova) {
        // Before v6.18 the test was iova + size < iova, so a range ending at 2^64-1 fails too.
        return fail(errc::einval, "SEMANTICS D5: the range wraps past 2^64-1");
    }
    if (b.words.size_bytes() < (b.size() & ~std::uint64_t{7}))
        return fail(errc::einval, "SEMANTICS D5: the bitmap is not accessible");
    if (!bitmap_size_ok(bitmap_pages(size, b.pgsize), b.size()))
        return fail(errc::einval, "SEMANTICS D5: the bitmap is too small for the range, or larger than 256 MiB");
    const std::uint64_t pg = min_pgsize();
    if (b.pgsize != pg) return fail(errc::einval, "SEMANTICS D5: the bitmap's page size is not the smallest page size");
    if (iova & (pg - 1)) return fail(errc::einval, "SEMANTICS D5: iova is not a multiple of the smallest page size");
    if (size == 0 || (size & (pg - 1)))
        return fail(errc::einval, "SEMANTICS D5: size is 0 or not a multiple of the smallest page size");
    if (!dirty_tracking_) return fail(errc::einval, "SEMANTICS D5: dirty tracking is off");
    const interval range{iova, iova + (size - 1)};
    if (bisects(range.first, range.last))
        return fail(errc::einval, "SEMANTICS D5: the range cuts a mapping", range);
    // The kernel walks from rb_first; an ordered store can start at the range.
    auto it = K::facts.top_end_wraps ? dmas_.begin() : dmas_.first_ending_at_or_after(io);
    for (; it != dmas_.end() && it->iova.value <= range.last; ++it)
        if (it->iova.value >= range.first) report_dirty(*it, range.first, pg, b.words);
    return {};
}

} // namespace passthru::type1
