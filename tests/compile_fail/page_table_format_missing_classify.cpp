// A page-table format that cannot classify a slot is not a PageTableFormat, and the
// walker says so, naming the concept and the missing member (issue #3).
#include <cstdint>
#include <string_view>

#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/page_table.hpp>

struct half_a_format {
    static constexpr std::string_view name = "half";
    static constexpr unsigned top_level = 1, va_bits = 21, oa_bits = 40, leaf_linear_lg2 = 64;
    static constexpr passthru::partial_unmap partial_leaf_unmap = passthru::partial_unmap::whole_leaf;
    static constexpr bool dirty_tracking = false;
    static constexpr unsigned item_lg2(unsigned l) { return 12 + 9 * l; }
    static constexpr unsigned table_lg2(unsigned) { return 9; }
    static constexpr std::uint64_t leaf_sizes(unsigned l) { return std::uint64_t{1} << item_lg2(l); }
    static constexpr passthru::pte_t make_table(passthru::phys_addr pa, unsigned) { return pa.value | 1; }
    static constexpr passthru::pte_t make_leaf(passthru::phys_addr pa, unsigned, unsigned, passthru::prot) {
        return pa.value | 3;
    }
#ifdef PASSTHRU_CONTROL
    static constexpr passthru::pte_kind classify(passthru::pte_t e, unsigned) {
        return e & 2 ? passthru::pte_kind::leaf : e & 1 ? passthru::pte_kind::table : passthru::pte_kind::empty;
    }
#endif
    static constexpr passthru::phys_addr table_pa(passthru::pte_t e) { return passthru::phys_addr{e & ~0xFFFull}; }
    static constexpr passthru::phys_addr leaf_pa(passthru::pte_t e, unsigned) { return passthru::phys_addr{e & ~0xFFFull}; }
    static constexpr unsigned leaf_size_lg2(passthru::pte_t, unsigned l) { return item_lg2(l); }
    static constexpr passthru::prot leaf_prot(passthru::pte_t, unsigned) { return passthru::prot::read; }
};

using table = passthru::pgtable::page_table<half_a_format, passthru::pgtable::arena_allocator>;
static_assert(sizeof(table) > 0);

int main() {}
// expect: PageTableFormat
// expect: classify
