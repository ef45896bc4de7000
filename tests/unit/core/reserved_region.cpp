// Reserved regions: which kinds remove IOVA space (SEMANTICS A.1 step 3) and the corner
// cases of the G.2 list merge. The rule vectors of G.2/G.3 and the §1.3 enum values are
// in tests/conformance/core/.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstdint>
#include <random>
#include <vector>

#include <passthru/core/reserved_region.hpp>

#include "printers.hpp"

using passthru::interval;
using passthru::prot;
using passthru::reserved_region;
using passthru::reserved_region_list;
using passthru::resv_type;

namespace {
constexpr std::uint64_t top = 0xFFFF'FFFF'FFFF'FFFF;

reserved_region_list insert_all(const std::vector<reserved_region>& in) {
    reserved_region_list l;
    for (const reserved_region& r : in) passthru::insert_resv_region(l, r);
    return l;
}

constexpr bool merge_is_constexpr() {
    reserved_region_list l;
    passthru::insert_resv_region(l, {{0x2000, 0x2FFF}, resv_type::reserved, prot::none});
    passthru::insert_resv_region(l, {{0x1000, 0x1FFF}, resv_type::reserved, prot::none});
    return l.size() == 1 && l[0].range == interval{0x1000, 0x2FFF};
}
} // namespace

static_assert(merge_is_constexpr());
static_assert(!reserved_region{{0, 0xFFF}, resv_type::direct_relaxable, prot::none}.excludes_iova());
static_assert(reserved_region{{0, 0xFFF}, resv_type::direct, prot::none}.excludes_iova());

TEST_CASE("SEMANTICS A.1 step 3: every region type but DIRECT_RELAXABLE excludes its IOVA range") {
    const interval r{0x1000, 0x1FFF};
    CHECK(reserved_region{r, resv_type::direct, prot::none}.excludes_iova());
    CHECK_FALSE(reserved_region{r, resv_type::direct_relaxable, prot::none}.excludes_iova());
    CHECK(reserved_region{r, resv_type::reserved, prot::none}.excludes_iova());
    CHECK(reserved_region{r, resv_type::msi, prot::none}.excludes_iova());
    CHECK(reserved_region{r, resv_type::sw_msi, prot::none}.excludes_iova());
}

