#pragma once
// Intel VT-d second-stage page table as a `PageTableFormat` policy (PGTABLE §3; Linux
// generic_pt fmt/vtdss.h). The walker in pgtable/page_table.hpp does map/unmap/lookup.
//
// Geometry (§3.1): 4 KiB tables of 512 slots, 9 IOVA bits per level; 3, 4 or 5 levels
// translate 39, 48 or 57 bits (agaw 1, 2, 3 = the AW field). Level 0 holds 4K pages;
// with PS set, level 1 holds 2M and level 2 holds 1G superpages, as far as CAP.SLLPS
// allows (§3.2). No contiguous entries: one entry is one slot.
//
// No present bit (§3.2): a slot is in use iff R or W is set, so a no-access mapping
// cannot exist; the walker refuses prot without READ or WRITE (§0.1) before make_leaf.
// What a leaf cannot say is dropped by make_leaf (detail/rw_leaf_bits.hpp):
//   prot::noexec, prot::mmio, prot::priv -- Linux leaves X, EMT, IPAT at 0 (§3.2, §11);
//   prot::cache -- SNP is a property of the domain (force_snoop; Linux's set_pte_snp,
//   generic_pt's VTDSS_FORCE_COHERENCE), not of one mapping.
// Not modelled: generic_pt's FORCE_WRITEABLE (Sapphire Rapids erratum, §3.2).
#include <cstdint>
#include <string_view>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/detail/rw_leaf_bits.hpp>

