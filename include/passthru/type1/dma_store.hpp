#pragma once
// The container's DMA mappings (SEMANTICS 2, item 5): records that never overlap, each
// kept whole (never merged or split), in IOVA order. The engine asks four things of them,
// all on hot paths: the record containing an IOVA (map and dirty checks), the first record
// ending at or after an IOVA (every unmap walk and overlap test), ordered walks from there,
// and insert/erase one record at a time.
//
// Layout: a two-level sorted index over a stable pool. Records live in a pool of fixed
// blocks with a free list, so a record's address never changes while it is stored. The index is a list of
// chunks of up to 64 (first IOVA, pool slot) pairs in order; a top array holds each
// chunk's first IOVA and a summary every 8th of those. A lookup is three branch-free
// binary searches over packed keys (~260 summary keys at 65,535 records, 8 top keys (one line), 64
// chunk keys), with each cold array's lines requested at once: about two cache misses
// (the chunk, the record) where a node-based tree chases one per level. Chunks split when full and merge with their successor
// when the two fit in half a chunk, so a chunk holds 32-64 entries in steady state.
// Everything is constexpr: a static-partitioning hypervisor can build its whole DMA layout
// in constant evaluation.
#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <type_traits>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/interval.hpp>

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
    static constexpr std::size_t chunk_max = 64;
    static constexpr std::size_t merge_max = chunk_max / 2;
    using slot = std::uint32_t;

    struct alignas(64) chunk {
        std::array<std::uint64_t, chunk_max> first{}; // sorted
        std::array<slot, chunk_max> rec{};
        std::size_t n = 0;
    };

    // Count of keys <= x in a sorted run of n, without branches on the data.
    static constexpr std::size_t upper(const std::uint64_t* a, std::size_t n, std::uint64_t x) noexcept {
        if (n == 0) return 0;
        std::size_t base = 0;
        while (n > 1) {
            const std::size_t half = n / 2;
            base = a[base + half] <= x ? base + half : base;
            n -= half;
        }
        return base + (a[base] <= x ? 1 : 0);
    }

    static constexpr std::uint64_t last_of(const R& r) noexcept { return r.iova.value + (r.size - 1); }

