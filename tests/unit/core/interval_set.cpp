// Interval-set arithmetic (SEMANTICS §A.1): canonical form, subtract, clip, intersect,
// their pipeable forms, and the one-node containment test of SEMANTICS B11. The
// container vectors of SEMANTICS §N are in tests/conformance/core/semantics_a1_b11.cpp.
#include <catch2/catch.hpp>

#include <bitset>
#include <cstdint>
#include <random>
#include <vector>

#include <passthru/core/interval_set.hpp>

#include "printers.hpp"

using passthru::interval;
using passthru::interval_list;
using passthru::whole_space;

namespace {
constexpr std::uint64_t top = 0xFFFF'FFFF'FFFF'FFFF;

// The whole chain in one constant expression: a static partitioning hypervisor can
// static_assert its layout (DESIGN "Compile time, then run time").
constexpr bool msi_hole_chain_is_constexpr() {
    const interval_list aperture{{0, 0xFFFF'FFFF'FFFF}};
    const interval_list msi{{0xFEE0'0000, 0xFEEF'FFFF}};
    const interval_list low4g{{0, 0xFFFF'FFFF}};
    const interval_list out = aperture | passthru::subtract(msi) |
                              passthru::clip_to(interval{0x1000, top}) |
                              passthru::intersect_with(low4g);
    return out == interval_list{{0x1000, 0xFEDF'FFFF}, {0xFEF0'0000, 0xFFFF'FFFF}} &&
           passthru::contained_in_one(out, interval{0xFEDF'F000, 0xFEDF'FFFF}) &&
           !passthru::contained_in_one(out, interval{0xFEDF'F000, 0xFEE0'0FFF});
}

constexpr bool normalize_merges_at_top() {
    const interval_list in{{top, top}, {0xFFFF'FFFF'FFFF'F000, 0xFFFF'FFFF'FFFF'FFFE}};
    return passthru::normalize(in) == interval_list{{0xFFFF'FFFF'FFFF'F000, top}};
}
} // namespace

static_assert(msi_hole_chain_is_constexpr());
static_assert(normalize_merges_at_top());
static_assert(passthru::IntervalRange<interval_list>);
static_assert(passthru::IntervalRange<const std::vector<interval>&>);
static_assert(!passthru::IntervalRange<std::vector<int>>);

TEST_CASE("SEMANTICS A.1: normalize sorts and merges overlapping intervals") {
    using passthru::normalize;
    CHECK(normalize(interval_list{}).empty());
    CHECK(normalize(interval_list{{0x3000, 0x3FFF}, {0x1000, 0x1FFF}, {0x1800, 0x27FF}}) ==
          interval_list{{0x1000, 0x27FF}, {0x3000, 0x3FFF}});
    // Nested and duplicated.
    CHECK(normalize(interval_list{{0, 100}, {10, 20}, {10, 20}, {0, 100}}) ==
          interval_list{{0, 100}});
    // Same start, the longer one listed first.
    CHECK(normalize(interval_list{{0x1000, 0x4FFF}, {0x1000, 0x1FFF}}) ==
          interval_list{{0x1000, 0x4FFF}});
}

TEST_CASE("SEMANTICS A.1: normalize merges adjacent intervals but keeps a one-byte gap") {
    using passthru::normalize;
    CHECK(normalize(interval_list{{0x2000, 0x2FFF}, {0x1000, 0x1FFF}}) ==
          interval_list{{0x1000, 0x2FFF}});
    CHECK(normalize(interval_list{{0x1000, 0x1FFF}, {0x2001, 0x2FFF}}) ==
          interval_list{{0x1000, 0x1FFF}, {0x2001, 0x2FFF}});
    CHECK(normalize(interval_list{{0, 0}, {1, 1}, {2, 2}}) == interval_list{{0, 2}});
    CHECK(normalize(interval_list{{0, 0}, {top, top}}) == interval_list{{0, 0}, {top, top}});
}

TEST_CASE("SEMANTICS A.1: normalize merges at 2^64-1 without wrapping") {
    using passthru::normalize;
    // Adjacent at the top.
    CHECK(normalize(interval_list{{top, top}, {0xFFFF'FFFF'FFFF'F000, 0xFFFF'FFFF'FFFF'FFFE}}) ==
          interval_list{{0xFFFF'FFFF'FFFF'F000, top}});
    // A node that already reaches 2^64-1 swallows everything after it.
    CHECK(normalize(interval_list{{5, top}, {top, top}, {0x10, 0x20}}) == interval_list{{5, top}});
    CHECK(normalize(interval_list{{0x10, top}, {0, 0xF}}) == interval_list{whole_space});
    CHECK(normalize(interval_list{whole_space, {5, 5}}) == interval_list{whole_space});
}

TEST_CASE("SEMANTICS A.1 step 3: subtract splits a node around a region") {
    CHECK(passthru::subtract(interval_list{{0x1000, 0xFFFF}}, interval_list{{0x4000, 0x4FFF}}) ==
          interval_list{{0x1000, 0x3FFF}, {0x5000, 0xFFFF}});
    // A one-byte hole in the middle of the whole space.
    CHECK(passthru::subtract(interval_list{whole_space},
                             interval_list{{0x8000'0000'0000'0000, 0x8000'0000'0000'0000}}) ==
          interval_list{{0, 0x7FFF'FFFF'FFFF'FFFF}, {0x8000'0000'0000'0001, top}});
}

TEST_CASE("SEMANTICS A.1 step 3: subtract a region at 0 and a region at 2^64-1") {
    SECTION("region at 0 keeps only the part after it") {
        CHECK(passthru::subtract(interval_list{{0, 0xFFFF'FFFF}}, interval_list{{0, 0xFFF}}) ==
              interval_list{{0x1000, 0xFFFF'FFFF}});
    }
    SECTION("region at 2^64-1 keeps only the part before it") {
        CHECK(passthru::subtract(interval_list{whole_space},
                                 interval_list{{0xFFFF'FFFF'FFFF'F000, top}}) ==
              interval_list{{0, 0xFFFF'FFFF'FFFF'EFFF}});
    }
    SECTION("both ends at once") {
        CHECK(passthru::subtract(interval_list{whole_space},
                                 interval_list{{0xFFFF'FFFF'FFFF'F000, top}, {0, 0xFFF}}) ==
              interval_list{{0x1000, 0xFFFF'FFFF'FFFF'EFFF}});
    }
    SECTION("the single byte at 0 and the single byte at 2^64-1") {
        CHECK(passthru::subtract(interval_list{whole_space}, interval_list{{0, 0}, {top, top}}) ==
              interval_list{{1, 0xFFFF'FFFF'FFFF'FFFE}});
    }
}

TEST_CASE("SEMANTICS A.1 step 3: subtract a region covering everything leaves nothing") {
    CHECK(passthru::subtract(interval_list{{0x1000, 0x1FFF}, {0x5000, 0x5FFF}},
                             interval_list{whole_space})
              .empty());
    CHECK(passthru::subtract(interval_list{whole_space}, interval_list{whole_space}).empty());
    CHECK(passthru::subtract(interval_list{{7, 7}}, interval_list{{7, 7}}).empty());
    // SEMANTICS A.1 step 4 is the caller's: an empty result is -EINVAL at attach.
}

TEST_CASE("SEMANTICS A.1 step 3: subtract only touches nodes the region overlaps") {
    const interval_list two{{0x1000, 0x1FFF}, {0x5000, 0x5FFF}};
    SECTION("a region that is exactly one node removes it") {
        CHECK(passthru::subtract(two, interval_list{{0x1000, 0x1FFF}}) ==
              interval_list{{0x5000, 0x5FFF}});
    }
    SECTION("a region spanning the gap trims both nodes") {
        CHECK(passthru::subtract(two, interval_list{{0x1800, 0x57FF}}) ==
              interval_list{{0x1000, 0x17FF}, {0x5800, 0x5FFF}});
    }
    SECTION("a region that only touches the nodes' edges changes nothing") {
        CHECK(passthru::subtract(two, interval_list{{0x2000, 0x4FFF}}) == two);
        CHECK(passthru::subtract(two, interval_list{{0x6000, top}}) == two);
    }
    SECTION("no regions: the input, in canonical form") {
        CHECK(passthru::subtract(interval_list{{0x5000, 0x5FFF}, {0x1000, 0x2FFF}, {0x3000, 0x3FFF}},
                                 interval_list{}) ==
              interval_list{{0x1000, 0x3FFF}, {0x5000, 0x5FFF}});
    }
}

TEST_CASE("SEMANTICS A.1 step 3: subtract several unsorted regions (x86 MSI, ARM SW_MSI, AMD HT)") {
    // Aperture [0, 2^48-1]; regions of SEMANTICS §1.3, given out of order.
    const interval_list regions{{0xFEE0'0000, 0xFEEF'FFFF},
                                {0xFD'0000'0000, 0xFF'FFFF'FFFF},
                                {0x800'0000, 0x80F'FFFF}};
    CHECK(passthru::subtract(interval_list{{0, 0xFFFF'FFFF'FFFF}}, regions) ==
          interval_list{{0, 0x7FF'FFFF},
                        {0x810'0000, 0xFEDF'FFFF},
                        {0xFEF0'0000, 0xFC'FFFF'FFFF},
                        {0x100'0000'0000, 0xFFFF'FFFF'FFFF}});
}

TEST_CASE("SEMANTICS A.1: clip restricts a set to a window") {
    const interval_list usable{{0, 0xFEDF'FFFF}, {0xFEF0'0000, 0xFFFF'FFFF'FFFF}};
    CHECK(passthru::clip(usable, interval{0xFE00'0000, 0xFFFF'FFFF}) ==
          interval_list{{0xFE00'0000, 0xFEDF'FFFF}, {0xFEF0'0000, 0xFFFF'FFFF}});
    CHECK(passthru::clip(usable, interval{0xFEE0'0000, 0xFEEF'FFFF}).empty());
    CHECK(passthru::clip(interval_list{whole_space}, interval{0xFFFF'FFFF'FFFF'F000, top}) ==
          interval_list{{0xFFFF'FFFF'FFFF'F000, top}});
    CHECK(passthru::clip(usable, whole_space) == usable);
    // The input need not be canonical.
    CHECK(passthru::clip(interval_list{{0x2000, 0x2FFF}, {0x1000, 0x1FFF}}, whole_space) ==
          interval_list{{0x1000, 0x2FFF}});
}

TEST_CASE("SEMANTICS A.1: intersect of two sets (apertures of several domains)") {
    using passthru::intersect;
    // A 48-bit and a 39-bit aperture.
    CHECK(intersect(interval_list{{0, 0xFFFF'FFFF'FFFF}}, interval_list{{0, 0x7F'FFFF'FFFF}}) ==
          interval_list{{0, 0x7F'FFFF'FFFF}});
    CHECK(intersect(interval_list{{0, 0xFFFF}, {0x2'0000, 0x2'FFFF}},
                    interval_list{{0x8000, 0x2'7FFF}}) ==
          interval_list{{0x8000, 0xFFFF}, {0x2'0000, 0x2'7FFF}});
    CHECK(intersect(interval_list{{0x1000, 0x1FFF}}, interval_list{{0x2000, 0x2FFF}}).empty());
    CHECK(intersect(interval_list{}, interval_list{whole_space}).empty());
    CHECK(intersect(interval_list{whole_space}, interval_list{{top, top}}) ==
          interval_list{{top, top}});
    // Either side may be unsorted, overlapping or adjacent; the result is canonical.
    CHECK(intersect(interval_list{{0x3000, 0x3FFF}, {0x1000, 0x2FFF}, {0x2000, 0x27FF}},
                    interval_list{whole_space}) ==
          interval_list{{0x1000, 0x3FFF}});
    CHECK(intersect(interval_list{whole_space},
                    interval_list{{0x5000, 0x5FFF}, {0x2000, 0x3FFF}, {0x1000, 0x1FFF}}) ==
          interval_list{{0x1000, 0x3FFF}, {0x5000, 0x5FFF}});
}

TEST_CASE("SEMANTICS A.1: pipeable forms set | subtract(r) | clip_to(w) | intersect_with(o)") {
    const interval_list aperture{{0, 0xFFFF'FFFF'FFFF}};
    const interval_list msi{{0xFEE0'0000, 0xFEEF'FFFF}};
    const interval other_w{0x1000, 0xFFFF'FFFF};
    const interval_list other{{0, 0xFEE7'FFFF}, {0xFEF8'0000, 0x1'0000'0000}};

    const interval_list piped = aperture | passthru::subtract(msi) | passthru::clip_to(other_w) |
                                passthru::intersect_with(other);
    CHECK(piped == interval_list{{0x1000, 0xFEDF'FFFF}, {0xFEF8'0000, 0xFFFF'FFFF}});

    // Each stage equals its call form.
    CHECK((aperture | passthru::subtract(msi)) == passthru::subtract(aperture, msi));
    CHECK((aperture | passthru::clip_to(other_w)) == passthru::clip(aperture, other_w));
    CHECK((aperture | passthru::intersect_with(other)) == passthru::intersect(aperture, other));
}

TEST_CASE("SEMANTICS B11: contained_in_one is true only inside a single node") {
    using passthru::contained_in_one;
    const interval_list set{{0x1000, 0x1FFF}, {0x3000, 0x3FFF}};
    CHECK(contained_in_one(set, interval{0x1000, 0x1FFF}));  // exactly a node
    CHECK(contained_in_one(set, interval{0x3800, 0x3800}));  // one byte
    CHECK_FALSE(contained_in_one(set, interval{0x1800, 0x37FF})); // spans the hole
    CHECK_FALSE(contained_in_one(set, interval{0x2000, 0x2FFF})); // in the hole
    CHECK_FALSE(contained_in_one(set, interval{0xFFF, 0x1FFF}));  // one byte before
    CHECK_FALSE(contained_in_one(set, interval{0x3000, 0x4000})); // one byte after
    CHECK_FALSE(contained_in_one(interval_list{}, interval{0, 0}));
    CHECK(contained_in_one(interval_list{whole_space}, interval{0xFFFF'FFFF'FFFF'F000, top}));
}

namespace {
// A byte-per-bit model of a 64-byte universe placed at `base`: the set operations are
// plain bit operations there, and canonical form is the list of maximal runs of ones.
using bits64 = std::bitset<64>;

bits64 model(const interval_list& l, std::uint64_t base) {
    bits64 b;
    for (const interval& i : l)
        for (std::uint64_t a = i.first - base;; ++a) {
            b.set(a);
            if (a == i.last - base) break;
        }
    return b;
}

interval_list runs_of(const bits64& b, std::uint64_t base) {
    interval_list out;
    for (std::uint64_t a = 0; a < 64; ++a) {
        if (!b[a]) continue;
        std::uint64_t e = a;
        while (e + 1 < 64 && b[e + 1]) ++e;
        out.push_back({base + a, base + e});
        a = e;
    }
    return out;
}
} // namespace

TEST_CASE("SEMANTICS A.1: brute force, set operations agree with a bitmap model at 0 and at 2^64-1") {
    std::mt19937_64 rng(0xA1'5E7); // fixed: failures must reproduce
    // A universe at the bottom of the space and one whose last byte is 2^64-1.
    const std::uint64_t base = GENERATE(std::uint64_t{0}, std::uint64_t{0xFFFF'FFFF'FFFF'FFC0});
    const auto random_list = [&] {
        interval_list l;
        for (auto n = rng() % 6; n > 0; --n) {
            std::uint64_t a = rng() % 64, b = rng() % 64;
            if (a > b) std::swap(a, b);
            l.push_back({base + a, base + b});
        }
        return l;
    };
    int failures = 0;
    for (int i = 0; i < 3000 && failures < 5; ++i) {
        const interval_list a = random_list(), r = random_list();
        std::uint64_t w0 = rng() % 64, w1 = rng() % 64;
        if (w0 > w1) std::swap(w0, w1);
        const interval w{base + w0, base + w1};
        const bits64 ma = model(a, base), mr = model(r, base), mw = model({w}, base);

        const interval_list canon = passthru::normalize(a);
        bool ok = canon == runs_of(ma, base) &&
                  passthru::subtract(a, r) == runs_of(ma & ~mr, base) &&
                  passthru::clip(a, w) == runs_of(ma & mw, base) &&
                  passthru::intersect(a, r) == runs_of(ma & mr, base);
        // B11: w fits one node iff some maximal run of `a` covers it.
        bool fits = false;
        for (const interval& run : runs_of(ma, base)) fits = fits || run.contains(w);
        ok = ok && passthru::contained_in_one(canon, w) == fits;
        if (!ok) {
            ++failures;
            INFO("a " << Catch::Detail::stringify(a) << " r " << Catch::Detail::stringify(r)
                      << " w " << Catch::Detail::stringify(w));
            CHECK(ok);
        }
    }
    CHECK(failures == 0);
}
