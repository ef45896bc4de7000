// arena_allocator: the PageAllocator over one physically contiguous carve-out. It hands
// out units first fit, aligns each allocation to its size, reuses what is freed, counts
// misuse instead of obeying it, and refuses a carve-out it cannot manage.
#include <array>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/pgtable/arena_allocator.hpp>

using namespace passthru;
using namespace passthru::pgtable;

static_assert(PageAllocator<arena_allocator>);

TEST_CASE("arena_allocator: units go out first fit and a freed unit is the next one handed out") {
    std::vector<pte_t> memory(4 * 512);
    arena_allocator a(memory, phys_addr{0x10'0000});
    std::array<table_page, 4> pages{};
    for (std::size_t i = 0; i < pages.size(); ++i) {
        auto p = a.alloc_table(512);
        REQUIRE(p);
        CHECK(p->pa == phys_addr{0x10'0000 + i * 0x1000});
        CHECK(p->ptr == memory.data() + i * 512);
        pages[i] = *p;
    }
    CHECK_FALSE(a.alloc_table(512)); // full
    CHECK(a.live_units() == 4);

    // Free one in the middle: it is found again, even though everything after it is taken.
    a.free_table(pages[1], 512);
    CHECK(a.live_units() == 3);
    auto again = a.alloc_table(512);
    REQUIRE(again);
    CHECK(again->pa == pages[1].pa);
    // Freeing the first unit makes it the next allocation (first fit from the bottom).
    a.free_table(pages[0], 512);
    a.free_table(pages[3], 512);
    auto low = a.alloc_table(512);
    REQUIRE(low);
    CHECK(low->pa == pages[0].pa);
    CHECK(a.misuse() == 0);
}

TEST_CASE("arena_allocator: a multi-unit table is aligned to its size in physical space") {
    // The base is 4 KiB-aligned but not 8 KiB-aligned: unit 0 cannot start an 8 KiB table.
    std::vector<pte_t> memory(16 * 512);
    arena_allocator a(memory, phys_addr{0x10'1000});
    auto one = a.alloc_table(512);
    REQUIRE(one);
    CHECK(one->pa == phys_addr{0x10'1000});
    auto two = a.alloc_table(1024); // an 8 KiB concatenated ARM stage-2 root
    REQUIRE(two);
    CHECK(two->pa.value % 0x2000 == 0);
    CHECK(two->pa == phys_addr{0x10'2000});
    auto four = a.alloc_table(2048);
    REQUIRE(four);
    CHECK(four->pa.value % 0x4000 == 0);
    CHECK(four->pa == phys_addr{0x10'4000});
    CHECK(four->ptr == a.table_at(four->pa));
    // A small table (a 4-slot ARM top level) still takes one whole unit.
    auto tiny = a.alloc_table(4);
    REQUIRE(tiny);
    CHECK(tiny->pa == phys_addr{0x10'8000}); // units 0-6 are taken
    CHECK(a.live_units() == 8);
}

TEST_CASE("arena_allocator: double, foreign and wrong-size frees are counted and ignored") {
    std::vector<pte_t> memory(8 * 512);
    arena_allocator a(memory, phys_addr{0x10'0000});
    auto p = a.alloc_table(1024);
    REQUIRE(p);
    a.free_table(*p, 512); // the wrong size
    CHECK(a.misuse() == 1);
    CHECK(a.live_units() == 2);
    a.free_table(table_page{phys_addr{0x10'0800}, memory.data() + 256}, 512); // not a unit start
    a.free_table(table_page{phys_addr{0x20'0000}, nullptr}, 512);            // not the arena's
    CHECK(a.misuse() == 3);
    a.free_table(*p, 1024);
    CHECK(a.live_units() == 0);
    a.free_table(*p, 1024); // twice
    CHECK(a.misuse() == 4);
}

TEST_CASE("arena_allocator: a carve-out it cannot manage is refused with EINVAL") {
    std::vector<pte_t> memory(8 * 512);
    SECTION("a base not aligned to the unit") {
        // Tables would sit at misaligned physical addresses: every format's table pointer
        // drops the low bits, so a walk would land 8 bytes off.
        auto bad = arena_allocator::create(memory, phys_addr{0x10'0008});
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == errc::einval);
        CHECK(bad.error().reason.find("aligned") != std::string_view::npos);
        arena_allocator a(memory, phys_addr{0x10'0008});
        REQUIRE_FALSE(a.status());
        CHECK(a.status().error() == bad.error());
        CHECK(a.capacity_units() == 0);
        CHECK_FALSE(a.alloc_table(512));
    }
    SECTION("a unit that is not a power of two") {
        auto bad = arena_allocator::create(memory, phys_addr{0x10'0000}, 384);
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == errc::einval);
    }
    SECTION("memory smaller than one unit") {
        auto bad = arena_allocator::create(std::span<pte_t>(memory.data(), 100), phys_addr{0});
        REQUIRE_FALSE(bad);
        CHECK(bad.error().code == errc::einval);
    }
    SECTION("a good carve-out") {
        auto good = arena_allocator::create(memory, phys_addr{0x10'0000});
        REQUIRE(good);
        CHECK(good->status());
        CHECK(good->capacity_units() == 8);
    }
}

namespace {
constexpr bool misaligned_arena_is_empty() {
    std::array<pte_t, 1024> memory{};
    arena_allocator a(memory, phys_addr{0x1008});
    return !a.status() && a.capacity_units() == 0 && !a.alloc_table(512);
}
static_assert(misaligned_arena_is_empty());
} // namespace