namespace passthru::pgtable {

// How a domain uses the format. Structural, so it can be a template argument:
// `vtd_ss<vtd_ss_config{.levels = 5, .force_snoop = true}>`.
struct vtd_ss_config {
    unsigned levels = 4;           // 3, 4 or 5: a 39-, 48- or 57-bit IOVA space (§3.1)
    unsigned superpage_levels = 2; // superpages used, per CAP.SLLPS (Linux's
                                   // iommu_superpage): 0 = 4K only, 1 = +2M, 2 = +1G
    bool force_snoop = false;      // SNP on every leaf: the domain enforces coherency
    bool dirty_tracking = false;   // SSADE on: the IOMMU sets D (bit 9) on writes (§8)
    unsigned haw = 52;             // host address width: every OA is below 2^haw
};

// What the context entry (legacy mode) or PASID entry (scalable mode) needs to use a
// table (§3.1; generic_pt vtdss_pt_iommu_fmt_hw_info).
struct vtd_ss_regs {
    phys_addr slptptr;  // SLPTPTR / SSPTPTR: PA of the root table (4 KiB aligned)
    unsigned aw = 0;    // AW field = agaw = levels - 2 (1, 2, 3)
    bool ssade = false; // the PASID entry's SSADE must be set for D bits to appear (§8)
    constexpr bool operator==(const vtd_ss_regs&) const = default;
};

template <vtd_ss_config C = vtd_ss_config{}>
struct vtd_ss : detail::rw_leaf_bits<pte_t{1} << 0, pte_t{1} << 1, pte_t{1} << 11, pte_t{1} << 9,
                                     C.force_snoop, C.dirty_tracking> {
    static_assert(C.levels >= 3 && C.levels <= 5,
                  "vtd_ss: levels must be 3, 4 or 5 (a 39-, 48- or 57-bit second-stage "
                  "table, AW 1/2/3)");
    static_assert(C.superpage_levels <= 2,
                  "vtd_ss: superpage_levels must be 0 (4K), 1 (+2M) or 2 (+2M and 1G); "
                  "Linux uses no 512G or 1T superpages");
    static_assert(C.haw > 12 && C.haw <= 52,
                  "vtd_ss: haw must be 13 to 52: the address field is bits 51:12");

    // Entry bits (§3.2): R 0, W 1, SNP 11 and D 9 are rw_leaf_bits'.
    static constexpr pte_t r_bit = pte_t{1} << 0;
    static constexpr pte_t w_bit = pte_t{1} << 1;
    static constexpr pte_t ps_bit = pte_t{1} << 7;  // leaf above level 0
    static constexpr pte_t a_bit = pte_t{1} << 8;   // hardware-set when SSADE is on
    static constexpr pte_t d_bit = pte_t{1} << 9;   // hardware-set when SSADE is on
    static constexpr pte_t snp_bit = pte_t{1} << 11;
    static constexpr pte_t oa_mask = 0x000F'FFFF'FFFF'F000; // [51:12]

    static constexpr std::string_view name = "Intel VT-d second-stage";
    // Read the configuration through `config`, an ordinary object: clang 14 miscompiles
    // references to members of a class-type template parameter object
    // (llvm/llvm-project#146272), and a caller may bind one.
    static constexpr vtd_ss_config config = C;
    static constexpr unsigned top_level = config.levels - 1;
    static constexpr unsigned agaw = config.levels - 2;         // width = 30 + 9·agaw (§3.1)
    static constexpr unsigned va_bits = 12 + 9 * config.levels; // 39 / 48 / 57
    static constexpr unsigned oa_bits = config.haw;
    // The OA sits untouched in [51:12]: adding k·size to it adds k·size to the word.
    static constexpr unsigned leaf_linear_lg2 = 52;
    static constexpr partial_unmap partial_leaf_unmap = partial_unmap::whole_leaf; // §0.4

    // Level L decodes IOVA[20+9L : 12+9L] (§3.1: PTE [20:12] ... PML5E [56:48]).
    static constexpr unsigned item_lg2(unsigned level) noexcept { return 12 + 9 * level; }
    static constexpr unsigned table_lg2(unsigned) noexcept { return 9; }

    // 4K at level 0; 2M / 1G at levels 1 / 2 if superpage_levels allows (§3.2).
    static constexpr std::uint64_t leaf_sizes(unsigned level) noexcept {
        return level <= config.superpage_levels ? std::uint64_t{1} << item_lg2(level) : 0;
    }

    // Tables are written `PA | R | W` at every level (§3.2).
    static constexpr pte_t make_table(phys_addr child, unsigned) noexcept {
        return (child.value & oa_mask) | r_bit | w_bit;
    }
    // Leaves are `PA | R? | W? | SNP? | PS (level > 0)` (§3.2). Preconditions: size_lg2 is
    // item_lg2(level) and in leaf_sizes(level); pa is aligned to it; p has READ or WRITE.
    static constexpr pte_t make_leaf(phys_addr pa, unsigned level, unsigned, prot p) noexcept {
        return (pa.value & oa_mask) | vtd_ss::attr_bits(p) | (level != 0 ? ps_bit : 0);
    }

    // Present iff R or W (§3.2). PS means a leaf only where superpages exist (levels 1
    // and 2, as generic_pt's vtdss_pt_can_have_leaf); level 0 slots are always leaves.
    static constexpr pte_kind classify(pte_t pte, unsigned level) noexcept {
        if ((pte & (r_bit | w_bit)) == 0) return pte_kind::empty;
        if (level == 0 || (level <= 2 && (pte & ps_bit) != 0)) return pte_kind::leaf;
        return pte_kind::table;
    }
    static constexpr phys_addr table_pa(pte_t pte) noexcept { return phys_addr{pte & oa_mask}; }
    static constexpr phys_addr leaf_pa(pte_t pte, unsigned) noexcept {
        return phys_addr{pte & oa_mask};
    }
    static constexpr unsigned leaf_size_lg2(pte_t, unsigned level) noexcept {
        return item_lg2(level);
    }

    // The same decodes as bit tests, for the walker's vector loops (PageTableSlotTests).
    static constexpr slot_test empty_test(unsigned) noexcept { return {{r_bit | w_bit, 0}}; }
    static constexpr slot_test item_leaf_test(unsigned level) noexcept {
        const bit_test present{r_bit | w_bit, 0, true};
        if (level == 0) return {present};
        if (level <= 2) return {present, {ps_bit, ps_bit}};
        return {{0, 1}}; // never: no leaves above level 2
    }

    static constexpr vtd_ss_regs registers(phys_addr root) noexcept {
        return {root, agaw, config.dirty_tracking};
    }
};

} // namespace passthru::pgtable
