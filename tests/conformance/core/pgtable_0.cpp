// PGTABLE §0: the Linux conventions every page-table format shares: the prot flag values
// (§0.1) and how the core splits a map request (§0.3).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>

#include "../../unit/core/printers.hpp"

using passthru::iova;
using passthru::page_run;
using passthru::phys_addr;
using passthru::pgsize_bitmap;

namespace {
constexpr pgsize_bitmap sizes_4k_2m_1g{0x1000 | 0x20'0000 | 0x4000'0000};

// generic_pt test_mixed: VA = PA over [0x3FE400000, 0x4C0600000).
constexpr std::uint64_t mixed_start = 0x3'FE40'0000, mixed_end = 0x4'C060'0000;

constexpr std::uint64_t leaf_count(pgsize_bitmap b, std::uint64_t io, std::uint64_t pa,
                                   std::uint64_t size) {
    std::uint64_t n = 0;
    for (const page_run& r : passthru::page_split(b, iova{io}, phys_addr{pa}, size)) n += r.count;
    return n;
}
} // namespace

static_assert(static_cast<unsigned>(passthru::prot::mmio) == 16);
static_assert(leaf_count(sizes_4k_2m_1g, mixed_start, mixed_start, mixed_end - mixed_start) == 20);

TEST_CASE("PGTABLE §0.1: prot flags are IOMMU_READ 1, WRITE 2, CACHE 4, NOEXEC 8, MMIO 16, PRIV 32") {
    using passthru::prot;
    CHECK(static_cast<unsigned>(prot::read) == 1);
    CHECK(static_cast<unsigned>(prot::write) == 2);
    CHECK(static_cast<unsigned>(prot::cache) == 4);
    CHECK(static_cast<unsigned>(prot::noexec) == 8);
    CHECK(static_cast<unsigned>(prot::mmio) == 16);
    CHECK(static_cast<unsigned>(prot::priv) == 32);
}

TEST_CASE("PGTABLE §0.3: test_mixed VA=PA 0x3FE400000 up to 0x4C0600000 with 4K|2M|1G is 14x2M + 3x1G + 3x2M = 20 leaves") {
    std::vector<page_run> runs;
    for (const page_run& r : passthru::page_split(sizes_4k_2m_1g, iova{mixed_start},
                                                  phys_addr{mixed_start},
                                                  mixed_end - mixed_start))
        runs.push_back(r);

    // 0x3FE400000 -> 0x400000000 is 28 MiB, then 3 GiB, then 6 MiB.
    CHECK(runs == std::vector<page_run>{
                      {iova{0x3'FE40'0000}, phys_addr{0x3'FE40'0000}, 0x20'0000, 14},
                      {iova{0x4'0000'0000}, phys_addr{0x4'0000'0000}, 0x4000'0000, 3},
                      {iova{0x4'C000'0000}, phys_addr{0x4'C000'0000}, 0x20'0000, 3},
                  });
    CHECK(leaf_count(sizes_4k_2m_1g, mixed_start, mixed_start, mixed_end - mixed_start) == 20);
}

TEST_CASE("PGTABLE §0.3: without co-alignment for 1G the same length stays in 2M pages") {
    // Step 4: IOVA and PA not congruent modulo 1G (differ by 2M) -> no stop at the boundary.
    std::vector<page_run> runs;
    for (const page_run& r : passthru::page_split(sizes_4k_2m_1g, iova{mixed_start},
                                                  phys_addr{mixed_start + 0x20'0000},
                                                  mixed_end - mixed_start))
        runs.push_back(r);
    CHECK(runs == std::vector<page_run>{{iova{mixed_start}, phys_addr{mixed_start + 0x20'0000},
                                         0x20'0000, 0x611}});
}
