#pragma once
// AMD-Vi v1 ("host") page table as a `PageTableFormat` policy (PGTABLE §4; Linux
// generic_pt fmt/amdv1.h). The walker in pgtable/page_table.hpp does map/unmap/lookup.
//
// Geometry (§4): 4 KiB tables of 512 slots; level L decodes IOVA[20+9L : 12+9L]. The DTE's
// Mode is the number of levels, 1..6, covering 2^(12+9·mode) bytes of IOVA; the 6-level
// root decodes only IOVA[63:57] (128 slots). Linux starts at mode 3 and grows the top on
// demand (DYNAMIC_TOP, §4); here the mode is a fixed template parameter: va_bits follows
// from it and the root never changes.
//
// Leaves at every level but 5 (generic_pt amdv1pt_can_have_leaf): NextLevel 0 for the
// level's own slot size; NextLevel 7 for any larger power of two up to half a table,
// with the size coded into the address field and the same word written into every slot
// it covers, from a slot index aligned to that count (§4.1). 512 GiB is never used
// (hardware bug, §4.1), and like Linux nothing above 2^51 (GENMASK(51, 12), §4.1).
// make_leaf drops prot::noexec, prot::mmio and prot::priv (no such bits, §4.1) and ignores
// prot::cache: FC is the domain's force_coherent, set on every leaf as Linux does
// (detail/rw_leaf_bits.hpp, shared with VT-d).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/detail/rw_leaf_bits.hpp>

namespace passthru::pgtable {

// How a domain uses the format. Structural, so it can be a template argument:
// `amd_v1<amd_v1_config{.mode = 6}>`.
struct amd_v1_config {
    unsigned mode = 4;           // DTE Mode = number of levels, 1..6 (§4)
    bool force_coherent = true;  // FC (bit 60) on every leaf, as Linux writes them (§4.1)
    bool dirty_tracking = false; // DTE HAD on: the IOMMU sets D (bit 6) on writes (§4.3)
};

// The DTE fields that point the IOMMU at a table. PGTABLE §4 states Mode [11:9] and the
// root pointer [51:12]; the other bits are Linux's amd_iommu_set_dte_v1 and
// amd_iommu_make_clear_dte (DTE_FLAG_* in amd_iommu_types.h). The DomainID (second
// quadword) and ATS / IVRS bits are the driver's business, not the table's.
struct amd_v1_regs {
    phys_addr root;          // PA of the root table (4 KiB aligned)
    unsigned mode = 0;       // number of levels
    bool host_dirty = false; // HAD: host access and dirty tracking enabled

    static constexpr std::uint64_t dte_v = std::uint64_t{1} << 0;    // [arch] valid
    static constexpr std::uint64_t dte_tv = std::uint64_t{1} << 1;   // [arch] translation valid
    static constexpr std::uint64_t dte_had = std::uint64_t{3} << 7;  // [arch] HAD [8:7]
    static constexpr std::uint64_t dte_ir = std::uint64_t{1} << 61;  // [arch] reads allowed
    static constexpr std::uint64_t dte_iw = std::uint64_t{1} << 62;  // [arch] writes allowed
    static constexpr std::uint64_t dte_root_mask = 0x000F'FFFF'FFFF'F000; // [51:12] (§4)

