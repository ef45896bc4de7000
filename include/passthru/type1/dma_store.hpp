#pragma once
// The container's DMA mappings (SEMANTICS 2, item 5): records that never overlap, each
// kept whole (never merged or split), in IOVA order. The engine asks four things of them,
// all on hot paths: the record containing an IOVA (map and dirty checks), the first record
// ending at or after an IOVA (every unmap walk and overlap test), ordered walks from there,
// and insert/erase one record at a time.
//
// Layout: a B+tree whose leaves hold the records themselves. At 65,535 records neither the
// records nor any tree over them fits a cache, so what an operation costs is how often it
// waits on memory. A lookup waits about once: the inner nodes (IOVAs and leaf numbers, a
// few hundred KB) mostly stay in cache, and a leaf is about eight lines requested together,
// so the record is on its way before the search inside the leaf begins (a tree that keeps
// its records apart from its keys waits twice, a node-based tree once per level). A leaf
// keeps its sorted first-IOVAs (a line or two) and its records in fixed slots: a word of
// 4-bit slot numbers gives them in IOVA order, the free slots after the used ones. An
// insert writes one record, the key line and that word; an erase the key line and that
// word. The price: a record moves when its leaf splits, merges or borrows, so no reference
// to a record survives a change to the store (iterators are positions, and go stale the
// same way).
//
// A separator is a fence in the IOVA space: every record under the children to its left
// ends below it, every record to its right starts at or above it. So the record holding an
// IOVA, and the first record ending at or after it, are in the one leaf a descent reaches
// (or, for the latter, at the start of the next), and erasing a leaf's first record moves no
// fence. Leaves link to the next for ordered walks. A node that falls below half full
// borrows from or merges with a sibling; a leaf split at the top of the space keeps the
// full leaf (ascending fills, a VMM laying out guest RAM, pack leaves full).
// Everything is constexpr: a static-partitioning hypervisor can build its whole DMA layout
// in constant evaluation.
#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <utility>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/type1/detail/leaf_keys.hpp>

namespace passthru::type1 {

// What the store needs of a record: its first IOVA and its size in bytes (size ≥ 1, and
// iova + size - 1 does not wrap). Declare the member as `passthru::iova iova{}`.
template <class R>
concept StoreRecord = std::semiregular<R> && requires(const R& r) {
    { r.iova } -> std::convertible_to<passthru::iova>;
    { r.size } -> std::convertible_to<std::uint64_t>;
};

template <StoreRecord R>
class dma_store {
    using id = std::uint32_t;
    static constexpr id none = ~id{0};
    static constexpr std::uint64_t pad = ~std::uint64_t{0}; // unused key slots: never below a real key

    // A leaf fills about eight lines; an inner node holds 32 children.
    static constexpr std::size_t leaf_cap = std::clamp<std::size_t>((512 - 16) / (sizeof(R) + 8), 4, 15);
    static constexpr std::size_t leaf_min = leaf_cap / 2;
    static constexpr std::size_t fanout = 32;
    static constexpr std::size_t inner_min = fanout / 2;
    static constexpr std::size_t max_height = 16; // ≥ 16 children per level: far beyond 2^32 leaves

    static constexpr std::size_t key_slots = (leaf_cap + 1) / 2 * 2; // whole pairs for leaf_keys.hpp
    static constexpr std::array<std::uint64_t, key_slots> pads() noexcept {
        std::array<std::uint64_t, key_slots> k{};
        k.fill(pad);
        return k;
    }
    // Slot numbers in order, 4 bits each: position q of `order` names the slot of the q-th
    // record by IOVA; positions n and on name the free slots.
    static constexpr std::uint64_t identity = [] {
        std::uint64_t o = 0;
        for (std::size_t q = 0; q < leaf_cap; ++q) o |= std::uint64_t{q} << (4 * q);
        return o;
    }();
    struct alignas(64) leaf {
        alignas(16) std::array<std::uint64_t, key_slots> key = pads(); // first IOVAs in order, then pad
        std::uint64_t order = identity;
        std::uint32_t n = 0;
        id next = none;
        std::array<R, leaf_cap> rec{};
    };
    struct alignas(64) inner {
        std::array<std::uint64_t, fanout - 1> sep{}; // sep[i - 1]: the fence below child[i]; then pad
        std::uint32_t n = 0;                       // children
        std::array<id, fanout> child{};
        constexpr inner() { sep.fill(pad); }
    };
    struct step {
        id node;
        std::uint32_t at; // which child the descent took
    };
    using path = std::array<step, max_height>;

