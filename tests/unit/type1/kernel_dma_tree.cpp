// type1::kernel_dma_tree (SEMANTICS P5): the shapes lib/rbtree.c gives (worked through its
// insert and erase cases by hand), the red-black invariants under random inserts and
// erases, and the pre-v6.18 lookups once a record ends at 2^64-1. What those lookups do to
// a container is checked against the booted kernels by the transcript replay.
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/type1/kernel_dma_tree.hpp>

using namespace passthru;
using passthru::type1::kernel_dma_tree;

namespace {

struct rec {
    passthru::iova iova{};
    std::uint64_t size = 0;
    std::uint64_t tag = 0;
    constexpr bool operator==(const rec&) const = default;
};
using tree = kernel_dma_tree<rec>;
using entry = tree::shape_entry;
constexpr std::uint64_t no = ~std::uint64_t{0};
constexpr std::uint64_t top = 0xFFFF'FFFF'FFFF'F000; // the last page

rec page(std::uint64_t k, std::uint64_t tag = 0) { return {iova{k * 0x1000}, 0x1000, tag}; }

// Black height of the subtree at `key` (0 for an empty one), or -1 where a rule breaks:
// a red node with a red child, unequal black heights, children out of order.
int black_height(const std::map<std::uint64_t, entry>& by_key, std::uint64_t key, bool parent_red) {
    if (key == no) return 0;
    const entry& e = by_key.at(key);
    if (parent_red && e.red) return -1;
    if ((e.left != no && e.left >= key) || (e.right != no && e.right <= key)) return -1;
    const int l = black_height(by_key, e.left, e.red), r = black_height(by_key, e.right, e.red);
    if (l < 0 || r < 0 || l != r) return -1;
    return l + (e.red ? 0 : 1);
}
bool is_red_black(const tree& t) {
    const auto shape = t.shape();
    if (shape.empty()) return true;
    std::map<std::uint64_t, entry> by_key;
    for (const entry& e : shape) by_key.emplace(e.iova, e);
    return !shape.front().red && black_height(by_key, shape.front().iova, false) > 0;
}

} // namespace

TEST_CASE("SEMANTICS P5 the kernel's mapping tree is shaped as lib/rbtree.c shapes it", "[type1][store]") {
    tree t;
    for (std::uint64_t k = 1; k <= 7; ++k) t.insert(page(k));
    // Ascending inserts: rotations at 3, 5 and 7, recolouring at 4 and 6.
    CHECK(t.shape() == std::vector<entry>{{0x2000, 0x1000, 0x4000, false}, {0x1000, no, no, false},
                                          {0x4000, 0x3000, 0x6000, true},  {0x3000, no, no, false},
                                          {0x6000, 0x5000, 0x7000, false}, {0x5000, no, no, true},
                                          {0x7000, no, no, true}});
    // Erasing the root: its successor 3 takes its place and colour, and the black leaf it
    // leaves is made up by rotating 6 over 4 (erase case 4).
    const auto after = t.erase(t.containing(iova{0x2000}));
    CHECK(after->iova.value == 0x3000);
    CHECK(t.shape() == std::vector<entry>{{0x3000, 0x1000, 0x6000, false}, {0x1000, no, no, false},
                                          {0x6000, 0x4000, 0x7000, true},  {0x4000, no, 0x5000, false},
                                          {0x5000, no, no, true},          {0x7000, no, no, false}});
    CHECK(is_red_black(t));
}

