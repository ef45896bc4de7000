// SEMANTICS G.2 (iommu_insert_resv_region) and G.3 (group reserved regions = the G.2
// union over the group's devices).
#include <catch2/catch.hpp>

#include <vector>

#include <passthru/core/reserved_region.hpp>

#include "../../unit/core/printers.hpp"

using passthru::prot;
using passthru::reserved_region;
using passthru::reserved_region_list;
using passthru::resv_type;

namespace {
reserved_region_list insert_all(const std::vector<reserved_region>& in) {
    reserved_region_list l;
    for (const reserved_region& r : in) passthru::insert_resv_region(l, r);
    return l;
}
} // namespace

TEST_CASE("SEMANTICS G.2: overlapping regions of the same type are merged") {
    CHECK(insert_all({{{0x1000, 0x2FFF}, resv_type::reserved, prot::none},
                      {{0x2000, 0x3FFF}, resv_type::reserved, prot::none}}) ==
          reserved_region_list{{{0x1000, 0x3FFF}, resv_type::reserved, prot::none}});
    // Identical regions of one type collapse to one.
    CHECK(insert_all({{{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none},
                      {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}}) ==
          reserved_region_list{{{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}});
}

TEST_CASE("SEMANTICS G.2: adjacent regions of the same type (next.start <= prev.end + 1) are merged") {
    CHECK(insert_all({{{0x1000, 0x1FFF}, resv_type::direct, prot::read},
                      {{0x2000, 0x2FFF}, resv_type::direct, prot::read}}) ==
          reserved_region_list{{{0x1000, 0x2FFF}, resv_type::direct, prot::read}});
    // A one-byte gap keeps them apart.
    CHECK(insert_all({{{0x1000, 0x1FFF}, resv_type::direct, prot::read},
                      {{0x2001, 0x2FFF}, resv_type::direct, prot::read}}) ==
          reserved_region_list{{{0x1000, 0x1FFF}, resv_type::direct, prot::read},
                               {{0x2001, 0x2FFF}, resv_type::direct, prot::read}});
}

TEST_CASE("SEMANTICS G.2: regions of different types are never merged, even if identical") {
    CHECK(insert_all({{{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none},
                      {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::reserved, prot::none}}) ==
          reserved_region_list{{{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::reserved, prot::none},
                               {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}});
    // An overlapping region of another type stays apart, while the two DIRECT regions
    // on either side of its start still merge with each other (adjacent).
    CHECK(insert_all({{{0x1000, 0x2FFF}, resv_type::direct, prot::none},
                      {{0x2000, 0x3FFF}, resv_type::direct_relaxable, prot::none},
                      {{0x3000, 0x3FFF}, resv_type::direct, prot::none}}) ==
          reserved_region_list{{{0x1000, 0x3FFF}, resv_type::direct, prot::none},
                               {{0x2000, 0x3FFF}, resv_type::direct_relaxable, prot::none}});
}

TEST_CASE("SEMANTICS G.2: the list is sorted by (start, type) whatever the insertion order") {
    CHECK(insert_all({{{0x5000, 0x5FFF}, resv_type::sw_msi, prot::none},
                      {{0x1000, 0x1FFF}, resv_type::reserved, prot::none},
                      {{0x1000, 0x1FFF}, resv_type::direct, prot::none},
                      {{0, 0xFFF}, resv_type::msi, prot::none},
                      {{0x1000, 0x1FFF}, resv_type::direct_relaxable, prot::none}}) ==
          reserved_region_list{{{0, 0xFFF}, resv_type::msi, prot::none},
                               {{0x1000, 0x1FFF}, resv_type::direct, prot::none},
                               {{0x1000, 0x1FFF}, resv_type::direct_relaxable, prot::none},
                               {{0x1000, 0x1FFF}, resv_type::reserved, prot::none},
                               {{0x5000, 0x5FFF}, resv_type::sw_msi, prot::none}});
}

TEST_CASE("SEMANTICS G.3: a group's regions are the G.2 union over its devices") {
    // Two VT-d devices (SEMANTICS §I): each reports the MSI window and its RMRR; the
    // second sits behind an ISA bridge, so it also reports [0, 16 MiB) relaxable.
    const std::vector<reserved_region> dev_a{
        {{0xE'0000, 0xF'FFFF}, resv_type::direct, prot::read | prot::write},
        {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}};
    const std::vector<reserved_region> dev_b{
        {{0, 0xFF'FFFF}, resv_type::direct_relaxable, prot::read | prot::write},
        {{0x10'0000, 0x1F'FFFF}, resv_type::direct, prot::read | prot::write},
        {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}};

    reserved_region_list group;
    for (const auto& dev : {dev_a, dev_b})
        for (const reserved_region& r : dev) passthru::insert_resv_region(group, r);

    CHECK(group == reserved_region_list{
                       {{0, 0xFF'FFFF}, resv_type::direct_relaxable, prot::read | prot::write},
                       {{0xE'0000, 0x1F'FFFF}, resv_type::direct, prot::read | prot::write},
                       {{0xFEE0'0000, 0xFEEF'FFFF}, resv_type::msi, prot::none}});
}
