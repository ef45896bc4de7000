// type1::dma_store (SEMANTICS 2, item 5): a seeded differential run against std::map of
// every query the engine makes, with inserts, erases and unmap-style walks mixed in and the
// tree's shape checked as it goes; its fences, splits, merges and borrows at their edges;
// and the same store built in constant evaluation.
// The kernel's tree (kernel_dma_tree, SEMANTICS P5) runs the same differential: while no
// record ends at 2^64-1 it must answer as an ordered map too.
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/type1/dma_store.hpp>
#include <passthru/type1/kernel_dma_tree.hpp>

using namespace passthru;
using passthru::type1::dma_store;
using passthru::type1::kernel_dma_tree;

namespace {

struct rec {
    passthru::iova iova{};
    std::uint64_t size = 0;
    std::uint64_t tag = 0; // stands for the rest of a mapping: it must travel with the record
    constexpr bool operator==(const rec&) const = default;
};
static_assert(type1::StoreRecord<rec>);
static_assert(std::forward_iterator<dma_store<rec>::iterator>);
static_assert(std::forward_iterator<dma_store<rec>::const_iterator>);
static_assert(std::forward_iterator<kernel_dma_tree<rec>::iterator>);
static_assert(std::forward_iterator<kernel_dma_tree<rec>::const_iterator>);

using model = std::map<std::uint64_t, rec>;

// The model's answer to each query, by brute force over its ordered records.
model::const_iterator model_at_or_after(const model& m, std::uint64_t x) {
    auto it = m.upper_bound(x);
    if (it != m.begin()) {
        auto prev = std::prev(it);
        if (x <= prev->second.iova.value + prev->second.size - 1) return prev;
    }
    return it;
}

template <class Store>
void check_same(const Store& s, const model& m) {
    REQUIRE(s.size() == m.size());
    auto it = s.begin();
    for (const auto& [key, r] : m) {
        REQUIRE(it != s.end());
        REQUIRE(*it == r);
        ++it;
    }
    REQUIRE(it == s.end());
}

template <class Store>
void check_queries(Store& s, const model& m, std::uint64_t x) {
    const auto want = model_at_or_after(m, x);
    const auto got = s.first_ending_at_or_after(iova{x});
    REQUIRE((got == s.end()) == (want == m.end()));
    if (want != m.end()) REQUIRE(*got == want->second);
    const bool holds = want != m.end() && want->second.iova.value <= x;
    const auto c = s.containing(iova{x});
    REQUIRE((c != s.end()) == holds);
    if (holds) REQUIRE(*c == want->second);
    const auto f = s.find(iova{x});
    REQUIRE((f != s.end()) == (m.count(x) == 1));
    const std::uint64_t last = x + (x % 7) * 4096;
    const auto o = s.first_overlapping({x, last});
    const bool overl = want != m.end() && want->second.iova.value <= last;
    REQUIRE((o != s.end()) == overl);
    // vfio_find_dma stops at the first overlapping node on its path, not the lowest one.
    if (overl && std::is_same_v<Store, kernel_dma_tree<rec>>)
        REQUIRE((o->iova.value <= last && x <= o->iova.value + o->size - 1));
    else if (overl)
        REQUIRE(*o == want->second);
}

// A run of `steps` random operations over a space of `pages` 4K pages.
template <class Store>
void differential(std::uint64_t seed, int steps, std::uint64_t pages) {
    std::mt19937_64 rng(seed);
    Store s;
    model m;
    for (int step = 0; step < steps; ++step) {
        const std::uint64_t x = (rng() % pages) * 4096 + (rng() % 3 == 0 ? rng() % 4096 : 0);
        const unsigned op = static_cast<unsigned>(rng() % 10);
        if (op < 5) { // insert where free
            const std::uint64_t start = x & ~std::uint64_t{4095};
            const std::uint64_t size = (1 + rng() % 8) * 4096;
            auto over = model_at_or_after(m, start);
            if (over != m.end() && over->second.iova.value <= start + size - 1) continue;
            const rec r{iova{start}, size, rng()};
            const auto it = s.insert(r);
            REQUIRE(*it == r);
            m.emplace(start, r);
        } else if (op < 7) { // erase the record holding or following x
            auto it = s.first_ending_at_or_after(iova{x});
            auto want = model_at_or_after(m, x);
            if (want == m.end()) continue;
            const auto next = s.erase(it);
            want = m.erase(want);
            REQUIRE((next == s.end()) == (want == m.end()));
            if (want != m.end()) REQUIRE(*next == want->second);
        } else if (op < 8) { // an unmap walk: erase every record that starts in [x, x + 64 pages)
            const std::uint64_t last = x + 64 * 4096 - 1;
            for (auto it = s.first_ending_at_or_after(iova{x}); it != s.end() && it->iova.value <= last;) {
                if (it->iova.value < x) {
                    ++it;
                    continue;
                }
                REQUIRE(m.erase(it->iova.value) == 1);
                it = s.erase(it);
            }
        } else {
            check_queries(s, m, x);
        }
        if (step % 997 == 0) {
            check_same(s, m);
            if constexpr (requires { s.invariants_hold(); }) REQUIRE(s.invariants_hold());
        }
    }
    check_same(s, m);
    if constexpr (requires { s.invariants_hold(); }) REQUIRE(s.invariants_hold());
    // Drain in order from the front, checking as it goes.
    while (!s.empty()) {
        REQUIRE(*s.begin() == m.begin()->second);
        s.erase(s.begin());
        m.erase(m.begin());
        if constexpr (requires { s.invariants_hold(); })
            if (m.size() % 101 == 0) REQUIRE(s.invariants_hold());
    }
    REQUIRE(m.empty());
}

// Build 600 records (enough for inner nodes to split), erase every other one and check what
// is left: all at compile time.
template <class Store>
constexpr bool built_in_constant_evaluation() {
    Store s;
    for (std::uint64_t i = 0; i < 600; ++i) s.insert({iova{(599 - i) * 0x2000}, 0x1000, i});
    for (auto it = s.begin(); it != s.end();) {
        it = s.erase(it);
        if (it != s.end()) ++it;
    }
    if (s.size() != 300) return false;
    std::uint64_t want = 0x2000;
    for (const rec& r : s) {
        if (r.iova.value != want) return false;
        want += 0x4000;
    }
    return s.containing(iova{0x2fff}) != s.end() && s.containing(iova{0x3000}) == s.end() &&
           s.first_ending_at_or_after(iova{0x3000})->iova.value == 0x6000;
}
static_assert(built_in_constant_evaluation<dma_store<rec>>());
static_assert(built_in_constant_evaluation<kernel_dma_tree<rec>>());

} // namespace

