// Closed intervals (DESIGN core/): ranges that end at 2^64-1 are representable, a size of
// 0 or one that wraps is refused (SEMANTICS B7/B8), and every operation is constexpr.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>

#include <passthru/core/interval.hpp>

#include "printers.hpp"

using passthru::interval;
using passthru::whole_space;

namespace {
constexpr std::uint64_t top = 0xFFFF'FFFF'FFFF'FFFF;
}

// from_size at the very top of the 64-bit space.
static_assert(interval::from_size(0xFFFF'FFFF'FFFF'F000, 0x1000) ==
              interval{0xFFFF'FFFF'FFFF'F000, 0xFFFF'FFFF'FFFF'FFFF});
static_assert(!interval::from_size(0xFFFF'FFFF'FFFF'F000, 0x1001));
static_assert(!interval::from_size(0x1000, 0));
static_assert(whole_space.span() == 0xFFFF'FFFF'FFFF'FFFF);
static_assert(whole_space.is_whole_space());
static_assert(interval{1, 10}.contains(interval{1, 10}) && !interval{1, 10}.contains(0));
static_assert(interval{0, 9}.overlaps(interval{9, 20}) && !interval{0, 9}.overlaps(interval{10, 20}));
static_assert(intersect(interval{0, 0x1FFF}, interval{0x1000, 0x2FFF}) == interval{0x1000, 0x1FFF});
static_assert(!intersect(interval{0, 0xFFF}, interval{0x1000, 0x1FFF}));

TEST_CASE("SEMANTICS B8: from_size accepts a range that ends exactly at 2^64-1") {
    const auto r = interval::from_size(0xFFFF'FFFF'FFFF'F000, 0x1000);
    REQUIRE(r);
    CHECK(r->first == 0xFFFF'FFFF'FFFF'F000);
    CHECK(r->last == 0xFFFF'FFFF'FFFF'FFFF);
    CHECK(r->size() == 0x1000);

    // The last single byte, and [1, 2^64-1] (size 2^64-1).
    CHECK(interval::from_size(top, 1) == interval{top, top});
    CHECK(interval::from_size(1, top) == interval{1, top});
    CHECK(interval::from_size(0, top) == interval{0, 0xFFFF'FFFF'FFFF'FFFE});
}

TEST_CASE("SEMANTICS B8: from_size refuses a size whose end wraps past 2^64-1") {
    // SEMANTICS §N vector 10: iova 0xFFFFFFFFFFFFF000 size 0x2000.
    CHECK_FALSE(interval::from_size(0xFFFF'FFFF'FFFF'F000, 0x2000));
    CHECK_FALSE(interval::from_size(0xFFFF'FFFF'FFFF'F000, 0x1001));
    CHECK_FALSE(interval::from_size(top, 2));
    CHECK_FALSE(interval::from_size(2, top));
    CHECK_FALSE(interval::from_size(top, top));
}

TEST_CASE("SEMANTICS B7: from_size refuses size 0") {
    CHECK_FALSE(interval::from_size(0, 0));
    CHECK_FALSE(interval::from_size(0x1000, 0));
    CHECK_FALSE(interval::from_size(top, 0));
}

TEST_CASE("DESIGN core/ interval: size and span of ordinary intervals") {
    CHECK(interval{0x1000, 0x1FFF}.size() == 0x1000);
    CHECK(interval{0x1000, 0x1FFF}.span() == 0xFFF);
    CHECK(interval{5, 5}.size() == 1);
    CHECK(interval{5, 5}.span() == 0);
    CHECK_FALSE(interval{5, 5}.is_whole_space());
    CHECK_FALSE(interval{0, 0xFFFF'FFFF'FFFF'FFFE}.is_whole_space());
    CHECK_FALSE(interval{1, top}.is_whole_space());
}

TEST_CASE("DESIGN core/ interval: whole_space covers 0 to 2^64-1 and its span is 2^64-1") {
    CHECK(whole_space.first == 0);
    CHECK(whole_space.last == 0xFFFF'FFFF'FFFF'FFFF);
    CHECK(whole_space.span() == 0xFFFF'FFFF'FFFF'FFFF);
    CHECK(whole_space.is_whole_space());
    CHECK(whole_space.contains(0));
    CHECK(whole_space.contains(top));
    CHECK(whole_space.contains(interval{0, top}));
    CHECK(whole_space.overlaps(interval{top, top}));
}

TEST_CASE("DESIGN core/ interval: contains a point, inclusive at both ends") {
    const interval r{0xFEE0'0000, 0xFEEF'FFFF};
    CHECK(r.contains(0xFEE0'0000));
    CHECK(r.contains(0xFEEF'FFFF));
    CHECK(r.contains(0xFEE8'0000));
    CHECK_FALSE(r.contains(0xFEDF'FFFF));
    CHECK_FALSE(r.contains(0xFEF0'0000));

    const interval at_top{0xFFFF'FFFF'FFFF'F000, top};
    CHECK(at_top.contains(top));
    CHECK_FALSE(at_top.contains(0));
    CHECK(interval{0, 0}.contains(0));
    CHECK_FALSE(interval{0, 0}.contains(1));
}

TEST_CASE("DESIGN core/ interval: contains an interval, edges included") {
    const interval r{0x1000, 0x1FFF};
    CHECK(r.contains(interval{0x1000, 0x1FFF}));
    CHECK(r.contains(interval{0x1000, 0x1000}));
    CHECK(r.contains(interval{0x1FFF, 0x1FFF}));
    CHECK_FALSE(r.contains(interval{0xFFF, 0x1FFF}));
    CHECK_FALSE(r.contains(interval{0x1000, 0x2000}));
    CHECK_FALSE(r.contains(interval{0x2000, 0x2FFF}));
    CHECK_FALSE(r.contains(whole_space));
}

TEST_CASE("DESIGN core/ interval: overlaps means sharing a byte, so adjacent intervals do not overlap") {
    const interval r{0x1000, 0x1FFF};
    CHECK(r.overlaps(interval{0x1FFF, 0x2FFF}));  // one shared byte at the end
    CHECK(r.overlaps(interval{0x0, 0x1000}));     // one shared byte at the start
    CHECK(r.overlaps(interval{0x1800, 0x1800}));  // nested
    CHECK(r.overlaps(interval{0x0, top}));        // covering
    CHECK_FALSE(r.overlaps(interval{0x2000, 0x2FFF})); // adjacent after
    CHECK_FALSE(r.overlaps(interval{0x0, 0xFFF}));     // adjacent before
    CHECK_FALSE(interval{top, top}.overlaps(interval{0, 0xFFFF'FFFF'FFFF'FFFE}));
    // Symmetric.
    CHECK(interval{0x1FFF, 0x2FFF}.overlaps(r));
    CHECK_FALSE(interval{0x2000, 0x2FFF}.overlaps(r));
}

TEST_CASE("DESIGN core/ interval: intersect of two intervals") {
    SECTION("partial overlap") {
        CHECK(intersect(interval{0x1000, 0x2FFF}, interval{0x2000, 0x3FFF}) ==
              interval{0x2000, 0x2FFF});
    }
    SECTION("one shared byte") {
        CHECK(intersect(interval{0x1000, 0x1FFF}, interval{0x1FFF, 0x2FFF}) ==
              interval{0x1FFF, 0x1FFF});
    }
    SECTION("nested: the inner one, whichever side it is on") {
        CHECK(intersect(interval{0, top}, interval{0x5000, 0x5FFF}) == interval{0x5000, 0x5FFF});
        CHECK(intersect(interval{0x5000, 0x5FFF}, interval{0, top}) == interval{0x5000, 0x5FFF});
    }
    SECTION("at 2^64-1") {
        CHECK(intersect(whole_space, interval{0xFFFF'FFFF'FFFF'F000, top}) ==
              interval{0xFFFF'FFFF'FFFF'F000, top});
        CHECK(intersect(interval{0x8000'0000'0000'0000, top}, interval{0xFFFF'0000'0000'0000, top}) ==
              interval{0xFFFF'0000'0000'0000, top});
    }
    SECTION("adjacent or disjoint: nothing") {
        CHECK_FALSE(intersect(interval{0x1000, 0x1FFF}, interval{0x2000, 0x2FFF}));
        CHECK_FALSE(intersect(interval{0x2000, 0x2FFF}, interval{0x1000, 0x1FFF}));
        CHECK_FALSE(intersect(interval{0, 0}, interval{top, top}));
    }
}
