// SEMANTICS A.1 (usable IOVA list at attach) and B11 (a map must fit one usable node),
// with the container vectors of SEMANTICS §N.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>

#include <passthru/core/interval_set.hpp>
#include <passthru/core/reserved_region.hpp>

#include "../../unit/core/printers.hpp"

using passthru::interval;
using passthru::interval_list;
using passthru::prot;
using passthru::reserved_region_list;
using passthru::resv_type;

namespace {
// §N: aperture [0, 2^48-1], group regions {[0xFEE00000, 0xFEEFFFFF] MSI}.
const interval aperture{0, 0xFFFF'FFFF'FFFF};
const reserved_region_list n_regions{{{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}};
const interval_list n_usable{{0, 0xFEDF'FFFF}, {0xFEF0'0000, 0xFFFF'FFFF'FFFF}};

// B11: [iova, iova+size-1] must sit in one node. A size that wraps never does.
bool map_fits(const interval_list& usable, std::uint64_t io, std::uint64_t size) {
    const std::optional<interval> r = interval::from_size(io, size);
    return r && passthru::contained_in_one(usable, *r);
}

constexpr bool n_usable_is_constexpr() {
    const interval_list ap{{0, 0xFFFF'FFFF'FFFF}};
    const interval_list msi{{0xFEE0'0000, 0xFEEF'FFFF}};
    return (ap | passthru::subtract(msi)) ==
           interval_list{{0, 0xFEDF'FFFF}, {0xFEF0'0000, 0xFFFF'FFFF'FFFF}};
}
} // namespace

static_assert(n_usable_is_constexpr());

TEST_CASE("SEMANTICS §N: aperture 0 to 2^48-1 minus MSI 0xFEE00000 to 0xFEEFFFFF leaves 0 to 0xFEDFFFFF and 0xFEF00000 to 0xFFFFFFFFFFFF") {
    CHECK(passthru::subtract(interval_list{aperture}, passthru::excluded_iova(n_regions)) ==
          n_usable);
    CHECK((interval_list{aperture} | passthru::subtract(passthru::excluded_iova(n_regions))) ==
          n_usable);
}

TEST_CASE("SEMANTICS A.1 step 3: node a..b minus region s..e leaves a..s-1 and e+1..b, each only if non-empty") {
    SECTION("region inside the node: both halves") {
        CHECK(passthru::subtract(interval_list{{0x1000, 0x9FFF}}, interval_list{{0x4000, 0x4FFF}}) ==
              interval_list{{0x1000, 0x3FFF}, {0x5000, 0x9FFF}});
    }
    SECTION("region at the node's start (s == a): only the upper half") {
        CHECK(passthru::subtract(interval_list{{0x1000, 0x9FFF}}, interval_list{{0x1000, 0x4FFF}}) ==
              interval_list{{0x5000, 0x9FFF}});
    }
    SECTION("region at the node's end (e == b): only the lower half") {
        CHECK(passthru::subtract(interval_list{{0x1000, 0x9FFF}}, interval_list{{0x4000, 0x9FFF}}) ==
              interval_list{{0x1000, 0x3FFF}});
    }
    SECTION("region over the node: nothing; A.1 step 4 then refuses the attach") {
        CHECK(passthru::subtract(interval_list{{0x1000, 0x9FFF}}, interval_list{{0, 0xFFFF}}).empty());
    }
}

TEST_CASE("SEMANTICS A.1 step 3: DIRECT_RELAXABLE regions are not excluded (§N vector 19)") {
    // Usable list of §N (which has a dma at 0x10000..0x13FFF, vector 14) plus a second
    // group's [0x10000, 0x10FFF] region: RESERVED cuts a hole (vector 18 then refuses the
    // attach because a dma sits there), DIRECT_RELAXABLE does not.
    const reserved_region_list relaxable{
        {{0x1'0000, 0x1'0FFF}, resv_type::direct_relaxable, prot::none}};
    CHECK(passthru::subtract(n_usable, passthru::excluded_iova(relaxable)) == n_usable);

    const reserved_region_list reserved{{{0x1'0000, 0x1'0FFF}, resv_type::reserved, prot::none}};
    CHECK(passthru::subtract(n_usable, passthru::excluded_iova(reserved)) ==
          interval_list{{0, 0xFFFF}, {0x1'1000, 0xFEDF'FFFF}, {0xFEF0'0000, 0xFFFF'FFFF'FFFF}});
}

TEST_CASE("SEMANTICS B11: a map must lie inside one usable node (§N vectors 1, 7, 8, 9, 10)") {
    CHECK(map_fits(n_usable, 0x1000, 0x1000));                 // vector 1
    CHECK_FALSE(map_fits(n_usable, 0xFEE0'0000, 0x1000));      // vector 7: inside the hole
    CHECK_FALSE(map_fits(n_usable, 0xFEDF'F000, 0x2000));      // vector 8: spans the hole edge
    CHECK_FALSE(map_fits(n_usable, 0x1'0000'0000'0000, 0x1000)); // vector 9: past the aperture
    CHECK_FALSE(map_fits(n_usable, 0xFFFF'FFFF'FFFF'F000, 0x2000)); // vector 10: wraps
    // The last page before the hole, the first after it and the last of the aperture fit.
    CHECK(map_fits(n_usable, 0xFEDF'F000, 0x1000));
    CHECK(map_fits(n_usable, 0xFEF0'0000, 0x1000));
    CHECK(map_fits(n_usable, 0xFFFF'FFFF'F000, 0x1000));
    CHECK_FALSE(map_fits(n_usable, 0xFFFF'FFFF'F000, 0x2000));
    // A range covering both nodes is not inside one.
    CHECK_FALSE(map_fits(n_usable, 0, 0x1'0000'0000'0000));
}