    // The child of `nd` whose range holds x: the count of separators ≤ x. Pad counts only
    // for x = 2^64-1, so a walk that may carry that IOVA clamps each answer (Clamp); lookups
    // and inserts take that IOVA apart (locate, place) and walk without, which with the
    // lookups' leaf search below took a lookup from 178 instructions to 154 and an insert
    // from 389 to 375 (docs/benchmarks.md).
    // Two searches find the child. `halving` takes five branch-free steps over the padded
    // 31, each waiting on the load before it: the fewest loads and instructions.
    // `in_three` waits on three loads: the half, then the quarter of it (three separators
    // compared at once), then the child among the last three. Lookups (about 150
    // instructions each) overlap one another in the core, and there fewer loads win; an
    // insert (about 380) is too long for the next operation to start under it, and its
    // waits decide. In dma_store_65535: inserts through `in_three` 12% faster, lookups
    // through it slower. The steps are written out because g++ 12 compiled the loop forms
    // to slower code.
    static_assert(fanout == 32);
    enum class inner_search { halving, in_three };
    template <bool Clamp>
    static constexpr std::size_t child_by_halving(const inner& nd, std::uint64_t x) noexcept {
        std::size_t i = nd.sep[15] <= x ? 16 : 0;
        i += nd.sep[i + 7] <= x ? 8 : 0;
        i += nd.sep[i + 3] <= x ? 4 : 0;
        i += nd.sep[i + 1] <= x ? 2 : 0;
        i += nd.sep[i] <= x ? 1 : 0;
        if constexpr (Clamp) return std::min<std::size_t>(i, nd.n - 1);
        return i;
    }
    template <bool Clamp>
    static constexpr std::size_t child_in_three(const inner& nd, std::uint64_t x) noexcept {
        const auto le = [&](std::size_t at) { return std::size_t{nd.sep[at] <= x}; };
        std::size_t i = 16 * le(15);
        i += 4 * (le(i + 3) + le(i + 7) + le(i + 11));
        i += le(i) + le(i + 1) + le(i + 2);
        if constexpr (Clamp) return std::min<std::size_t>(i, nd.n - 1);
        return i;
    }
    static constexpr std::size_t slot(const leaf& lf, std::size_t q) noexcept { return (lf.order >> (4 * q)) & 15; }
    static constexpr R& at(leaf& lf, std::size_t q) noexcept { return lf.rec[slot(lf, q)]; }
    static constexpr const R& at(const leaf& lf, std::size_t q) noexcept { return lf.rec[slot(lf, q)]; }
    // The last record starting at or below x, or the first record when none does, for x
    // below 2^64-1 (pad never counts): the halving steps over all positions, written out
    // at compile time, branch-free. The lookups' search.
    template <std::size_t Len = leaf_cap>
    static constexpr std::size_t last_at_or_below(const leaf& lf, std::uint64_t x, std::size_t base = 0) noexcept {
        if constexpr (Len <= 1) {
            return base;
        } else {
            constexpr std::size_t half = Len / 2;
            base += lf.key[base + half] <= x ? half : 0;
            return last_at_or_below<Len - half>(lf, x, base);
        }
    }
    // How many records start at or below x: where a record starting at x goes. The same
    // steps as a loop, then the last key compared; pad counts for x = 2^64-1 (Clamp).
    // (Written out like the lookups' search, g++ 12 made the last steps here a branch on
    // the key, mispredicted half the time.)
    template <bool Clamp>
    static constexpr std::size_t count_at_or_below(const leaf& lf, std::uint64_t x) noexcept {
        std::size_t base = 0, len = leaf_cap;
        while (len > 1) {
            const std::size_t half = len / 2;
            base = lf.key[base + half] <= x ? base + half : base;
            len -= half;
        }
        base += lf.key[base] <= x ? 1 : 0;
        if constexpr (Clamp) return std::min<std::size_t>(base, lf.n);
        return base;
    }

