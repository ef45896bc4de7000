#pragma once
// A page-table format for testing the walker on its own, like generic_pt's mock format:
// 4 levels of 512 slots over a 48-bit space, leaves at levels 0-2 with contiguous
// entries of up to 256 slots (so the replica paths run without AMD's encoding), dirty
// bit 62, and a choice of partial-unmap rule. Its encoding is made up and simple so a
// failing walker test points at the walker, not at descriptor bits.
//   slot:  bit 0 valid, bit 1 leaf, [7:2] prot, [11:8] log2(slots per entry),
//          [51:12] output address, bit 62 dirty
#include <cstdint>
#include <string_view>

#include <passthru/concepts/page_table_format.hpp>

namespace passthru::testing {

// `SlotTests`: whether it states its decodes as bit tests (PageTableSlotTests), so the
// walker's vector loops and its plain fallbacks are both exercised.
template <partial_unmap Rule = partial_unmap::whole_leaf, bool SlotTests = true>
struct mock_format {
    static constexpr std::string_view name = "mock";
    static constexpr unsigned top_level = 3;
    static constexpr unsigned va_bits = 48;
    static constexpr unsigned oa_bits = 48;
    static constexpr unsigned leaf_linear_lg2 = 64;
    static constexpr partial_unmap partial_leaf_unmap = Rule;
    static constexpr bool dirty_tracking = true;

    static constexpr pte_t oa_mask = 0x000F'FFFF'FFFF'F000;
    static constexpr pte_t dirty_bit = pte_t{1} << 62;

    static constexpr unsigned item_lg2(unsigned level) { return 12 + 9 * level; }
    static constexpr unsigned table_lg2(unsigned) { return 9; }
    static constexpr std::uint64_t leaf_sizes(unsigned level) {
        if (level > 2) return 0;
        // item size up to 256 items: bits item_lg2 .. item_lg2 + 8
        return ((std::uint64_t{1} << 9) - 1) << item_lg2(level);
    }
    static constexpr pte_t make_table(phys_addr pa, unsigned) { return (pa.value & oa_mask) | 1; }
    static constexpr pte_t make_leaf(phys_addr pa, unsigned level, unsigned size_lg2, prot p) {
        return (pa.value & oa_mask) | (pte_t{size_lg2 - item_lg2(level)} << 8) |
               (pte_t{static_cast<std::uint8_t>(p)} << 2) | 3;
    }
    static constexpr pte_kind classify(pte_t e, unsigned) {
        return !(e & 1) ? pte_kind::empty : (e & 2) ? pte_kind::leaf : pte_kind::table;
    }
    static constexpr phys_addr table_pa(pte_t e) { return phys_addr{e & oa_mask}; }
    static constexpr phys_addr leaf_pa(pte_t e, unsigned) { return phys_addr{e & oa_mask}; }
    static constexpr unsigned leaf_size_lg2(pte_t e, unsigned level) {
        return item_lg2(level) + static_cast<unsigned>((e >> 8) & 0xF);
    }
    static constexpr prot leaf_prot(pte_t e, unsigned) {
        return static_cast<prot>((e >> 2) & 0x3F);
    }
    static constexpr slot_test empty_test(unsigned)
        requires SlotTests
    {
        return {{1, 0}};
    }
    static constexpr slot_test item_leaf_test(unsigned)
        requires SlotTests
    {
        return {{3, 3}, {0xF00, 0}};
    }
    static constexpr bit_test dirty_test()
        requires SlotTests
    {
        return {dirty_bit, 0, true};
    }
    static constexpr bool is_dirty(pte_t e) { return (e & dirty_bit) != 0; }
    static constexpr pte_t make_clean(pte_t e) { return e & ~dirty_bit; }
};

static_assert(PageTableFormat<mock_format<>> && PageTableSlotTests<mock_format<>>);
static_assert(DirtyTrackingFormat<mock_format<partial_unmap::whole_leaf, false>> &&
              !PageTableSlotTests<mock_format<partial_unmap::whole_leaf, false>>);

} // namespace passthru::testing
