// Page-size bitmaps and the IOMMU-core split (SEMANTICS G1.2-G1.3, PGTABLE §0.3). The
// upstream vectors (G1.3 worked example, generic_pt test_mixed) are in
// tests/conformance/core/; this file covers the bitmap queries, the corner cases of the
// split, and a brute-force cross-check against an independent checker.
#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <iterator>
#include <random>
#include <ranges>
#include <string>
#include <vector>

#include <passthru/core/page_size.hpp>

#include "page_split_checker.hpp"
#include "printers.hpp"

using passthru::iova;
using passthru::page_run;
using passthru::page_split;
using passthru::phys_addr;
using passthru::pgsize_bitmap;
using passthru::testing::check_split;
using passthru::testing::runs;

namespace {

constexpr std::uint64_t K4 = 0x1000, K8 = 0x2000, K16 = 0x4000, M2 = 0x20'0000,
                        G1 = 0x4000'0000, G256 = 0x40'0000'0000, G512 = 0x80'0000'0000,
                        T1 = 0x100'0000'0000;
constexpr pgsize_bitmap arm_4k{0x4020'1000};                     // 4K|2M|1G
constexpr pgsize_bitmap amd_v1{0xFFFF'FF7F'FFFF'F000};           // every 2^n >= 4K but 512G
constexpr pgsize_bitmap every_pow2_4k{0xFFFF'FFFF'FFFF'F000};    // VT-d before v5.15
constexpr pgsize_bitmap only_4k{0x1000};

constexpr page_run run(std::uint64_t io, std::uint64_t pa, std::uint64_t pgsize,
                       std::uint64_t count) {
    return {iova{io}, phys_addr{pa}, pgsize, count};
}


} // namespace

// Compile-time use: the split is constexpr and allocation-free.
static_assert(std::ranges::forward_range<page_split>);
static_assert(arm_4k.min_pgsize() == 0x1000 && arm_4k.max_pgsize() == 0x4000'0000);
static_assert(passthru::next_page_run(arm_4k, iova{0x20'0000}, phys_addr{0x40'0000}, 0x40'1000) ==
              run(0x20'0000, 0x40'0000, M2, 2));
static_assert([] {
    std::uint64_t leaves = 0;
    for (const page_run& r : page_split(every_pow2_4k, iova{0x1000}, phys_addr{0x1000}, 0x7000))
        leaves += r.count;
    return leaves;
}() == 3);

TEST_CASE("SEMANTICS G1.2: min pgsize is the lowest bit of the bitmap, max the highest") {
    struct row {
        std::uint64_t bits, min, max;
    };
    const row r = GENERATE(values<row>({
        {0x4020'1000, 0x1000, 0x4000'0000},                            // 4K|2M|1G
        {0x1000, 0x1000, 0x1000},                                      // 4K only
        {0x200'4000, 0x4000, 0x200'0000},                              // 16K|32M
        {0x2001'0000, 0x1'0000, 0x2000'0000},                          // 64K|512M
        {0x111'1000, 0x1000, 0x100'0000},                              // 4K|64K|1M|16M
        {0xFFFF'FF7F'FFFF'F000, 0x1000, 0x8000'0000'0000'0000},        // AMD v1
        {0xFFFF'FFFF'FFFF'F000, 0x1000, 0x8000'0000'0000'0000},        // every 2^n >= 4K
        {0x800, 0x800, 0x800},                                         // iommufd mock
        {0x1, 0x1, 0x1},
        {0x8000'0000'0000'0000, 0x8000'0000'0000'0000, 0x8000'0000'0000'0000},
        {0, 0, 0},                                                     // empty
    }));
    const pgsize_bitmap b{r.bits};
    INFO("bitmap " << passthru::testing::hex(r.bits));
    CHECK(b.min_pgsize() == r.min);
    CHECK(b.max_pgsize() == r.max);
    CHECK(b.empty() == (r.bits == 0));
}

TEST_CASE("SEMANTICS G1.2: supports a single supported power of two only") {
    CHECK(arm_4k.supports(0x1000));
    CHECK(arm_4k.supports(0x20'0000));
    CHECK(arm_4k.supports(0x4000'0000));
    CHECK_FALSE(arm_4k.supports(0x2000));
    CHECK_FALSE(arm_4k.supports(0x20'1000)); // two supported bits are not one page size
    CHECK_FALSE(arm_4k.supports(0));
    CHECK_FALSE(arm_4k.supports(0x8000'0000));
    CHECK(amd_v1.supports(G256));
    CHECK_FALSE(amd_v1.supports(G512)); // the one size AMD v1 lacks
    CHECK(amd_v1.supports(T1));
    CHECK(amd_v1.supports(0x8000'0000'0000'0000));
    CHECK_FALSE(amd_v1.supports(0x800));
    CHECK_FALSE(pgsize_bitmap{}.supports(0x1000));
}

TEST_CASE("SEMANTICS G1.2: bitmaps combine with & and |") {
    CHECK((pgsize_bitmap{0x20'1000} & pgsize_bitmap{0x4020'0000}) == pgsize_bitmap{0x20'0000});
    CHECK((pgsize_bitmap{0x20'1000} | pgsize_bitmap{0x4020'0000}) == arm_4k);
    CHECK((only_4k & pgsize_bitmap{0x20'0000}).empty());
}

TEST_CASE("SEMANTICS G1.2: aligned_for needs iova, paddr and size on the min pgsize") {
    CHECK(passthru::aligned_for(arm_4k, iova{0x1000}, phys_addr{0x2000}, 0x1000));
    CHECK(passthru::aligned_for(arm_4k, iova{0}, phys_addr{0}, 0x20'0000));
    CHECK_FALSE(passthru::aligned_for(arm_4k, iova{0x1800}, phys_addr{0x2000}, 0x1000));
    CHECK_FALSE(passthru::aligned_for(arm_4k, iova{0x1000}, phys_addr{0x800}, 0x1000));
    CHECK_FALSE(passthru::aligned_for(arm_4k, iova{0x1000}, phys_addr{0x2000}, 0x1800));
    CHECK(passthru::aligned_for(pgsize_bitmap{0x800}, iova{0x800}, phys_addr{0x1800}, 0x800));
    // G1.1: an empty bitmap aligns nothing.
    CHECK_FALSE(passthru::aligned_for(pgsize_bitmap{}, iova{0}, phys_addr{0}, 0x1000));
}

TEST_CASE("SEMANTICS G1.3: the early stop needs exactly room for one bigger page past the boundary") {
    SECTION("one page short: no stop, all 4K") {
        CHECK(runs(arm_4k, 0x1F'F000, 0x1F'F000, 0x20'0000) ==
              std::vector{run(0x1F'F000, 0x1F'F000, K4, 512)});
    }
    SECTION("exactly enough (gap + next == size): stop at the 2M boundary") {
        CHECK(runs(arm_4k, 0x1F'F000, 0x1F'F000, 0x20'1000) ==
              std::vector{run(0x1F'F000, 0x1F'F000, K4, 1), run(0x20'0000, 0x20'0000, M2, 1)});
    }
}

TEST_CASE("SEMANTICS G1.3: iova and paddr not co-aligned for the bigger page: no early stop") {
    SECTION("not congruent mod 2M: every page 4K") {
        // iova ^ paddr = 0x1FE000 is not a multiple of 2M.
        CHECK(runs(arm_4k, 0x1F'F000, 0x1000, 0x40'2000) ==
              std::vector{run(0x1F'F000, 0x1000, K4, 1026)});
    }
    SECTION("congruent mod 2M but not mod 1G: 2M pages throughout") {
        CHECK(runs(arm_4k, 0x3FE0'0000, 0x4000'0000, 0x8000'0000) ==
              std::vector{run(0x3FE0'0000, 0x4000'0000, M2, 1024)});
    }
    SECTION("the same request co-aligned for 1G: stop at the 1G boundary") {
        CHECK(runs(arm_4k, 0x3FE0'0000, 0x3FE0'0000, 0x8000'0000) ==
              std::vector{run(0x3FE0'0000, 0x3FE0'0000, M2, 1),
                          run(0x4000'0000, 0x4000'0000, G1, 1),
                          run(0x8000'0000, 0x8000'0000, M2, 511)});
    }
}

TEST_CASE("SEMANTICS G1.3: a bitmap with one size maps one run") {
    CHECK(runs(only_4k, 0x1000, 0x7000, 0x1'0000) == std::vector{run(0x1000, 0x7000, K4, 16)});
    CHECK(runs(pgsize_bitmap{M2}, 0x20'0000, 0x4000'0000, 0x60'0000) ==
          std::vector{run(0x20'0000, 0x4000'0000, M2, 3)});
    // The iommufd mock's 2048-byte page (SEMANTICS §1.4).
    CHECK(runs(pgsize_bitmap{0x800}, 0x100'0800, 0x800, 0x1800) ==
          std::vector{run(0x100'0800, 0x800, 0x800, 3)});
}

TEST_CASE("SEMANTICS G1.3: every-power-of-two bitmaps climb one size per step") {
    SECTION("4K, 8K, 16K") {
        CHECK(runs(every_pow2_4k, 0x1000, 0x1000, 0x7000) ==
              std::vector{run(0x1000, 0x1000, K4, 1), run(0x2000, 0x2000, K8, 1),
                          run(0x4000, 0x4000, K16, 1)});
    }
    SECTION("AMD v1 lacks 512G: 256G pages where every-power-of-two uses one 512G page") {
        CHECK(runs(every_pow2_4k, G256, G256, 0xC0'0000'0000) ==
              std::vector{run(G256, G256, G256, 1), run(G512, G512, G512, 1)});
        CHECK(runs(amd_v1, G256, G256, 0xC0'0000'0000) ==
              std::vector{run(G256, G256, G256, 3)});
        CHECK(runs(amd_v1, 0, 0, G512) == std::vector{run(0, 0, G256, 2)});
        CHECK(runs(amd_v1, 0, 0, T1) == std::vector{run(0, 0, T1, 1)});
    }
}

TEST_CASE("SEMANTICS G1.3: maps that end at 2^64-1 do not wrap") {
    SECTION("the last 4K page") {
        CHECK(runs(arm_4k, 0xFFFF'FFFF'FFFF'F000, 0x1000, 0x1000) ==
              std::vector{run(0xFFFF'FFFF'FFFF'F000, 0x1000, K4, 1)});
    }
    SECTION("the last 2M page") {
        CHECK(runs(arm_4k, 0xFFFF'FFFF'FFE0'0000, 0x20'0000, 0x20'0000) ==
              std::vector{run(0xFFFF'FFFF'FFE0'0000, 0x20'0000, M2, 1)});
    }
    SECTION("the last 1G page, reached through an early stop") {
        CHECK(runs(arm_4k, 0xFFFF'FFFF'BFFF'F000, 0x3FFF'F000, 0x4000'1000) ==
              std::vector{run(0xFFFF'FFFF'BFFF'F000, 0x3FFF'F000, K4, 1),
                          run(0xFFFF'FFFF'C000'0000, 0x4000'0000, G1, 1)});
    }
    SECTION("the top half of the space as one 2^63 page") {
        CHECK(runs(every_pow2_4k, 0x8000'0000'0000'0000, 0x8000'0000'0000'0000,
                   0x8000'0000'0000'0000) ==
              std::vector{run(0x8000'0000'0000'0000, 0x8000'0000'0000'0000,
                              0x8000'0000'0000'0000, 1)});
    }
}

TEST_CASE("SEMANTICS G1.3: the 2^62 and 2^63 pages are used only when they fit") {
    SECTION("2^62 bytes from 0: one 2^62 page, never the 2^63 one") {
        CHECK(runs(every_pow2_4k, 0, 0, 0x4000'0000'0000'0000) ==
              std::vector{run(0, 0, 0x4000'0000'0000'0000, 1)});
    }
    SECTION("3 * 2^62 bytes from 0: a 2^63 page, then a 2^62 page") {
        CHECK(runs(every_pow2_4k, 0, 0, 0xC000'0000'0000'0000) ==
              std::vector{run(0, 0, 0x8000'0000'0000'0000, 1),
                          run(0x8000'0000'0000'0000, 0x8000'0000'0000'0000,
                              0x4000'0000'0000'0000, 1)});
    }
}

TEST_CASE("SEMANTICS G1.3: the loop runs while size > 0, so a split of 0 bytes has no runs") {
    const page_split none(arm_4k, iova{0x1000}, phys_addr{0x1000}, 0);
    CHECK(none.begin() == none.end());
    CHECK(std::ranges::distance(none) == 0);
    CHECK(std::ranges::distance(page_split(arm_4k, iova{0x1F'F000}, phys_addr{0x1F'F000}, 0x20'1000)) == 2);
}

TEST_CASE("SEMANTICS G1.3: next_page_run computes one step") {
    CHECK(passthru::next_page_run(arm_4k, iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x40'2000) ==
          run(0x1F'F000, 0x3F'F000, K4, 1));
    CHECK(passthru::next_page_run(arm_4k, iova{0}, phys_addr{0}, 0x4000'0000) ==
          run(0, 0, G1, 1));
    // Address 0 constrains nothing: only the size does.
    CHECK(passthru::next_page_run(arm_4k, iova{0}, phys_addr{0}, 0x3FF'F000) ==
          run(0, 0, M2, 0x1F));
}

TEST_CASE("SEMANTICS G1.3: the brute-force checker rejects illegal and suboptimal splits") {
    // The checker must be able to fail, or the cross-check below proves nothing.
    CHECK(check_split(arm_4k, 0, 0, M2, {run(0, 0, M2, 1)}).empty());
    CHECK(check_split(arm_4k, 0, 0, M2, {run(0, 0, K4, 512)}) == "a page could have been bigger");
    CHECK(check_split(arm_4k, 0, 0, 0x2000, {run(0, 0, K8, 1)}) == "page size not in the bitmap");
    CHECK(check_split(arm_4k, 0x1000, 0x1000, M2, {run(0x1000, 0x1000, M2, 1)}) ==
          "addresses not aligned to the page size");
    CHECK(check_split(arm_4k, 0, 0, 0x2000, {run(0, 0, K4, 1)}) ==
          "runs do not cover the request");
    CHECK(check_split(arm_4k, 0, 0, 0x2000, {run(0, 0, K4, 1), run(0x1000, 0x1000, K4, 1)}) ==
          "two adjacent runs of one page size");
    CHECK(check_split(arm_4k, 0, 0, 0x1000, {run(0, 0, K4, 2)}) == "run overruns the request");
    // Co-aligned 4K run that steps over a 2M boundary with 2M still to go.
    CHECK(check_split(arm_4k, 0x1F'F000, 0x1F'F000, 0x20'1000,
                      {run(0x1F'F000, 0x1F'F000, K4, 0x201)}) == "a page could have been bigger");
}

TEST_CASE("SEMANTICS G1.3: brute force, random aligned requests split legally and optimally") {
    const std::vector<pgsize_bitmap> bitmaps{
        arm_4k, only_4k, pgsize_bitmap{0x200'4000}, pgsize_bitmap{0x2001'0000},
        pgsize_bitmap{0x111'1000}, amd_v1, every_pow2_4k, pgsize_bitmap{0x10'0800},
        pgsize_bitmap{0x8000'0000'0000'1000}};
    std::mt19937_64 rng(0x5EED'1F00'0DULL); // fixed: failures must reproduce
    const auto pick_size = [&](pgsize_bitmap b) { // a random supported page size
        std::uint64_t bits = b.bits;
        const int n = std::popcount(bits);
        for (int skip = static_cast<int>(rng() % static_cast<unsigned>(n)); skip > 0; --skip)
            bits &= bits - 1;
        return bits & (~bits + 1);
    };

    int checked = 0, failures = 0;
    for (int i = 0; i < 20000 && failures < 5; ++i) {
        pgsize_bitmap b = bitmaps[i % bitmaps.size()];
        if (i % 10 == 9) // a random bitmap of sizes 4K..1T
            b = pgsize_bitmap{(rng() & 0x1FF'FFFF'F000) | 0x1000};
        const std::uint64_t min = b.min_pgsize();

        std::uint64_t io = rng();
        if (i % 4 != 0) io &= 0xFFFF'FFFF'FFFF; // mostly a 48-bit space
        if (i % 16 == 5) io = ~std::uint64_t{0} - (rng() & 0xFFFF'FFFF'FFFF); // near 2^64-1
        io &= ~(min - 1);

        std::uint64_t pa = rng() & 0xF'FFFF'FFFF'FFFF & ~(min - 1);
        if (rng() % 4 != 0) { // usually co-aligned with iova for some supported size
            const std::uint64_t s = pick_size(b);
            pa = (pa & ~(s - 1)) | (io & (s - 1));
        }

        std::uint64_t s = pick_size(b);
        if (s > T1) s = T1;
        std::uint64_t size = (rng() % (4 * s / min) + 1) * min;
        if (i % 32 == 17) size = ~std::uint64_t{0}; // as far as the space allows
        // No wrap past 2^64-1 for either address (the caller's check, SEMANTICS B8).
        const std::uint64_t room_io = io ? 0 - io : ~std::uint64_t{0} & ~(min - 1);
        const std::uint64_t room_pa = pa ? 0 - pa : ~std::uint64_t{0} & ~(min - 1);
        if (size > room_io) size = room_io;
        if (size > room_pa) size = room_pa;
        if (size == 0) continue;

        const auto split = runs(b, io, pa, size);
        const std::string err = check_split(b, io, pa, size, split);
        ++checked;
        if (!err.empty()) {
            ++failures;
            INFO("bitmap " << passthru::testing::hex(b.bits) << " iova "
                           << passthru::testing::hex(io) << " paddr "
                           << passthru::testing::hex(pa) << " size "
                           << passthru::testing::hex(size));
            INFO("split " << Catch::Detail::stringify(split));
            CHECK(err == "");
        }
    }
    CHECK(failures == 0);
    CHECK(checked > 19000);
}
