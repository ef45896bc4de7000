#pragma once
// The mapping store of the kernels before the v6.18 end-of-address-space series (SEMANTICS
// P5): Linux's red-black tree of vfio_dma, shaped exactly as lib/rbtree.c shapes it, and
// searched with that code's comparisons, which add a mapping's size to its IOVA. For a
// mapping that ends at 2^64-1 the sum is 0. It is linked in its place (the kernel links a
// mapping with size 0 and grows it as the pages are mapped), but then every lookup steps
// past it to the right: vfio_find_dma never returns it, and the first-node descent of
// every unmap skips all the mappings below it whenever it lies on the path. That is what
// tests/kernel recorded (observed.md §5 item 3). While no mapping ends at 2^64-1 the
// tree is ordered and answers as dma_store does.
//
// It offers dma_store's interface with the kernel's meaning of each call:
//   containing(a)                 vfio_find_dma(a, 1)
//   first_overlapping(r)          vfio_find_dma(r.first, r.last - r.first + 1): the first
//                                 overlapping node on the search path, not the lowest
//   first_ending_at_or_after(a)   vfio_find_dma_first_node's descent
//   insert / erase / ++           vfio_link_dma / rb_erase / rb_next
// Nodes live in fixed blocks, so a record's address never changes while it is stored.
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/type1/dma_store.hpp>

namespace passthru::type1 {

template <StoreRecord R>
class kernel_dma_tree {
    using index = std::uint32_t;
    static constexpr index none = ~index{0};

    static constexpr int left = 0, right = 1; // child[] sides; the mirror cases share code
    struct node {
        R rec{};
        std::array<index, 2> child{none, none};
        index parent = none;
        bool red = false;
    };

    // dma->iova + dma->size as the kernel computes it: 0 for a mapping ending at 2^64-1.
    static constexpr std::uint64_t end_of(const R& r) noexcept { return r.iova.value + r.size; }

public:
    template <bool Const>
    class basic_iterator {
        using tree = std::conditional_t<Const, const kernel_dma_tree, kernel_dma_tree>;
        tree* t_ = nullptr;
        index n_ = none;
        friend class kernel_dma_tree;
        constexpr basic_iterator(tree* t, index n) noexcept : t_(t), n_(n) {}

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
            return {t_, n_};
        }
        constexpr reference operator*() const noexcept { return t_->at(n_).rec; }
        constexpr pointer operator->() const noexcept { return &**this; }
        constexpr basic_iterator& operator++() noexcept {
            n_ = t_->next(n_);
            return *this;
        }
        constexpr basic_iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        constexpr bool operator==(const basic_iterator& o) const noexcept { return n_ == o.n_; }

