// SEMANTICS G1.2-G1.5: page-size selection of the IOMMU core (iommu_pgsize).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include <passthru/core/page_size.hpp>

#include "../../unit/core/printers.hpp"

using passthru::iova;
using passthru::page_run;
using passthru::phys_addr;
using passthru::pgsize_bitmap;

namespace {
constexpr pgsize_bitmap b_4k_2m_1g{0x1000 | 0x20'0000 | 0x4000'0000};

std::vector<page_run> split(pgsize_bitmap b, std::uint64_t io, std::uint64_t pa,
                            std::uint64_t size) {
    std::vector<page_run> v;
    for (const page_run& r : passthru::page_split(b, iova{io}, phys_addr{pa}, size)) v.push_back(r);
    return v;
}
} // namespace

static_assert(passthru::next_page_run(b_4k_2m_1g, iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x40'2000) ==
              page_run{iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x1000, 1});

TEST_CASE("SEMANTICS G1.2: min pgsize is 1 << ctz(B) and iova, paddr, size must be multiples of it") {
    CHECK(b_4k_2m_1g.min_pgsize() == 0x1000);
    CHECK(pgsize_bitmap{0x800}.min_pgsize() == 0x800); // iommufd mock (SEMANTICS §1.4)
    CHECK(passthru::aligned_for(b_4k_2m_1g, iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x40'2000));
    // SEMANTICS §N vector 3 (iova 0x1800) fails this check.
    CHECK_FALSE(passthru::aligned_for(b_4k_2m_1g, iova{0x1800}, phys_addr{0x1000}, 0x1000));
    CHECK_FALSE(passthru::aligned_for(b_4k_2m_1g, iova{0x1000}, phys_addr{0x1001}, 0x1000));
    CHECK_FALSE(passthru::aligned_for(b_4k_2m_1g, iova{0x1000}, phys_addr{0x1000}, 0xFFF));
}

TEST_CASE("SEMANTICS G1.3: worked example 4K|2M|1G splits 0x1FF000/0x3FF000/0x402000 into 4K x1, 2M x2, 4K x1") {
    SECTION("step by step") {
        // step 1: co-aligned for 2M, gap 0x1000 -> 4K x1.
        const page_run s1 =
            passthru::next_page_run(b_4k_2m_1g, iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x40'2000);
        CHECK(s1 == page_run{iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x1000, 1});
        // step 2 at iova 0x200000 / pa 0x400000: 1G not co-aligned -> 2M x2.
        const page_run s2 =
            passthru::next_page_run(b_4k_2m_1g, iova{0x20'0000}, phys_addr{0x40'0000}, 0x40'1000);
        CHECK(s2 == page_run{iova{0x20'0000}, phys_addr{0x40'0000}, 0x20'0000, 2});
        // step 3: the last 4K.
        const page_run s3 =
            passthru::next_page_run(b_4k_2m_1g, iova{0x60'0000}, phys_addr{0x80'0000}, 0x1000);
        CHECK(s3 == page_run{iova{0x60'0000}, phys_addr{0x80'0000}, 0x1000, 1});
    }
    SECTION("as one split") {
        CHECK(split(b_4k_2m_1g, 0x1F'F000, 0x3F'F000, 0x40'2000) ==
              std::vector<page_run>{{iova{0x1F'F000}, phys_addr{0x3F'F000}, 0x1000, 1},
                                    {iova{0x20'0000}, phys_addr{0x40'0000}, 0x20'0000, 2},
                                    {iova{0x60'0000}, phys_addr{0x80'0000}, 0x1000, 1}});
    }
}

TEST_CASE("SEMANTICS G1.5: unmap splits with paddr := iova, so only the iova's alignment counts") {
    // Mapped to pa 0x200000 the 1G range at iova 0x40000000 needs 512 2M pages; unmapped
    // (paddr := iova) it is one 1G page.
    CHECK(split(b_4k_2m_1g, 0x4000'0000, 0x20'0000, 0x4000'0000) ==
          std::vector<page_run>{{iova{0x4000'0000}, phys_addr{0x20'0000}, 0x20'0000, 512}});
    CHECK(split(b_4k_2m_1g, 0x4000'0000, 0x4000'0000, 0x4000'0000) ==
          std::vector<page_run>{{iova{0x4000'0000}, phys_addr{0x4000'0000}, 0x4000'0000, 1}});
}