    static constexpr std::uint64_t last_of(const R& r) noexcept { return r.iova.value + (r.size - 1); }

public:
    template <bool Const>
    class basic_iterator {
        using store = std::conditional_t<Const, const dma_store, dma_store>;
        store* s_ = nullptr;
        id l_ = none; // leaf, or none at the end
        std::uint32_t k_ = 0;
        friend class dma_store;
        constexpr basic_iterator(store* s, id l, std::size_t k) noexcept : s_(s), l_(l), k_(static_cast<std::uint32_t>(k)) {}

    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = R;
        using difference_type = std::ptrdiff_t;
        using pointer = std::conditional_t<Const, const R*, R*>;
        using reference = std::conditional_t<Const, const R&, R&>;

        constexpr basic_iterator() = default;
        constexpr operator basic_iterator<true>() const noexcept
            requires(!Const)
        {
            return {s_, l_, k_};
        }

        constexpr reference operator*() const noexcept { return at(s_->leaves_[l_], k_); }
        constexpr pointer operator->() const noexcept { return &**this; }
        constexpr basic_iterator& operator++() noexcept {
            const leaf& lf = s_->leaves_[l_];
            if (++k_ == lf.n) {
                l_ = lf.next;
                k_ = 0;
            }
            return *this;
        }
        constexpr basic_iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        constexpr bool operator==(const basic_iterator& o) const noexcept { return l_ == o.l_ && k_ == o.k_; }

        template <bool>
        friend class basic_iterator;
    };
    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    constexpr dma_store() = default;

    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }

    constexpr iterator begin() noexcept { return {this, empty() ? none : head_, 0}; }
    constexpr iterator end() noexcept { return {this, none, 0}; }
    constexpr const_iterator begin() const noexcept { return {this, empty() ? none : head_, 0}; }
    constexpr const_iterator end() const noexcept { return {this, none, 0}; }

    // The record whose range holds `a`, or end().
    constexpr iterator containing(passthru::iova a) noexcept {
        if (empty()) return end();
        const auto [l, k] = locate(a.value);
        const R& r = at(leaves_[l], k);
        return r.iova.value <= a.value && a.value <= last_of(r) ? iterator{this, l, k} : end();
    }
    constexpr const_iterator containing(passthru::iova a) const noexcept {
        return const_cast<dma_store*>(this)->containing(a);
    }
    // The first record whose last byte is at or after `a` (the start of every unmap walk).
    constexpr iterator first_ending_at_or_after(passthru::iova a) noexcept {
        if (empty()) return end();
        const auto [l, k] = locate(a.value);
        const leaf& lf = leaves_[l];
        const R& r = at(lf, k);
        if (r.iova.value > a.value) return {this, l, 0}; // below the leaf's records, above its fence
        if (a.value <= last_of(r)) return {this, l, k};
        return k + 1 < lf.n ? iterator{this, l, k + 1} : iterator{this, lf.next, 0};
    }
    constexpr const_iterator first_ending_at_or_after(passthru::iova a) const noexcept {
        return const_cast<dma_store*>(this)->first_ending_at_or_after(a);
    }
    // The lowest record that overlaps `r`, or end().
    constexpr iterator first_overlapping(const interval& r) noexcept {
        auto it = first_ending_at_or_after(passthru::iova{r.first});
        return it != end() && it->iova.value <= r.last ? it : end();
    }
    constexpr const_iterator first_overlapping(const interval& r) const noexcept {
        return const_cast<dma_store*>(this)->first_overlapping(r);
    }
    // The record starting exactly at `a`, or end().
    constexpr iterator find(passthru::iova a) noexcept {
        if (empty()) return end();
        const auto [l, k] = locate(a.value);
        if (leaves_[l].key[k] == a.value) [[likely]]
            return {this, l, k};
        return end();
    }
    constexpr const_iterator find(passthru::iova a) const noexcept { return const_cast<dma_store*>(this)->find(a); }

