#pragma once
// Interval-set arithmetic over closed intervals: the arithmetic behind the usable-IOVA
// list (SEMANTICS §A.1: aperture minus every non-relaxable reserved region).
//
// A set is a sorted vector of disjoint, non-adjacent closed intervals. Everything is
// constexpr (transient std::vector), so a static partitioning hypervisor can compute its
// IOVA layout in a static_assert. The algorithms are also pipeable range-v3 style:
//     aperture_list | passthru::subtract(reserved) | passthru::clip_to(window)
#include <algorithm>
#include <vector>

#include <range/v3/functional/pipeable.hpp>
#include <range/v3/range/access.hpp>
#include <range/v3/range/concepts.hpp>

#include <passthru/core/interval.hpp>

namespace passthru {

using interval_list = std::vector<interval>;

template <class R>
concept IntervalRange = ranges::input_range<R> &&
    std::convertible_to<ranges::range_reference_t<R>, interval>;

// Sort and merge overlapping or adjacent intervals into canonical form.
template <IntervalRange R>
constexpr interval_list normalize(R&& in) {
    interval_list v;
    for (interval i : in) v.push_back(i);
    std::sort(v.begin(), v.end(), [](const interval& a, const interval& b) {
        return a.first < b.first;
    });
    interval_list out;
    for (const interval& i : v) {
        // Adjacent when the previous last+1 == i.first; last+1 cannot wrap here
        // unless the previous already reaches 2^64-1, in which case it overlaps.
        if (!out.empty() && (out.back().last == ~std::uint64_t{0} || i.first <= out.back().last + 1)) {
            out.back().last = std::max(out.back().last, i.last);
        } else {
            out.push_back(i);
        }
    }
    return out;
}

// `set` minus every interval of `regions`. `set` may be any range of intervals; the
// result is canonical. Splitting [a,b] around [s,e] yields [a,s-1] and [e+1,b]; both
// are computed only when they are non-empty, so nothing wraps at 0 or 2^64-1.
template <IntervalRange S, IntervalRange R>
constexpr interval_list subtract(S&& set, R&& regions) {
    interval_list cur = normalize(set);
    for (interval r : regions) {
        interval_list next;
        next.reserve(cur.size() + 1);
        for (const interval& n : cur) {
            if (!n.overlaps(r)) {
                next.push_back(n);
                continue;
            }
            if (r.first > n.first) next.push_back({n.first, r.first - 1});
            if (r.last < n.last) next.push_back({r.last + 1, n.last});
        }
        cur = std::move(next);
    }
    return cur;
}

// `set` restricted to `window`.
template <IntervalRange S>
constexpr interval_list clip(S&& set, const interval& window) {
    interval_list out;
    for (const interval& n : normalize(set))
        if (auto i = intersect(n, window)) out.push_back(*i);
    return out;
}

// Intersection of two sets.
template <IntervalRange A, IntervalRange B>
constexpr interval_list intersect(A&& a, B&& b) {
    interval_list out;
    const interval_list nb = normalize(b);
    for (const interval& x : normalize(a))
        for (const interval& y : nb)
            if (auto i = intersect(x, y)) out.push_back(*i);
    return out;
}

// Pipeable forms: `set | subtract(regions)`, `set | clip_to(window)`,
// `set | intersect_with(other)`. The argument is captured by value.
template <IntervalRange R>
constexpr auto subtract(R&& regions) {
    return ranges::make_pipeable(
        [r = interval_list(ranges::begin(regions), ranges::end(regions))](auto&& set) {
            return subtract(set, r);
        });
}

constexpr auto clip_to(interval window) {
    return ranges::make_pipeable([window](auto&& set) { return clip(set, window); });
}

template <IntervalRange R>
constexpr auto intersect_with(R&& other) {
    return ranges::make_pipeable(
        [o = interval_list(ranges::begin(other), ranges::end(other))](auto&& set) {
            return intersect(set, o);
        });
}

// True when `i` lies entirely inside one interval of the canonical set `set`
// (the type1 map check, SEMANTICS B11).
constexpr bool contained_in_one(const interval_list& set, const interval& i) noexcept {
    return std::any_of(set.begin(), set.end(), [&](const interval& n) { return n.contains(i); });
}

} // namespace passthru