        template <bool>
        friend class basic_iterator;
    };
    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    constexpr kernel_dma_tree() = default;

    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }

    // rb_first, and the end.
    constexpr iterator begin() noexcept { return {this, leftmost(root_)}; }
    constexpr iterator end() noexcept { return {this, none}; }
    constexpr const_iterator begin() const noexcept { return {this, leftmost(root_)}; }
    constexpr const_iterator end() const noexcept { return {this, none}; }

    constexpr iterator containing(passthru::iova a) noexcept { return {this, find_dma(a.value, 1)}; }
    constexpr const_iterator containing(passthru::iova a) const noexcept { return {this, find_dma(a.value, 1)}; }
    constexpr iterator first_overlapping(const interval& r) noexcept {
        return {this, find_dma(r.first, r.last - r.first + 1)};
    }
    constexpr const_iterator first_overlapping(const interval& r) const noexcept {
        return {this, find_dma(r.first, r.last - r.first + 1)};
    }
    // The kernel's first-node descent; its final test (the node starts past the range) is
    // the caller's loop condition, as it is in vfio_dma_do_unmap.
    constexpr iterator first_ending_at_or_after(passthru::iova a) noexcept { return {this, first_node(a.value)}; }
    constexpr const_iterator first_ending_at_or_after(passthru::iova a) const noexcept {
        return {this, first_node(a.value)};
    }
    // The first record in tree order that starts at `a` (the kernel has no such lookup).
    constexpr iterator find(passthru::iova a) noexcept {
        for (iterator it = begin(); it != end(); ++it)
            if (it->iova.value == a.value) return it;
        return end();
    }

    // vfio_link_dma, then rb_insert_color. The kernel links a new mapping with size 0, so
    // it goes left of every mapping starting at or above its IOVA. The record may overlap
    // others (the kernel links what its lookups did not see).
    constexpr iterator insert(const R& r) {
        const index n = new_node(r);
        index parent = none, cur = root_;
        int side = left;
        while (cur != none) {
            parent = cur;
            side = r.iova.value <= at(cur).rec.iova.value ? left : right;
            cur = at(cur).child[side];
        }
        at(n).parent = parent;
        at(n).red = true;
        if (parent == none) root_ = n;
        else at(parent).child[side] = n;
        insert_color(n);
        ++size_;
        return {this, n};
    }

    // rb_erase; returns the record after it (rb_next, taken before the erase as the
    // kernel's unmap loop takes it).
    constexpr iterator erase(const_iterator pos) {
        const index n = pos.n_, after = next(n);
        erase_node(n);
        free_.push_back(n);
        at(n) = node{};
        --size_;
        return {this, after};
    }

    constexpr void clear() noexcept {
        blocks_.clear();
        free_.clear();
        root_ = none;
        size_ = 0;
    }

    // Equal when they hold equal records in the same tree order.
    friend constexpr bool operator==(const kernel_dma_tree& a, const kernel_dma_tree& b)
        requires std::equality_comparable<R>
    {
        if (a.size_ != b.size_) return false;
        auto i = a.begin();
        for (auto j = b.begin(); j != b.end(); ++i, ++j)
            if (!(*i == *j)) return false;
        return true;
    }

    // For tests: the tree's shape and colours, as (iova, left iova, right iova, red) from
    // the root in preorder; a missing child is ~0.
    struct shape_entry {
        std::uint64_t iova, left, right;
        bool red;
        constexpr bool operator==(const shape_entry&) const = default;
    };
    constexpr std::vector<shape_entry> shape() const {
        std::vector<shape_entry> out;
        std::vector<index> todo;
        if (root_ != none) todo.push_back(root_);
        auto key = [&](index i) { return i == none ? ~std::uint64_t{0} : at(i).rec.iova.value; };
        while (!todo.empty()) {
            const index i = todo.back();
            todo.pop_back();
            out.push_back({key(i), key(at(i).child[left]), key(at(i).child[right]), at(i).red});
            if (at(i).child[right] != none) todo.push_back(at(i).child[right]);
            if (at(i).child[left] != none) todo.push_back(at(i).child[left]);
        }
        return out;
    }