    // Insert a record that overlaps none in the store (the caller checked, as the kernel
    // does before it links a vfio_dma); returns where it went. Other iterators go stale.
    constexpr iterator insert(const R& r) {
        const std::uint64_t first = r.iova.value;
        if (root_ == none) {
            root_ = head_ = new_leaf();
            height_ = 0;
        }
        fence f;
        const auto [l, to] = first == pad ? place<true>(first, f) : place<false>(first, f);
        // The fence to the leaf's right must stay above the new record: moving it up to
        // last + 1 keeps it at or below every record to its right, since none overlaps.
        if (f.node != none) {
            std::uint64_t& above = inners_[f.node].sep[f.at];
            if (above <= last_of(r)) above = last_of(r) + 1;
        }
        ++size_;
        if (leaves_[l].n < leaf_cap) {
            put(leaves_[l], to, r);
            return {this, l, to};
        }
        // Full: split, then insert into the half that owns the position. The way down is
        // needed now (the same leaf: the fence moved only above the new record).
        path p; // written down to the leaf before it is read
        descend(first, &p);
        const id hi = new_leaf(); // may move the leaves
        leaf& lo = leaves_[l];
        leaf& up = leaves_[hi];
        const std::size_t keep = lo.next == none && to == leaf_cap ? leaf_cap : leaf_cap / 2;
        for (std::size_t q = keep; q < leaf_cap; ++q) push_back(up, take(lo, q));
        cut(lo, keep);
        up.next = lo.next;
        lo.next = hi;
        const bool upper = to > keep || keep == leaf_cap;
        if (upper) put(up, to - keep, r);
        else put(lo, to, r);
        add_child(p, height_, up.key[0], hi);
        return upper ? iterator{this, hi, to - keep} : iterator{this, l, to};
    }

    // Remove one record; returns the record after it. Other iterators go stale.
    constexpr iterator erase(const_iterator pos) {
        const id l = pos.l_;
        const std::size_t k = pos.k_;
        leaf& lf = leaves_[l];
        const std::uint64_t gone = lf.key[k];
        remove_at(lf, k);
        --size_;
        if (height_ == 0) { // the root is this leaf
            if (lf.n == 0) {
                clear();
                return end();
            }
            return k < lf.n ? iterator{this, l, k} : end();
        }
        if (lf.n >= leaf_min) return k < lf.n ? iterator{this, l, k} : iterator{this, lf.next, 0};
        // Short: merge with or borrow from a sibling, which may move the records that were
        // at k and after.
        path p; // written down to the leaf before it is read
        descend(gone, &p);
        const auto [into, shift] = rebalance_leaf(p);
        const leaf& now = leaves_[into];
        return k + shift < now.n ? iterator{this, into, k + shift} : iterator{this, now.next, 0};
    }

    constexpr void clear() noexcept {
        leaves_.clear();
        inners_.clear();
        free_leaves_.clear();
        free_inners_.clear();
        root_ = head_ = none;
        height_ = 0;
        size_ = 0;
    }

    // Equal when they hold equal records in the same order (the tree's shape is not state).
    friend constexpr bool operator==(const dma_store& a, const dma_store& b)
        requires std::equality_comparable<R>
    {
        return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
    }