TEST_CASE("SEMANTICS P5 the kernel's mapping tree stays red-black and ordered under random inserts and erases",
          "[type1][store]") {
    std::mt19937_64 rng(11);
    tree t;
    std::map<std::uint64_t, std::uint64_t> m; // page -> tag
    for (int step = 0; step < 20000; ++step) {
        const std::uint64_t k = rng() % 3000;
        if (rng() % 3) {
            if (m.count(k)) continue;
            t.insert(page(k, static_cast<std::uint64_t>(step)));
            m.emplace(k, static_cast<std::uint64_t>(step));
        } else {
            auto it = t.containing(iova{k * 0x1000});
            REQUIRE((it != t.end()) == (m.count(k) == 1));
            if (it == t.end()) continue;
            REQUIRE(it->tag == m.at(k));
            const auto next = t.erase(it);
            const auto want = m.erase(m.find(k));
            REQUIRE((next == t.end()) == (want == m.end()));
            if (want != m.end()) REQUIRE(next->iova.value == want->first * 0x1000);
        }
        if (step % 499 == 0) REQUIRE(is_red_black(t));
    }
    REQUIRE(is_red_black(t));
    REQUIRE(t.size() == m.size());
    auto it = t.begin();
    for (const auto& [k, tag] : m) REQUIRE((it++)->tag == tag);
}

TEST_CASE("SEMANTICS P5 a record ending at 2^64-1 is stepped past by every lookup",
          "[type1][store]") {
    // The AMD-Vi transcripts' E1, E3, E4: the last page, the last page again, then 0x10000.
    tree t;
    t.insert({iova{top}, 0x1000, 1});
    // Its end sums to 0, so vfio_find_dma and the first-node descent never stop at it.
    CHECK(t.containing(iova{top}) == t.end());
    CHECK(t.first_overlapping({top, ~std::uint64_t{0}}) == t.end());
    CHECK(t.first_ending_at_or_after(iova{top}) == t.end());
    CHECK(t.first_ending_at_or_after(iova{0}) == t.end());
    t.insert({iova{top}, 0x1000, 2});
    t.insert({iova{0x10000}, 0x4000, 3});
    // Linked by IOVA: the second copy left of the first (equal IOVAs go left), the low
    // mapping left of both, and the rotation made the second copy the root.
    CHECK(t.shape() == std::vector<entry>{{top, 0x10000, top, false}, {0x10000, no, no, true}, {top, no, no, true}});
    std::vector<std::uint64_t> order;
    for (const rec& r : t) order.push_back(r.tag);
    CHECK(order == std::vector<std::uint64_t>{3, 2, 1});
    // The low mapping is still found where the lookups go left (map's EEXIST test, C9's
    // bisect test), but the first-node descent goes right at the root and misses it: an
    // unmap, UNMAP_ALL included, starts from nothing.
    CHECK(t.containing(iova{0x11000})->tag == 3);
    CHECK(t.first_overlapping({0x10000, 0x13fff})->tag == 3);
    CHECK(t.first_ending_at_or_after(iova{0x10000}) == t.end());
    CHECK(t.first_ending_at_or_after(iova{0}) == t.end());
}

TEST_CASE("SEMANTICS P5 the unmap descent steps right at a record ending at 2^64-1 and misses those below it",
          "[type1][store]") {
    // The AMD-Vi transcripts' F1-F3: A at 0x10000, the last page T, B at 0x1000. Linked by
    // IOVA (size 0 at link), T goes right of A: the tree is ordered.
    tree t;
    t.insert({iova{0x10000}, 0x1000, 1});
    t.insert({iova{top}, 0x1000, 2});
    t.insert({iova{0x1000}, 0x1000, 3});
    CHECK(t.shape() == std::vector<entry>{{0x10000, 0x1000, top, false}, {0x1000, no, no, true}, {top, no, no, true}});
    CHECK(t.first_overlapping({0x10000, 0x10fff})->tag == 1); // F4: EEXIST
    // F5 takes A (its successor T replaces it at the root) ...
    const auto after = t.erase(t.first_ending_at_or_after(iova{0x10000}));
    CHECK(after->tag == 2);
    CHECK(t.shape() == std::vector<entry>{{top, 0x1000, no, false}, {0x1000, no, no, true}});
    // ... and from then on every descent turns right at T, past B: F6-F8 unmap nothing.
    CHECK(t.first_ending_at_or_after(iova{0}) == t.end());
    CHECK(t.first_ending_at_or_after(iova{0x1000}) == t.end());
    CHECK(t.containing(iova{0x1000})->tag == 3); // while vfio_find_dma still finds it
}