private:
    // vfio_find_dma: left while the query ends at or below the node's start, right while it
    // starts at or past the node's end, both sums wrapping as the kernel's do.
    constexpr index find_dma(std::uint64_t start, std::uint64_t size) const noexcept {
        index cur = root_;
        while (cur != none) {
            const R& d = at(cur).rec;
            if (start + size <= d.iova.value) cur = at(cur).child[left];
            else if (start >= end_of(d)) cur = at(cur).child[right];
            else return cur;
        }
        return none;
    }
    // vfio_find_dma_first_node's descent: the last node passed whose end lies above `start`.
    constexpr index first_node(std::uint64_t start) const noexcept {
        index cur = root_, res = none;
        while (cur != none) {
            const R& d = at(cur).rec;
            if (start < end_of(d)) {
                res = cur;
                if (start >= d.iova.value) break;
                cur = at(cur).child[left];
            } else {
                cur = at(cur).child[right];
            }
        }
        return res;
    }

    // --- lib/rbtree.c -----------------------------------------------------------------
    constexpr index leftmost(index i) const noexcept {
        if (i == none) return none;
        while (at(i).child[left] != none) i = at(i).child[left];
        return i;
    }
    constexpr index next(index i) const noexcept {
        if (at(i).child[right] != none) return leftmost(at(i).child[right]);
        index p = at(i).parent;
        while (p != none && i == at(p).child[right]) {
            i = p;
            p = at(p).parent;
        }
        return p;
    }
    constexpr bool is_red(index i) const noexcept { return i != none && at(i).red; }
    // Put `to` where `from` hangs below `parent` (or at the root).
    constexpr void replace_child(index from, index to, index parent) noexcept {
        if (parent == none) root_ = to;
        else if (at(parent).child[left] == from) at(parent).child[left] = to;
        else at(parent).child[right] = to;
        if (to != none) at(to).parent = parent;
    }
    // Rotate x down to the `dir` side: its child on the other side takes its place.
    constexpr void rotate(index x, int dir) noexcept {
        const index y = at(x).child[1 - dir];
        at(x).child[1 - dir] = at(y).child[dir];
        if (at(y).child[dir] != none) at(at(y).child[dir]).parent = x;
        replace_child(x, y, at(x).parent);
        at(y).child[dir] = x;
        at(x).parent = y;
    }

    // __rb_insert: a red uncle recolours and moves up; a black one rotates once or twice.
    constexpr void insert_color(index n) noexcept {
        while (true) {
            index p = at(n).parent;
            if (p == none) {
                at(n).red = false;
                return;
            }
            if (!at(p).red) return;
            const index g = at(p).parent; // p is red, so not the root
            const int side = at(g).child[left] == p ? left : right;
            const index u = at(g).child[1 - side];
            if (is_red(u)) {
                at(p).red = at(u).red = false;
                at(g).red = true;
                n = g;
                continue;
            }
            if (n == at(p).child[1 - side]) { // the inner grandchild: line it up first
                rotate(p, side);
                p = n;
            }
            rotate(g, 1 - side);
            at(p).red = false;
            at(g).red = true;
            return;
        }
    }

    // __rb_erase_augmented: a node with two children is replaced by its successor, which
    // takes its colour; a lone child takes the node's colour.
    constexpr void erase_node(index n) noexcept {
        const index l = at(n).child[left], r = at(n).child[right], p = at(n).parent;
        index rebalance = none; // the parent of a removed black leaf position
        if (l == none || r == none) {
            const index child = l == none ? r : l;
            replace_child(n, child, p);
            if (child != none) at(child).red = false; // a lone child is red, n was black
            else if (!at(n).red) rebalance = p;
        } else {
            index s = r, s_parent = n;
            while (at(s).child[left] != none) {
                s_parent = s;
                s = at(s).child[left];
            }
            const index child2 = at(s).child[right];
            const bool s_red = at(s).red;
            if (s != r) {
                at(s_parent).child[left] = child2;
                if (child2 != none) at(child2).parent = s_parent;
                at(s).child[right] = r;
                at(r).parent = s;
            } else {
                s_parent = s;
            }
            at(s).child[left] = l;
            at(l).parent = s;
            replace_child(n, s, p);
            at(s).red = at(n).red;
            if (child2 != none) at(child2).red = false;
            else if (!s_red) rebalance = s_parent;
        }
        if (rebalance != none) erase_color(rebalance);
    }

    // ____rb_erase_color: the path through the (empty) child of `parent` is one black short.
    constexpr void erase_color(index parent) noexcept {
        index n = none;
        while (true) {
            const int side = at(parent).child[left] == n ? left : right;
            index s = at(parent).child[1 - side];
            if (at(s).red) { // case 1: rotate the red sibling up
                at(s).red = false;
                at(parent).red = true;
                rotate(parent, side);
                s = at(parent).child[1 - side];
            }
            const index near = at(s).child[side], far = at(s).child[1 - side];
            if (!is_red(far)) {
                if (!is_red(near)) { // case 2: recolour the sibling, move up
                    at(s).red = true;
                    if (at(parent).red) {
                        at(parent).red = false;
                        return;
                    }
                    n = parent;
                    parent = at(n).parent;
                    if (parent == none) return;
                    continue;
                }
                // case 3: rotate the near red nephew up to be the sibling
                at(near).red = false;
                at(s).red = true;
                rotate(s, 1 - side);
                s = near;
            }
            // case 4: rotate the sibling up over the parent
            at(s).red = at(parent).red;
            at(parent).red = false;
            at(at(s).child[1 - side]).red = false;
            rotate(parent, side);
            return;
        }
    }

    // --- storage ------------------------------------------------------------------------
    static constexpr unsigned block_lg2 = 9;
    static constexpr std::size_t block_size = std::size_t{1} << block_lg2;
    constexpr node& at(index i) noexcept { return blocks_[i >> block_lg2][i & (block_size - 1)]; }
    constexpr const node& at(index i) const noexcept { return blocks_[i >> block_lg2][i & (block_size - 1)]; }
    constexpr index new_node(const R& r) {
        index i;
        if (!free_.empty()) {
            i = free_.back();
            free_.pop_back();
        } else {
            if (blocks_.empty() || blocks_.back().size() == block_size) {
                blocks_.emplace_back();
                blocks_.back().reserve(block_size); // never grows past this: addresses stay put
            }
            blocks_.back().emplace_back();
            i = static_cast<index>(((blocks_.size() - 1) << block_lg2) + blocks_.back().size() - 1);
        }
        at(i) = node{r};
        return i;
    }

    std::vector<std::vector<node>> blocks_;
    std::vector<index> free_;
    index root_ = none;
    std::size_t size_ = 0;
};

} // namespace passthru::type1