    // The tree's shape is sound: every separator is a fence (the records to its left end
    // below it, those to its right start at or above it), keys ascend with pad after them,
    // inner nodes other than the root are at least half full, all leaves are at one depth
    // and linked in order from the leftmost, and the sizes add up. For tests: linear time.
    constexpr bool invariants_hold() const {
        if (root_ == none) return size_ == 0 && head_ == none && height_ == 0;
        id expect = head_; // the leaves in order, as the links give them
        std::size_t count = 0;
        struct span {
            std::uint64_t low, last; // lowest first IOVA, highest last IOVA
        };
        auto leaf_ok = [&](id l, span& sp) {
            const leaf& lf = leaves_[l];
            if (l != expect || lf.n == 0 || lf.n > leaf_cap || (lf.order & ~below(leaf_cap))) return false;
            unsigned seen = 0; // the order word names every slot once
            for (std::size_t q = 0; q < leaf_cap; ++q) seen |= 1u << slot(lf, q);
            if (seen != (1u << leaf_cap) - 1) return false;
            for (std::size_t q = 0; q < key_slots; ++q)
                if (lf.key[q] != (q < lf.n ? at(lf, q).iova.value : pad)) return false;
            for (std::size_t q = 1; q < lf.n; ++q)
                if (lf.key[q] <= last_of(at(lf, q - 1))) return false;
            sp = {lf.key[0], last_of(at(lf, lf.n - 1))};
            count += lf.n;
            expect = lf.next;
            return true;
        };
        auto walk = [&](auto& self, id n, std::size_t depth, span& sp) -> bool {
            if (depth == height_) return leaf_ok(n, sp);
            const inner& nd = inners_[n];
            if (nd.n > fanout || nd.n < (depth == 0 ? 2 : inner_min)) return false;
            for (std::size_t q = nd.n - 1; q + 1 < fanout; ++q)
                if (nd.sep[q] != pad) return false;
            for (std::size_t q = 0; q < nd.n; ++q) {
                span c{};
                if (!self(self, nd.child[q], depth + 1, c)) return false;
                if (q > 0 && (sp.last >= nd.sep[q - 1] || c.low < nd.sep[q - 1])) return false;
                sp = {q == 0 ? c.low : sp.low, c.last};
            }
            return true;
        };
        span whole{};
        return walk(walk, root_, 0, whole) && expect == none && count == size_;
    }

private:
    // The leaf whose range holds x and the last record there starting at or below x (its
    // first record when none does). The store is not empty.
    struct spot {
        id l;
        std::size_t k;
    };
    constexpr spot locate(std::uint64_t x) const noexcept {
        if (x == pad) [[unlikely]] { // every key is at or below it: the last leaf's last record
            const id l = descend(x);
            return {l, leaves_[l].n - std::size_t{1}};
        }
        const id l = descend<inner_search::halving, false>(x);
        return {l, last_at_or_below(leaves_[l], x)};
    }
    // The leaf whose range holds x (the leftmost for x below every key), recording the way
    // down in `p`, or the fence to the leaf's right in `f` (the separator after the child
    // taken in the deepest node where that was not the last), when asked; S picks the inner
    // search (above: the insert walks in three steps), Clamp = false only for x below
    // 2^64-1. The leaf's lines are requested together before it is searched.
    struct fence {
        id node = none;
        std::uint32_t at = 0;
    };
    template <inner_search S = inner_search::halving, bool Clamp = true>
    constexpr id descend(std::uint64_t x, path* p = nullptr, fence* f = nullptr) const noexcept {
        id n = root_;
        for (std::size_t d = 0; d < height_; ++d) {
            const inner& nd = inners_[n];
            if (!std::is_constant_evaluated()) fetch(nd);
            const std::size_t i = S == inner_search::halving ? child_by_halving<Clamp>(nd, x) : child_in_three<Clamp>(nd, x);
            if (p) (*p)[d] = {n, static_cast<std::uint32_t>(i)};
            if (f && i + 1 < nd.n) *f = {n, static_cast<std::uint32_t>(i)};
            n = nd.child[i];
        }
        if (!std::is_constant_evaluated()) fetch(leaves_[n]);
        return n;
    }
    // Where a record starting at x goes: the leaf and the position there, with the fence to
    // the leaf's right in f (Clamp: x may be 2^64-1).
    template <bool Clamp>
    constexpr std::pair<id, std::size_t> place(std::uint64_t x, fence& f) const noexcept {
        const id l = descend<inner_search::in_three, Clamp>(x, nullptr, &f);
        return {l, count_at_or_below<Clamp>(leaves_[l], x)};
    }
    // Every line of a node, requested at once.
    template <class Node>
    static void fetch(const Node& nd) noexcept {
        const char* b = static_cast<const char*>(static_cast<const void*>(&nd));
        for (std::size_t off = 0; off < sizeof(Node); off += 64) __builtin_prefetch(b + off);
    }

