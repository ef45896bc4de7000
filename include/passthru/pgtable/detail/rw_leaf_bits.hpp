#pragma once
// The leaf attributes of the x86 IOMMU formats, written once: VT-d second stage and AMD-Vi
// v1 both say read, write, coherent and dirty with one bit each, and nothing else
// (PGTABLE §3.2, §4.1): VT-d R 0, W 1, SNP 11, D 9; AMD-Vi IR 61, IW 62, FC 60, D 6.
// Coherence is a property of the domain (VT-d's force_snoop, AMD's force_coherent: Linux
// sets it on every leaf), not of one mapping, so prot::cache in a request is ignored, and
// a set coherence bit reads back as prot::cache: make_leaf(leaf_prot(pte)) == pte holds.
// prot::noexec, prot::mmio and prot::priv have no bits and are dropped.
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/prot.hpp>

namespace passthru::pgtable::detail {

template <pte_t Read, pte_t Write, pte_t Coherent, pte_t Dirty, bool ForceCoherent, bool TrackDirty>
struct rw_leaf_bits {
    static constexpr pte_t read_bit = Read, write_bit = Write, coherent_bit = Coherent,
                           dirty_bit = Dirty;

    // The attribute bits of a leaf for `p`.
    static constexpr pte_t attr_bits(prot p) noexcept {
        return (has(p, prot::read) ? Read : 0) | (has(p, prot::write) ? Write : 0) |
               (ForceCoherent ? Coherent : 0);
    }
    static constexpr prot leaf_prot(pte_t pte, unsigned) noexcept {
        prot p = prot::none;
        if (pte & Read) p |= prot::read;
        if (pte & Write) p |= prot::write;
        if (pte & Coherent) p |= prot::cache;
        return p;
    }

    // Dirty tracking (PGTABLE §8): the hardware sets D on a written leaf; only declared when
    // the domain tracks dirty pages (DirtyTrackingFormat).
    static constexpr bit_test dirty_test() noexcept
        requires TrackDirty
    {
        return {Dirty, 0, true};
    }
    static constexpr bool is_dirty(pte_t pte) noexcept
        requires TrackDirty
    {
        return (pte & Dirty) != 0;
    }
    static constexpr pte_t make_clean(pte_t pte) noexcept
        requires TrackDirty
    {
        return pte & ~Dirty;
    }
};

} // namespace passthru::pgtable::detail