public:
    template <bool Const>
    class basic_iterator {
        using store = std::conditional_t<Const, const dma_store, dma_store>;
        store* s_ = nullptr;
        std::size_t c_ = 0, k_ = 0; // position in the top order, index in that chunk
        friend class dma_store;
        constexpr basic_iterator(store* s, std::size_t c, std::size_t k) noexcept : s_(s), c_(c), k_(k) {}

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
            return {s_, c_, k_};
        }

        constexpr reference operator*() const noexcept {
            return s_->record(s_->chunks_[s_->top_chunk_[c_]].rec[k_]);
        }
        constexpr pointer operator->() const noexcept { return &**this; }
        constexpr basic_iterator& operator++() noexcept {
            if (++k_ == s_->chunks_[s_->top_chunk_[c_]].n) {
                ++c_;
                k_ = 0;
            }
            return *this;
        }
        constexpr basic_iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        constexpr bool operator==(const basic_iterator& o) const noexcept { return c_ == o.c_ && k_ == o.k_; }

        template <bool>
        friend class basic_iterator;
    };
    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    constexpr dma_store() = default;

    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }

    constexpr iterator begin() noexcept { return {this, 0, 0}; }
    constexpr iterator end() noexcept { return {this, top_first_.size(), 0}; }
    constexpr const_iterator begin() const noexcept { return {this, 0, 0}; }
    constexpr const_iterator end() const noexcept { return {this, top_first_.size(), 0}; }

    // The record whose range holds `a`, or end().
    constexpr iterator containing(passthru::iova a) noexcept { return at_or_after(a.value, true); }
    constexpr const_iterator containing(passthru::iova a) const noexcept {
        return const_cast<dma_store*>(this)->containing(a);
    }
    // The first record whose last byte is at or after `a` (the start of every unmap walk).
    constexpr iterator first_ending_at_or_after(passthru::iova a) noexcept { return at_or_after(a.value, false); }
    constexpr const_iterator first_ending_at_or_after(passthru::iova a) const noexcept {
        return const_cast<dma_store*>(this)->first_ending_at_or_after(a);
    }
    // The lowest record that overlaps `r`, or end().
    constexpr iterator first_overlapping(const interval& r) noexcept {
        auto it = at_or_after(r.first, false);
        return it != end() && it->iova.value <= r.last ? it : end();
    }
    constexpr const_iterator first_overlapping(const interval& r) const noexcept {
        return const_cast<dma_store*>(this)->first_overlapping(r);
    }
    // The record starting exactly at `a`, or end().
    constexpr iterator find(passthru::iova a) noexcept {
        // The index holds every first IOVA: no need to touch the (cold) record itself.
        const std::size_t nc = chunks_at_or_below(a.value);
        if (nc == 0) return end();
        const chunk& ch = chunks_[top_chunk_[nc - 1]];
        if (!std::is_constant_evaluated()) fetch(ch);
        const std::size_t k = upper(ch.first.data(), ch.n, a.value) - 1;
        return ch.first[k] == a.value ? iterator{this, nc - 1, k} : end();
    }
    constexpr const_iterator find(passthru::iova a) const noexcept { return const_cast<dma_store*>(this)->find(a); }

    // Insert a record that overlaps none in the store (the caller checked, as the kernel
    // does before it links a vfio_dma); returns where it went.
    constexpr iterator insert(const R& r) {
        const std::uint64_t key = r.iova.value;
        const slot s = new_slot();
        if (top_first_.empty()) {
            const std::uint32_t id = new_chunk();
            top_first_.push_back(key);
            top_chunk_.push_back(id);
            summarize(0);
        }
        std::size_t c = chunks_at_or_below(key);
        c = c == 0 ? 0 : c - 1;
        chunk* ch = &chunks_[top_chunk_[c]];
        if (!std::is_constant_evaluated()) fetch(*ch);
        std::size_t k = upper(ch->first.data(), ch->n, key);
        if (ch->n == chunk_max) { // split in halves, then insert into the half that owns k
            const std::uint32_t id = new_chunk();
            ch = &chunks_[top_chunk_[c]]; // new_chunk may have moved the chunks
            chunk& hi = chunks_[id];
            hi.n = chunk_max - merge_max;
            std::copy(ch->first.begin() + merge_max, ch->first.end(), hi.first.begin());
            std::copy(ch->rec.begin() + merge_max, ch->rec.end(), hi.rec.begin());
            ch->n = merge_max;
            top_first_.insert(top_first_.begin() + static_cast<std::ptrdiff_t>(c + 1), hi.first[0]);
            top_chunk_.insert(top_chunk_.begin() + static_cast<std::ptrdiff_t>(c + 1), id);
            summarize(c + 1);
            if (k > merge_max) {
                ++c;
                k -= merge_max;
                ch = &hi;
            }
        }
        std::copy_backward(ch->first.begin() + static_cast<std::ptrdiff_t>(k),
                           ch->first.begin() + static_cast<std::ptrdiff_t>(ch->n),
                           ch->first.begin() + static_cast<std::ptrdiff_t>(ch->n + 1));
        std::copy_backward(ch->rec.begin() + static_cast<std::ptrdiff_t>(k),
                           ch->rec.begin() + static_cast<std::ptrdiff_t>(ch->n),
                           ch->rec.begin() + static_cast<std::ptrdiff_t>(ch->n + 1));
        ch->first[k] = key;
        ch->rec[k] = s;
        ++ch->n;
        if (k == 0) set_first(c, key);
        ++size_;
        record(s) = r; // last: a reused slot is a cold line, and nothing above waits for it
        return {this, c, k};
    }

    // Remove one record; returns the record after it.
    constexpr iterator erase(const_iterator pos) {
        std::size_t c = pos.c_, k = pos.k_;
        const std::uint32_t id = top_chunk_[c];
        chunk& ch = chunks_[id];
        record(ch.rec[k]) = R{}; // release what it holds now (a dma's dirty bitmap), not at reuse
        free_slots_.push_back(ch.rec[k]);
        std::copy(ch.first.begin() + static_cast<std::ptrdiff_t>(k + 1),
                  ch.first.begin() + static_cast<std::ptrdiff_t>(ch.n),
                  ch.first.begin() + static_cast<std::ptrdiff_t>(k));
        std::copy(ch.rec.begin() + static_cast<std::ptrdiff_t>(k + 1),
                  ch.rec.begin() + static_cast<std::ptrdiff_t>(ch.n),
                  ch.rec.begin() + static_cast<std::ptrdiff_t>(k));
        --ch.n;
        --size_;
        if (ch.n == 0) {
            drop_chunk(c);
            return {this, c, 0};
        }
        if (k == 0) set_first(c, ch.first[0]);
        if (c + 1 < top_chunk_.size()) {
            chunk& next = chunks_[top_chunk_[c + 1]];
            if (ch.n + next.n <= merge_max) {
                std::copy(next.first.begin(), next.first.begin() + static_cast<std::ptrdiff_t>(next.n),
                          ch.first.begin() + static_cast<std::ptrdiff_t>(ch.n));
                std::copy(next.rec.begin(), next.rec.begin() + static_cast<std::ptrdiff_t>(next.n),
                          ch.rec.begin() + static_cast<std::ptrdiff_t>(ch.n));
                ch.n += next.n;
                next.n = 0;
                drop_chunk(c + 1);
            }
        }
        if (k == ch.n) return {this, c + 1, 0};
        return {this, c, k};
    }

    constexpr void clear() noexcept {
        pool_.clear();
        free_slots_.clear();
        chunks_.clear();
        free_chunks_.clear();
        top_first_.clear();
        top_chunk_.clear();
        summary_.clear();
        size_ = 0;
    }

    // Equal when they hold equal records in the same order (the pool layout is not state).
    friend constexpr bool operator==(const dma_store& a, const dma_store& b)
        requires std::equality_comparable<R>
    {
        return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
    }