    // Edits of a leaf's order word: close position q (the rest move down, the top nibble
    // comes out 0), or open position q for slot `sl` (the rest move up, the top drops out).
    static constexpr std::uint64_t below(std::size_t q) noexcept { return (std::uint64_t{1} << (4 * q)) - 1; }
    static constexpr std::uint64_t drop(std::uint64_t o, std::size_t q) noexcept {
        return (o & below(q)) | ((o >> 4) & ~below(q));
    }
    static constexpr std::uint64_t open(std::uint64_t o, std::size_t q, std::uint64_t sl) noexcept {
        return ((o & below(q)) | (sl << (4 * q)) | ((o << 4) & ~below(q + 1))) & below(leaf_cap);
    }

    // A free slot lets go of what its record held (a dma's dirty bitmap) at once.
    static constexpr void release(leaf& lf, std::size_t sl) {
        if constexpr (!std::is_trivially_destructible_v<R>) lf.rec[sl] = R{};
    }
    // The record at position q, moved out; its slot is released but stays where it is in
    // the order (the caller shortens or reorders the leaf).
    static constexpr R take(leaf& lf, std::size_t q) {
        R r = std::move(at(lf, q));
        release(lf, slot(lf, q));
        return r;
    }
    // The first free slot takes the record (copied or moved), at position q / last.
    template <class T>
    static constexpr void put(leaf& lf, std::size_t q, T&& r) {
        const std::size_t sl = slot(lf, lf.n);
        lf.order = open(drop(lf.order, lf.n), q, sl);
        detail::open_key(lf.key, q, r.iova.value);
        lf.rec[sl] = std::forward<T>(r);
        ++lf.n;
    }
    static constexpr void push_back(leaf& lf, R&& r) {
        lf.key[lf.n] = r.iova.value;
        lf.rec[slot(lf, lf.n)] = std::move(r);
        ++lf.n;
    }
    static constexpr void remove_at(leaf& lf, std::size_t q) {
        const std::size_t sl = slot(lf, q);
        release(lf, sl);
        lf.order = drop(lf.order, q) | (std::uint64_t{sl} << (4 * (leaf_cap - 1)));
        detail::close_key(lf.key, q);
        --lf.n;
    }
    // Positions from q on are free: their keys become pad.
    static constexpr void cut(leaf& lf, std::size_t q) noexcept {
        for (std::size_t i = q; i < leaf_cap; ++i) lf.key[i] = pad;
        lf.n = static_cast<std::uint32_t>(q);
    }

