// Fuzz target: the reserved-region list merge (SEMANTICS G.2, G.3) against a brute-force
// model over 64 cells at the bottom or the top of the address space: after any sequence of
// insertions the list is sorted by (start, type), regions of one type neither overlap nor
// touch, each type covers exactly the cells inserted with it, and every region keeps the
// prot of a region it was merged from.
#include <array>
#include <bitset>
#include <cstdint>
#include <vector>

#include <passthru/core/reserved_region.hpp>

#include "fuzz_input.hpp"

using namespace passthru;
using passthru::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const std::uint64_t base = in.byte() % 2 ? ~std::uint64_t{0} - 63 : 0;
    std::array<std::bitset<64>, 5> want{}; // per resv_type
    std::vector<reserved_region> inserted;
    reserved_region_list list;
    for (unsigned n = in.byte() % 12; n > 0; --n) {
        unsigned a = in.byte() % 64, b = in.byte() % 64;
        if (a > b) std::swap(a, b);
        const auto type = static_cast<resv_type>(in.byte() % 5);
        const auto perm = static_cast<prot>(in.byte() & 0x3F);
        const reserved_region r{{base + a, base + b}, type, perm};
        insert_resv_region(list, r);
        inserted.push_back(r);
        for (unsigned k = a; k <= b; ++k) want[static_cast<unsigned>(type)].set(k);
    }
    std::array<std::bitset<64>, 5> got{};
    for (std::size_t i = 0; i < list.size(); ++i) {
        const reserved_region& r = list[i];
        check(r.range.first <= r.range.last && r.range.first >= base, "a region leaves the universe");
        if (i > 0) {
            const reserved_region& p = list[i - 1];
            check(p.range.first < r.range.first || (p.range.first == r.range.first && p.type < r.type),
                  "the list is not sorted by (start, type)");
        }
        for (std::size_t j = 0; j < i; ++j)
            if (list[j].type == r.type)
                check(list[j].range.last != ~std::uint64_t{0} && list[j].range.last + 1 < r.range.first,
                      "two regions of one type overlap or touch");
        bool prot_from_input = false;
        for (const reserved_region& x : inserted)
            prot_from_input |= x.type == r.type && x.perm == r.perm && r.range.contains(x.range);
        check(prot_from_input, "a merged region's prot comes from no region it covers");
        for (std::uint64_t c = r.range.first - base;; ++c) {
            got[static_cast<unsigned>(r.type)].set(c);
            if (c == r.range.last - base) break;
        }
    }
    check(got == want, "the regions of a type cover other cells than were inserted");
    return 0;
}