TEST_CASE("SEMANTICS 2: the mapping store answers every query as an ordered map does", "[type1][store]") {
    // Dense (many splits and merges in few chunks) and sparse spaces, three seeds each.
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        differential<dma_store<rec>>(seed, 20000, 4096);
        differential<dma_store<rec>>(seed + 100, 20000, 1u << 20);
    }
}

TEST_CASE("SEMANTICS P5 the kernel's mapping tree answers as an ordered map while no record ends at 2^64-1",
          "[type1][store]") {
    for (std::uint64_t seed : {4u, 5u}) {
        differential<kernel_dma_tree<rec>>(seed, 20000, 4096);
        differential<kernel_dma_tree<rec>>(seed + 100, 20000, 1u << 20);
    }
}

TEST_CASE("SEMANTICS 2: the mapping store keeps records whole and in order across splits and merges",
          "[type1][store]") {
    dma_store<rec> s;
    // Ascending and descending fills cross every split point of a chunk.
    for (std::uint64_t i = 0; i < 1000; ++i) s.insert({iova{i * 0x10000}, 0x10000, i});
    for (std::uint64_t i = 0; i < 1000; ++i) s.insert({iova{0x1000'0000'0000 - (i + 1) * 0x1000}, 0x1000, i});
    REQUIRE(s.size() == 2000);
    std::uint64_t prev = 0;
    bool first = true;
    for (const rec& r : s) {
        REQUIRE((first || r.iova.value > prev));
        first = false;
        prev = r.iova.value;
    }
    // A record that ends at the top of the address space.
    s.insert({iova{~std::uint64_t{0} - 0xfff}, 0x1000, 7});
    REQUIRE(s.containing(iova{~std::uint64_t{0}})->tag == 7);
    REQUIRE(s.first_ending_at_or_after(iova{~std::uint64_t{0}})->tag == 7);
    // Records below an IOVA are not reported as at or after it.
    REQUIRE(s.containing(iova{1000 * 0x10000}) == s.end());
    REQUIRE(s.first_ending_at_or_after(iova{1000 * 0x10000})->iova.value == 0x1000'0000'0000 - 1000 * 0x1000);
    // A record of one byte at 2^64-1 itself: the inner nodes' pad separators compare equal
    // to it, and neither the insert's walk nor a lookup's may count them as children.
    {
        dma_store<rec> top;
        for (std::uint64_t i = 0; i < 1000; ++i) top.insert({iova{i * 0x10000}, 0x10000, i});
        top.insert({iova{~std::uint64_t{0}}, 1, 9});
        REQUIRE(top.invariants_hold());
        REQUIRE(top.find(iova{~std::uint64_t{0}})->tag == 9);
        REQUIRE(top.containing(iova{~std::uint64_t{0}})->tag == 9);
        REQUIRE(top.erase(top.find(iova{~std::uint64_t{0}})) == top.end());
        REQUIRE(top.size() == 1000);
    }
    // Erase everything from the middle out; what remains stays ordered and findable.
    for (std::uint64_t i = 0; i < 1000; i += 2) REQUIRE(s.erase(s.find(iova{i * 0x10000})) != s.end());
    REQUIRE(s.size() == 1501);
    for (std::uint64_t i = 1; i < 1000; i += 2) REQUIRE(s.find(iova{i * 0x10000})->tag == i);
    s.clear();
    REQUIRE(s.empty());
    REQUIRE(s.begin() == s.end());
    REQUIRE(s.first_ending_at_or_after(iova{0}) == s.end());
}