private:
    // The first record with last >= x; with `holding`, only if it also starts at or before x.
    constexpr iterator at_or_after(std::uint64_t x, bool holding) noexcept {
        const std::size_t nc = chunks_at_or_below(x);
        if (nc == 0) return holding || empty() ? end() : begin();
        const std::size_t c = nc - 1;
        const chunk& ch = chunks_[top_chunk_[c]];
        if (!std::is_constant_evaluated()) fetch(ch);
        const std::size_t k = upper(ch.first.data(), ch.n, x) - 1; // ch.first[0] <= x
        if (x <= last_of(record(ch.rec[k]))) return {this, c, k};
        if (holding) return end();
        return k + 1 < ch.n ? iterator{this, c, k + 1} : iterator{this, c + 1, 0};
    }

    static constexpr unsigned block_lg2 = 9;
    static constexpr std::size_t block_size = std::size_t{1} << block_lg2;
    constexpr R& record(slot s) noexcept { return pool_[s >> block_lg2][s & (block_size - 1)]; }
    constexpr const R& record(slot s) const noexcept { return pool_[s >> block_lg2][s & (block_size - 1)]; }

    // A chunk is cold (one of ~2,000), and a binary search over it would wait on each of its
    // lines in turn: ask for all of them at once (12 lines, fetched in parallel).
    static void fetch(const chunk& ch) noexcept {
        for (std::size_t i = 0; i < chunk_max; i += 64 / sizeof(std::uint64_t)) __builtin_prefetch(&ch.first[i]);
        for (std::size_t i = 0; i < chunk_max; i += 64 / sizeof(slot)) __builtin_prefetch(&ch.rec[i]);
    }

    constexpr slot new_slot() {
        if (free_slots_.empty()) {
            if (pool_.empty() || pool_.back().size() == block_size) {
                pool_.emplace_back();
                pool_.back().reserve(block_size); // never grows past this: addresses stay put
            }
            pool_.back().emplace_back();
            return static_cast<slot>(((pool_.size() - 1) << block_lg2) + pool_.back().size() - 1);
        }
        const slot s = free_slots_.back();
        free_slots_.pop_back();
        return s;
    }

    constexpr std::uint32_t new_chunk() {
        if (free_chunks_.empty()) {
            chunks_.emplace_back();
            return static_cast<std::uint32_t>(chunks_.size() - 1);
        }
        const std::uint32_t id = free_chunks_.back();
        free_chunks_.pop_back();
        chunks_[id].n = 0;
        return id;
    }

    constexpr void drop_chunk(std::size_t c) {
        free_chunks_.push_back(top_chunk_[c]);
        top_first_.erase(top_first_.begin() + static_cast<std::ptrdiff_t>(c));
        top_chunk_.erase(top_chunk_.begin() + static_cast<std::ptrdiff_t>(c));
        summarize(c);
    }

    // How many chunks start at or below x. The top array (~16 KB at 65,535 records) is
    // searched through its summary, every group-th key (~1 KB, stays hot), then within one
    // group of keys whose lines, and their chunk ids', are fetched together.
    static constexpr std::size_t group = 8;
    constexpr std::size_t chunks_at_or_below(std::uint64_t x) const noexcept {
        const std::size_t g = upper(summary_.data(), summary_.size(), x);
        if (g == 0) return 0;
        const std::size_t from = (g - 1) * group, n = std::min(group, top_first_.size() - from);
        if (!std::is_constant_evaluated()) {
            __builtin_prefetch(&top_first_[from]);
            __builtin_prefetch(&top_first_[from + n - 1]);
            __builtin_prefetch(&top_chunk_[from]);
            __builtin_prefetch(&top_chunk_[from + n - 1]);
        }
        return from + upper(top_first_.data() + from, n, x);
    }
    // The summary from the group holding position c on, after the top array changed there.
    constexpr void summarize(std::size_t c) {
        summary_.resize((top_first_.size() + group - 1) / group);
        for (std::size_t g = c / group; g < summary_.size(); ++g) summary_[g] = top_first_[g * group];
    }
    constexpr void set_first(std::size_t c, std::uint64_t key) noexcept {
        top_first_[c] = key;
        if (c % group == 0) summary_[c / group] = key;
    }

    std::vector<std::vector<R>> pool_; // blocks of block_size records
    std::vector<slot> free_slots_;
    std::vector<chunk> chunks_;
    std::vector<std::uint32_t> free_chunks_;
    std::vector<std::uint64_t> top_first_; // first key of each chunk, in order
    std::vector<std::uint32_t> top_chunk_; // the chunk at each position
    std::vector<std::uint64_t> summary_;   // top_first_[group·g]
    std::size_t size_ = 0;
};

} // namespace passthru::type1
