#pragma once
// Concept `PageAllocator`: where page-table memory comes from. A hypervisor passes its
// own page allocator, which hands out physically addressed memory; the walker only ever
// reaches a table through the allocator's `table_at(pa)`, so the same code runs over a
// hypervisor's direct map, a host test arena, or a constexpr array in a static_assert.
#include <concepts>
#include <cstddef>
#include <optional>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>

namespace passthru {

// One table's memory: its physical address (what descriptors and root registers hold)
// and where the CPU reaches it.
struct table_page {
    phys_addr pa;
    pte_t* ptr = nullptr;
};

// A `PageAllocator` A provides, for `a` an A:
//   a.alloc_table(slots) -> std::optional<table_page>
//        memory for `slots` 64-bit words, aligned to its size in physical space (ARM
//        TTBRs and every format's table pointers need that); contents unspecified: the
//        walker initialises every word before the hardware can see the table
//   a.free_table(table_page, slots)     give it back (same slots as allocated)
//   a.table_at(phys_addr) -> pte_t*     the CPU address of a table the allocator handed out
template <class A>
concept PageAllocator = requires(A& a, const A& ca, std::size_t slots, table_page page,
                                 phys_addr pa) {
    { a.alloc_table(slots) } -> std::same_as<std::optional<table_page>>;
    { a.free_table(page, slots) } -> std::same_as<void>;
    { ca.table_at(pa) } -> std::same_as<pte_t*>;
};

} // namespace passthru

namespace passthru::pgtable {
using passthru::PageAllocator;
using passthru::table_page;
} // namespace passthru::pgtable