TEST_CASE("SEMANTICS 2: a record that fills the gap left at a leaf's first key is found along its whole range",
          "[type1][store]") {
    // Ascending records with gaps between them; then, for each record in turn, erase it and
    // fill the whole gap from the end of the one before to the start of the one after. Where
    // the erased record opened a leaf, the new one starts below that leaf's fence and ends
    // above it: the fence must move up, or the new record's upper part is not found.
    dma_store<rec> s;
    constexpr std::uint64_t n = 400, stride = 0x10000;
    for (std::uint64_t i = 0; i < n; ++i) s.insert({iova{i * stride + 0x8000}, 0x1000, i});
    for (std::uint64_t i = 1; i + 1 < n; ++i) {
        const std::uint64_t lo = (i - 1) * stride + 0x9000, hi = (i + 1) * stride + 0x8000; // the gap
        s.erase(s.find(iova{i * stride + 0x8000}));
        s.insert({iova{lo}, hi - lo, 1000 + i});
        for (std::uint64_t x : {lo, i * stride + 0x8000, hi - 1}) REQUIRE(s.containing(iova{x})->tag == 1000 + i);
        REQUIRE(s.first_ending_at_or_after(iova{lo - 1})->tag == i - 1); // the record before the gap
        REQUIRE(s.invariants_hold());
        // Put the original back so the next gap is the same shape.
        s.erase(s.find(iova{lo}));
        s.insert({iova{i * stride + 0x8000}, 0x1000, i});
    }
    REQUIRE(s.size() == n);
}

TEST_CASE("SEMANTICS 2: the mapping store stays ordered and balanced when emptied from either end or the middle",
          "[type1][store]") {
    // Erasing always the last record makes the last leaf borrow from, then merge into, its
    // left sibling; always the first, the first leaf its right sibling; from the middle out,
    // both; each down to an empty store, the root collapsing on the way.
    for (int pattern = 0; pattern < 3; ++pattern) {
        dma_store<rec> s;
        model m;
        for (std::uint64_t i = 0; i < 3000; ++i) {
            const rec r{iova{(i * 7919 % 3000) * 0x2000}, 0x1000, i}; // a scattered fill
            s.insert(r);
            m.emplace(r.iova.value, r);
        }
        REQUIRE(s.invariants_hold());
        while (!m.empty()) {
            auto want = pattern == 0 ? std::prev(m.end()) : pattern == 1 ? m.begin() : std::next(m.begin(), static_cast<std::ptrdiff_t>(m.size() / 2));
            const auto next = s.erase(s.find(want->second.iova));
            want = m.erase(want);
            REQUIRE((next == s.end()) == (want == m.end()));
            if (want != m.end()) REQUIRE(*next == want->second);
            if (m.size() % 37 == 0) {
                REQUIRE(s.invariants_hold());
                check_same(s, m);
            }
        }
        REQUIRE(s.empty());
        REQUIRE(s.begin() == s.end());
        REQUIRE(s.invariants_hold());
    }
}

namespace {
// A record holding a resource, as a dma holds its dirty bitmap.
struct holding {
    passthru::iova iova{};
    std::uint64_t size = 0;
    std::shared_ptr<int> held{};
};
template <class Store>
void erase_releases() {
    Store s;
    const auto res = std::make_shared<int>(1);
    s.insert({iova{0x1000}, 0x1000, res});
    s.insert({iova{0x4000}, 0x1000, res});
    REQUIRE(res.use_count() == 3);
    s.erase(s.find(iova{0x1000}));
    CHECK(res.use_count() == 2); // not kept in the freed slot until it is reused
    s.insert({iova{0x8000}, 0x1000, {}});
    CHECK(res.use_count() == 2);
    s.clear();
    CHECK(res.use_count() == 1);
}
} // namespace

TEST_CASE("SEMANTICS 2: an erased mapping releases what its record holds at once", "[type1][store]") {
    erase_releases<dma_store<holding>>();
    erase_releases<kernel_dma_tree<holding>>();
}