    // Quadword 0 of the DTE: V | TV | HAD? | Mode << 9 | root | IR | IW.
    constexpr std::uint64_t dte0() const noexcept {
        return dte_v | dte_tv | (host_dirty ? dte_had : 0) | (std::uint64_t{mode & 7} << 9) |
               (root.value & dte_root_mask) | dte_ir | dte_iw;
    }
    constexpr bool operator==(const amd_v1_regs&) const = default;
};

template <amd_v1_config C = amd_v1_config{}>
struct amd_v1 : detail::rw_leaf_bits<pte_t{1} << 61, pte_t{1} << 62, pte_t{1} << 60, pte_t{1} << 6,
                                     C.force_coherent, C.dirty_tracking> {
    static_assert(C.mode >= 1 && C.mode <= 6,
                  "amd_v1: mode (the number of levels) must be 1 to 6; mode 0 is no "
                  "translation and has no page table");

    // Entry bits (§4.1): IR 61, IW 62, FC 60 and D 6 are rw_leaf_bits'.
    static constexpr pte_t pr_bit = pte_t{1} << 0;
    static constexpr pte_t d_bit = pte_t{1} << 6; // hardware-set when HAD is on (§4.3)
    static constexpr pte_t fc_bit = pte_t{1} << 60;
    static constexpr pte_t ir_bit = pte_t{1} << 61;
    static constexpr pte_t iw_bit = pte_t{1} << 62;
    static constexpr pte_t oa_mask = 0x000F'FFFF'FFFF'F000; // [51:12]
    static constexpr unsigned nl_shift = 9;                 // NextLevel [11:9]
    static constexpr unsigned nl_leaf = 0;                  // leaf of the level's size
    static constexpr unsigned nl_sized = 7;                 // leaf, size in the address
    static constexpr unsigned max_leaf_lg2 = 51;            // Linux: GENMASK(51, 12)
    static constexpr unsigned broken_leaf_lg2 = 39;         // 512 GiB: hardware bug

    static constexpr std::string_view name = "AMD-Vi v1";
    // Read through `config`, an ordinary object (clang 14, llvm/llvm-project#146272).
    static constexpr amd_v1_config config = C;
    static constexpr unsigned top_level = config.mode - 1;
    static constexpr unsigned va_bits = std::min(12 + 9 * config.mode, 64u); // no sign extension
    static constexpr unsigned oa_bits = 52;
    // The OA field of an NL=7 leaf is PA + (S/2 - 4K): linear in PA while it stays in
    // [51:12], as the NL=0 encoding trivially is.
    static constexpr unsigned leaf_linear_lg2 = 52;
    static constexpr partial_unmap partial_leaf_unmap = partial_unmap::whole_leaf; // §4.4

    static constexpr unsigned item_lg2(unsigned level) noexcept { return 12 + 9 * level; }
    // 512 slots, but the level-5 root decodes only IOVA[63:57] (§4).
    static constexpr unsigned table_lg2(unsigned level) noexcept { return level >= 5 ? 7 : 9; }

    // Every power of two from the slot size up to half a table, capped at 2^51, except
    // 512 GiB (§4.1, generic_pt amdv1pt_possible_sizes). Level 3: exactly 0xFF0000000000;
    // level 5 (2^57 slots): none, as generic_pt's amdv1pt_can_have_leaf says.
    static constexpr std::uint64_t leaf_sizes(unsigned level) noexcept {
        const unsigned lo = item_lg2(level);
        if (level > top_level || lo > max_leaf_lg2) return 0;
        const unsigned hi = std::min(lo + table_lg2(level) - 1, max_leaf_lg2);
        return (low_mask(hi) & ~low_mask(lo - 1)) & ~(std::uint64_t{1} << broken_leaf_lg2);
    }

    // PDE: `PA | NL | PR | IR | IW`; NL = `level` (the level of the table holding the slot
    // = the 1-based level of the child, §4.1). IR/IW are ANDed down the walk, so tables
    // grant both and leaves decide.
    static constexpr pte_t make_table(phys_addr child, unsigned level) noexcept {
        return (child.value & oa_mask) | (pte_t{level} << nl_shift) | pr_bit | ir_bit | iw_bit;
    }
    // Leaf (§4.1): NL=0 with the PA for the slot size; otherwise NL=7 with address bits
    // [s-2:12] set and bit s-1 clear for size 2^s. Preconditions: size_lg2 in
    // leaf_sizes(level), pa aligned to it, p has READ or WRITE. The caller writes the word
    // into all 2^(size_lg2 - item_lg2(level)) slots of the entry.
    static constexpr pte_t make_leaf(phys_addr pa, unsigned level, unsigned size_lg2,
                                     prot p) noexcept {
        const pte_t e = pr_bit | amd_v1::attr_bits(p);
        if (size_lg2 == item_lg2(level)) return e | (pa.value & oa_mask);
        const std::uint64_t size = std::uint64_t{1} << size_lg2;
        return e | (pte_t{nl_sized} << nl_shift) |
               (((pa.value | (size - 1)) & ~(size >> 1)) & oa_mask);
    }

    static constexpr unsigned next_level(pte_t pte) noexcept {
        return static_cast<unsigned>(pte >> nl_shift) & 7;
    }
    // As generic_pt amdv1pt_load_entry_raw: PR clear is empty; NL 0 or 7, or any present
    // slot at level 0, is a leaf; NL 1..6 is a table.
    static constexpr pte_kind classify(pte_t pte, unsigned level) noexcept {
        if ((pte & pr_bit) == 0) return pte_kind::empty;
        const unsigned nl = next_level(pte);
        if (level == 0 || nl == nl_leaf || nl == nl_sized) return pte_kind::leaf;
        return pte_kind::table;
    }
    static constexpr phys_addr table_pa(pte_t pte) noexcept { return phys_addr{pte & oa_mask}; }
    // NL=7: size = 2 << (index of the lowest 0 bit of pte | 0xFFF) (§4.1).
    static constexpr unsigned leaf_size_lg2(pte_t pte, unsigned level) noexcept {
        if (next_level(pte) != nl_sized) return item_lg2(level);
        return 1 + static_cast<unsigned>(std::countr_one(pte | 0xFFF));
    }
    static constexpr phys_addr leaf_pa(pte_t pte, unsigned level) noexcept {
        return phys_addr{pte & oa_mask & ~low_mask(leaf_size_lg2(pte, level) - 1)};
    }

    // The same decodes as bit tests, for the walker's vector loops (PageTableSlotTests):
    // a one-item leaf is PR with NL 0, or at level 0 PR with any NL but 7.
    static constexpr slot_test empty_test(unsigned) noexcept { return {{pr_bit, 0}}; }
    static constexpr slot_test item_leaf_test(unsigned level) noexcept {
        constexpr pte_t nl_mask = pte_t{7} << nl_shift;
        if (level == 0) return {{pr_bit, pr_bit}, {nl_mask, pte_t{nl_sized} << nl_shift, true}};
        return {{pr_bit | nl_mask, pr_bit}};
    }
    // Dirty tracking (§4.3): D (bit 6) per slot. The hardware may set it in only one slot of
    // an NL=7 entry, so the walker ORs is_dirty over the slots and cleans every slot.

    static constexpr amd_v1_regs registers(phys_addr root) noexcept {
        return {root, config.mode, config.dirty_tracking};
    }
};

} // namespace passthru::pgtable