    // Node `c` (`key` the fence below it) goes right after the child the descent took at depth d - 1
    // (d is the depth of c's new sibling); splits the parent when full, up to a new root.
    constexpr void add_child(const path& p, std::size_t d, std::uint64_t key, id c) {
        if (d == 0) { // the root split
            const id r = new_inner();
            inner& nr = inners_[r];
            nr.child[0] = root_;
            nr.child[1] = c;
            nr.sep[0] = key;
            nr.n = 2;
            root_ = r;
            ++height_;
            return;
        }
        const id pid = p[d - 1].node;
        const std::size_t at = p[d - 1].at + 1;
        if (inners_[pid].n < fanout) {
            insert_child(inners_[pid], at, key, c);
            return;
        }
        const id hid = new_inner(); // may move the inner nodes
        inner& lo = inners_[pid];
        inner& hi = inners_[hid];
        // Children [0, half) stay; the rest move, and the separator between goes up.
        constexpr std::size_t half = fanout / 2;
        const std::uint64_t up = lo.sep[half - 1];
        for (std::size_t i = half; i < fanout; ++i) hi.child[i - half] = lo.child[i];
        for (std::size_t i = half; i + 1 < fanout; ++i) hi.sep[i - half] = lo.sep[i];
        for (std::size_t i = half - 1; i + 1 < fanout; ++i) lo.sep[i] = pad;
        lo.n = hi.n = half;
        if (at <= half) insert_child(lo, at, key, c);
        else insert_child(hi, at - half, key, c);
        add_child(p, d - 1, up, hid);
    }
    static constexpr void insert_child(inner& nd, std::size_t at, std::uint64_t key, id c) noexcept {
        for (std::size_t i = nd.n; i > at; --i) nd.child[i] = nd.child[i - 1];
        for (std::size_t i = nd.n - 1; i + 1 > at; --i) nd.sep[i] = nd.sep[i - 1];
        nd.child[at] = c;
        nd.sep[at - 1] = key;
        ++nd.n;
    }
    // Remove child `at` (≥ 1) and the separator naming it.
    static constexpr void remove_child(inner& nd, std::size_t at) noexcept {
        for (std::size_t i = at; i + 1 < nd.n; ++i) nd.child[i] = nd.child[i + 1];
        for (std::size_t i = at - 1; i + 2 < nd.n; ++i) nd.sep[i] = nd.sep[i + 1];
        --nd.n;
        nd.sep[nd.n - 1] = pad;
    }

    // The leaf at the end of `p` is below half: merge it with a sibling when the two fit in
    // one leaf (the left one keeps them, so the next-links need no predecessor), otherwise
    // share the records of both evenly. Returns where the leaf's first slot went: {leaf,
    // offset there}; what followed the leaf's last record follows it still.
    constexpr std::pair<id, std::size_t> rebalance_leaf(const path& p) {
        const std::size_t d = height_ - 1;
        inner& par = inners_[p[d].node];
        const std::size_t i = p[d].at, j = i + 1 < par.n ? i : i - 1; // the pair is children j, j+1
        const id a_id = par.child[j], b_id = par.child[j + 1];
        leaf& a = leaves_[a_id];
        leaf& b = leaves_[b_id];
        const std::size_t total = a.n + b.n;
        // The leaf itself is a (its right sibling b), or b (the last child; a to its left).
        std::pair<id, std::size_t> moved = j == i ? std::pair{a_id, std::size_t{0}} : std::pair{b_id, std::size_t{0}};
        if (total <= leaf_cap) {
            if (j != i) moved = {a_id, a.n};
            for (std::size_t q = 0; q < b.n; ++q) push_back(a, take(b, q));
            a.next = b.next;
            free_leaf(b_id);
            remove_child(par, j + 1);
        } else if (a.n < total / 2) { // from b's front to a's end
            const std::size_t t = total / 2 - a.n;
            for (std::size_t q = 0; q < t; ++q) push_back(a, take(b, q));
            // The taken slots go to the free end of b's order.
            b.order = (b.order >> (4 * t)) | ((b.order & below(t)) << (4 * (leaf_cap - t)));
            for (std::size_t q = 0; q + t < leaf_cap; ++q) b.key[q] = b.key[q + t];
            cut(b, b.n - t);
            par.sep[j] = b.key[0];
        } else { // from a's end to b's front
            const std::size_t g = a.n - total / 2;
            if (j != i) moved.second = g;
            for (std::size_t q = a.n; q-- > total / 2;) put(b, 0, take(a, q));
            cut(a, total / 2);
            par.sep[j] = b.key[0];
        }
        rebalance_inner(p, d);
        return moved;
    }

