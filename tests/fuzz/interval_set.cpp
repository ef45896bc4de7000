// Fuzz target: interval-set arithmetic (SEMANTICS §A.1) against a brute-force bitset over a
// universe of 64 cells, placed at the bottom of the address space or at its very top, so
// every operation is also checked where last + 1 would wrap past 2^64-1. Every result must
// be canonical (sorted, disjoint, not adjacent) and hold exactly the right cells.
#include <bitset>
#include <cstdint>
#include <vector>

#include <passthru/core/interval_set.hpp>

#include "fuzz_input.hpp"

using namespace passthru;
using passthru::fuzz::check;

namespace {

using cells = std::bitset<64>;

struct universe {
    std::uint64_t base; // address of cell 0; cells are one byte each
    interval at(unsigned first, unsigned last) const { return {base + first, base + last}; }
};

cells cells_of(const universe& u, const interval_list& list) {
    cells c;
    for (const interval& i : list) {
        check(i.first <= i.last, "a reversed interval in a result");
        for (std::uint64_t a = i.first;; ++a) {
            check(a >= u.base && a - u.base < 64, "a result leaves the universe");
            c.set(a - u.base);
            if (a == i.last) break;
        }
    }
    return c;
}

void check_canonical(const interval_list& list) {
    for (std::size_t k = 1; k < list.size(); ++k) {
        check(list[k - 1].last < list[k].first, "a result is unsorted or overlapping");
        check(list[k - 1].last + 1 < list[k].first, "a result has adjacent intervals");
    }
}

interval_list read_list(fuzz::input& in, const universe& u, cells& c) {
    interval_list out;
    for (unsigned n = in.byte() % 6; n > 0; --n) {
        unsigned a = in.byte() % 64, b = in.byte() % 64;
        if (a > b) std::swap(a, b);
        out.push_back(u.at(a, b));
        for (unsigned k = a; k <= b; ++k) c.set(k);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const universe u{in.byte() % 2 ? ~std::uint64_t{0} - 63 : 0};
    cells a, b;
    const interval_list la = read_list(in, u, a), lb = read_list(in, u, b);
    unsigned w0 = in.byte() % 64, w1 = in.byte() % 64;
    if (w0 > w1) std::swap(w0, w1);
    cells window;
    for (unsigned k = w0; k <= w1; ++k) window.set(k);

    const interval_list n = normalize(la);
    check_canonical(n);
    check(cells_of(u, n) == a, "normalize");
    const interval_list s = subtract(la, lb);
    check_canonical(s);
    check(cells_of(u, s) == (a & ~b), "subtract");
    check(cells_of(u, la | passthru::subtract(lb)) == (a & ~b), "pipeable subtract");
    const interval_list c = clip(la, u.at(w0, w1));
    check_canonical(c);
    check(cells_of(u, c) == (a & window), "clip");
    const interval_list x = intersect(la, lb);
    check_canonical(normalize(x));
    check(cells_of(u, x) == (a & b), "intersect");
    // B11: inside one interval of the canonical set iff every cell of the window is set
    // (set cells that touch are one interval once normalized).
    check(contained_in_one(n, u.at(w0, w1)) == ((a & window) == window), "contained_in_one");
    return 0;
}