TEST_CASE("SEMANTICS A.1 step 3: excluded_iova lists the non-relaxable ranges in list order") {
    const reserved_region_list l{
        {{0, 0xFF'FFFF}, resv_type::direct_relaxable, prot::read | prot::write}, // ISA bridge
        {{0x800'0000, 0x80F'FFFF}, resv_type::sw_msi, prot::write},
        {{0xE'0000, 0xF'FFFF}, resv_type::direct, prot::read},
        {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none},
        {{0xFD'0000'0000, 0xFF'FFFF'FFFF}, resv_type::reserved, prot::none},
    };
    CHECK(passthru::excluded_iova(l) == std::vector<interval>{{0x800'0000, 0x80F'FFFF},
                                                             {0xE'0000, 0xF'FFFF},
                                                             {0xFEE0'0000, 0xFEEF'FFFF},
                                                             {0xFD'0000'0000, 0xFF'FFFF'FFFF}});
    CHECK(passthru::excluded_iova(reserved_region_list{}).empty());
    CHECK(passthru::excluded_iova(reserved_region_list{
                                      {{0, 0xFFF}, resv_type::direct_relaxable, prot::none}})
              .empty());
}

TEST_CASE("SEMANTICS G.3: type names are the sysfs ones, except that SW_MSI is told apart") {
    CHECK(to_string(resv_type::direct) == "direct");
    CHECK(to_string(resv_type::direct_relaxable) == "direct-relaxable");
    CHECK(to_string(resv_type::reserved) == "reserved");
    CHECK(to_string(resv_type::msi) == "msi");
    // sysfs prints "msi" for both MSI kinds; passthru's reports need to tell them apart.
    CHECK(to_string(resv_type::sw_msi) == "sw-msi");
}

TEST_CASE("SEMANTICS G.3: sysfs_name prints both MSI kinds as msi, as iommu_group_resv_type_string does") {
    CHECK(passthru::sysfs_name(resv_type::direct) == "direct");
    CHECK(passthru::sysfs_name(resv_type::direct_relaxable) == "direct-relaxable");
    CHECK(passthru::sysfs_name(resv_type::reserved) == "reserved");
    CHECK(passthru::sysfs_name(resv_type::msi) == "msi");
    CHECK(passthru::sysfs_name(resv_type::sw_msi) == "msi");
}

TEST_CASE("SEMANTICS G.2: a merged region keeps the prot of the first region of the run") {
    const auto l = insert_all({{{0x1000, 0x1FFF}, resv_type::direct, prot::read},
                               {{0x2000, 0x2FFF}, resv_type::direct, prot::write}});
    REQUIRE(l.size() == 1);
    CHECK(l[0] == reserved_region{{0x1000, 0x2FFF}, resv_type::direct, prot::read});

    // Same start and type: the kernel inserts the new region first, so its prot wins.
    const auto tie = insert_all({{{0x1000, 0x1FFF}, resv_type::direct, prot::read},
                                 {{0x1000, 0x2FFF}, resv_type::direct, prot::write}});
    REQUIRE(tie.size() == 1);
    CHECK(tie[0] == reserved_region{{0x1000, 0x2FFF}, resv_type::direct, prot::write});

    // Inserted first but starting later: the earlier region's prot wins.
    const auto m = insert_all({{{0x2000, 0x2FFF}, resv_type::direct, prot::write},
                               {{0x1000, 0x1FFF}, resv_type::direct, prot::read}});
    REQUIRE(m.size() == 1);
    CHECK(m[0] == reserved_region{{0x1000, 0x2FFF}, resv_type::direct, prot::read});
}

TEST_CASE("SEMANTICS G.2: a region that bridges two of its type merges all three") {
    const auto l = insert_all({{{0, 0xFFF}, resv_type::direct, prot::none},
                               {{0x1000, 0x1FFF}, resv_type::msi, prot::none},
                               {{0x2000, 0x2FFF}, resv_type::direct, prot::none},
                               {{0x1000, 0x1FFF}, resv_type::direct, prot::none}});
    CHECK(l == reserved_region_list{{{0, 0x2FFF}, resv_type::direct, prot::none},
                                    {{0x1000, 0x1FFF}, resv_type::msi, prot::none}});
}

TEST_CASE("SEMANTICS G.2: a region inside one of its type is absorbed") {
    const auto l = insert_all({{{0x1000, 0x8FFF}, resv_type::reserved, prot::none},
                               {{0x3000, 0x3FFF}, resv_type::reserved, prot::none}});
    CHECK(l == reserved_region_list{{{0x1000, 0x8FFF}, resv_type::reserved, prot::none}});
}

TEST_CASE("SEMANTICS G.2: merging at 2^64-1 does not wrap") {
    // Adjacent at the top, and overlapping a region that already ends at 2^64-1.
    const auto l = insert_all({{{0xFFFF'FFFF'FFFF'F000, top}, resv_type::reserved, prot::none},
                               {{0xFFFF'FFFF'FFFF'E000, 0xFFFF'FFFF'FFFF'EFFF},
                                resv_type::reserved, prot::none},
                               {{top, top}, resv_type::reserved, prot::none}});
    CHECK(l == reserved_region_list{
                   {{0xFFFF'FFFF'FFFF'E000, top}, resv_type::reserved, prot::none}});
    // The byte at 0 and the byte at 2^64-1 are not adjacent.
    const auto m = insert_all({{{top, top}, resv_type::reserved, prot::none},
                               {{0, 0}, resv_type::reserved, prot::none}});
    CHECK(m == reserved_region_list{{{0, 0}, resv_type::reserved, prot::none},
                                    {{top, top}, resv_type::reserved, prot::none}});
}

TEST_CASE("SEMANTICS G.2: brute force, the merged list is the per-type union in (start, type) order") {
    // Model: one 64-byte bitmap per type over a universe at `base`; each type's maximal
    // runs of ones are its merged regions.
    std::mt19937_64 rng(0x6E'2); // fixed: failures must reproduce
    const std::uint64_t base = GENERATE(std::uint64_t{0}, std::uint64_t{0xFFFF'FFFF'FFFF'FFC0});
    int failures = 0;
    for (int i = 0; i < 3000 && failures < 5; ++i) {
        reserved_region_list l;
        std::array<std::bitset<64>, 5> per_type{};
        for (auto n = rng() % 8; n > 0; --n) {
            std::uint64_t a = rng() % 64, b = rng() % 64;
            if (a > b) std::swap(a, b);
            const auto t = static_cast<resv_type>(rng() % 5);
            passthru::insert_resv_region(l, {{base + a, base + b}, t, prot::none});
            for (std::uint64_t x = a; x <= b; ++x) per_type[static_cast<unsigned>(t)].set(x);
        }
        reserved_region_list want;
        for (unsigned t = 0; t < 5; ++t)
            for (std::uint64_t a = 0; a < 64; ++a) {
                if (!per_type[t][a]) continue;
                std::uint64_t e = a;
                while (e + 1 < 64 && per_type[t][e + 1]) ++e;
                want.push_back({{base + a, base + e}, static_cast<resv_type>(t), prot::none});
                a = e;
            }
        std::sort(want.begin(), want.end(), [](const reserved_region& x, const reserved_region& y) {
            return x.range.first != y.range.first ? x.range.first < y.range.first : x.type < y.type;
        });
        if (l != want) {
            ++failures;
            CHECK(l == want);
        }
    }
    CHECK(failures == 0);
}

TEST_CASE("SEMANTICS G.3: merge_resv_regions is the union of several lists, inserted in order") {
    const std::array iommu{reserved_region{{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}};
    const std::vector<reserved_region> firmware{
        {{0x1000, 0x1FFF}, resv_type::direct, prot::read},
        {{0x2000, 0x2FFF}, resv_type::direct, prot::write}};
    const auto l = passthru::merge_resv_regions(iommu, firmware);
    CHECK(l == reserved_region_list{{{0x1000, 0x2FFF}, resv_type::direct, prot::read},
                                    {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}});
    CHECK(passthru::merge_resv_regions().empty());
}