    // The inner node at depth d of `p` lost a child: collapse a root of one child, or bring
    // a node below half back as the leaves do (merge, or share evenly).
    constexpr void rebalance_inner(const path& p, std::size_t d) {
        const id nid = p[d].node;
        if (d == 0) {
            if (inners_[nid].n == 1) {
                root_ = inners_[nid].child[0];
                free_inner(nid);
                --height_;
            }
            return;
        }
        if (inners_[nid].n >= inner_min) return;
        inner& par = inners_[p[d - 1].node];
        const std::size_t i = p[d - 1].at, j = i + 1 < par.n ? i : i - 1;
        const id a_id = par.child[j], b_id = par.child[j + 1];
        inner& a = inners_[a_id];
        inner& b = inners_[b_id];
        // Both nodes' children in order, with the separators between them.
        std::array<id, 2 * fanout> kids{};
        std::array<std::uint64_t, 2 * fanout> seps{};
        const std::size_t total = a.n + b.n;
        for (std::size_t q = 0; q < a.n; ++q) kids[q] = a.child[q];
        for (std::size_t q = 0; q < b.n; ++q) kids[a.n + q] = b.child[q];
        for (std::size_t q = 0; q + 1 < a.n; ++q) seps[q] = a.sep[q];
        seps[a.n - 1] = par.sep[j];
        for (std::size_t q = 0; q + 1 < b.n; ++q) seps[a.n + q] = b.sep[q];
        const std::size_t left = total <= fanout ? total : total / 2;
        fill_inner(a, kids.data(), seps.data(), left);
        if (total <= fanout) {
            free_inner(b_id);
            remove_child(par, j + 1);
            rebalance_inner(p, d - 1);
            return;
        }
        fill_inner(b, kids.data() + left, seps.data() + left, total - left);
        par.sep[j] = seps[left - 1];
    }
    static constexpr void fill_inner(inner& nd, const id* kids, const std::uint64_t* seps, std::size_t n) noexcept {
        nd.sep.fill(pad);
        for (std::size_t q = 0; q < n; ++q) nd.child[q] = kids[q];
        for (std::size_t q = 0; q + 1 < n; ++q) nd.sep[q] = seps[q];
        nd.n = static_cast<std::uint32_t>(n);
    }

    // A node from the free list, or a new one (which may move the others).
    template <class Node>
    static constexpr id new_node(std::vector<Node>& nodes, std::vector<id>& free) {
        if (free.empty()) {
            nodes.emplace_back();
            return static_cast<id>(nodes.size() - 1);
        }
        const id i = free.back();
        free.pop_back();
        return i;
    }
    constexpr id new_leaf() { return new_node(leaves_, free_leaves_); }
    constexpr id new_inner() { return new_node(inners_, free_inners_); }
    constexpr void free_leaf(id l) {
        leaves_[l].order = identity;
        leaves_[l].key = pads();
        leaves_[l].n = 0;
        leaves_[l].next = none;
        free_leaves_.push_back(l);
    }
    constexpr void free_inner(id i) {
        inners_[i] = inner{};
        free_inners_.push_back(i);
    }

    std::vector<leaf> leaves_;
    std::vector<inner> inners_;
    std::vector<id> free_leaves_, free_inners_;
    id root_ = none, head_ = none; // head_: the leftmost leaf (merges keep the left leaf)
    std::size_t height_ = 0;       // inner levels above the leaves
    std::size_t size_ = 0;
};

} // namespace passthru::type1
