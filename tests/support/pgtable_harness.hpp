#pragma once
// Test scaffolding for page tables: an arena-backed table whose memory can be
// snapshotted (to prove failed calls change nothing), a walk that lists every entry, a
// hook that checks sync ordering, and an independent reference model of the walker's
// map/unmap rules (SEMANTICS G1, PGTABLE §0.4) over a plain ordered map.
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <passthru/core/page_size.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/page_table.hpp>

namespace passthru::testing {

// Records every sync, in order, so a test can check the two promises of the walker's
// hooks: a table is synced before a descriptor pointing at it is (sync_order_ok), and
// nothing is left written but unsynced (all_synced).
struct sync_recorder {
    struct event {
        const pte_t* slot;
        pte_t value;
    };
    std::vector<event> events;
    std::size_t flushes = 0;

    void sync_ptes(const pte_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) events.push_back({p + i, p[i]});
    }
    void flush_iotlb(const pgtable::iotlb_gather&) { ++flushes; }
};

template <class F>
struct table_fixture {
    static constexpr std::size_t unit = std::size_t{1} << F::table_lg2(0);

    explicit table_fixture(std::size_t units = 256, phys_addr base = phys_addr{0x4000'0000})
        : memory(units * unit, pte_t{0xDEAD'BEEF'DEAD'BEEF}), // garbage: the walker must init
          arena(memory, base, unit) {}

    std::vector<pte_t> memory;
    pgtable::arena_allocator arena;
};

// Every leaf entry reachable from the root, by IOVA, with its size and first slot.
struct entry_info {
    std::uint64_t pa;
    std::uint64_t size;
    unsigned level;
    pte_t pte;
};

template <class F, class Table>
std::map<std::uint64_t, entry_info> list_entries(const Table& t, const pgtable::arena_allocator& a) {
    std::map<std::uint64_t, entry_info> out;
    auto walk = [&](auto& self, const pte_t* table, unsigned level, std::uint64_t base) -> void {
        const std::size_t n = std::size_t{1} << F::table_lg2(level);
        for (std::size_t i = 0; i < n; ++i) {
            const pte_t e = table[i];
            const std::uint64_t va = base + (std::uint64_t{i} << F::item_lg2(level));
            switch (F::classify(e, level)) {
            case pte_kind::empty: break;
            case pte_kind::table: self(self, a.table_at(F::table_pa(e)), level - 1, va); break;
            case pte_kind::leaf: {
                const unsigned lg2 = F::leaf_size_lg2(e, level);
                const std::uint64_t first = va & ~((std::uint64_t{1} << lg2) - 1);
                out.try_emplace(first, entry_info{F::leaf_pa(e, level).value,
                                                  std::uint64_t{1} << lg2, level, e});
                break;
            }
            }
        }
    };
    walk(walk, a.table_at(t.root()), F::top_level, 0);
    return out;
}

// The level-0 table that holds `io`, or nullptr when a level above has no table there
// (what a test needs to play the device and set bits in leaves).
template <class F, class Table>
pte_t* leaf_table(const Table& t, const pgtable::arena_allocator& a, std::uint64_t io) {
    pte_t* table = a.table_at(t.root());
    for (unsigned level = F::top_level; level > 0; --level) {
        const std::uint64_t slots = std::uint64_t{1} << F::table_lg2(level);
        const pte_t e = table[(io >> F::item_lg2(level)) & (slots - 1)];
        if (F::classify(e, level) != pte_kind::table) return nullptr;
        table = a.table_at(F::table_pa(e));
    }
    return table;
}

// A device write as each format's hardware records it (PGTABLE §8).
template <class F>
void device_writes(pte_t& slot) {
    if constexpr (requires { F::config.quirks.hd; })
        slot &= ~(pte_t{1} << 7); // ARM: clear AP[2] on a DBM leaf
    else if constexpr (requires { F::config.levels; })
        slot |= pte_t{1} << 9; // VT-d: D
    else
        slot |= pte_t{1} << 6; // AMD: D
}

// The slot that translates `io` at the level where the walk ends (a leaf, or an empty
// slot), or nullptr when `io` is beyond the input width.
template <class F, class Table>
pte_t* slot_of(const Table& t, const pgtable::arena_allocator& a, std::uint64_t io) {
    if (F::va_bits < 64 && (io >> F::va_bits) != 0) return nullptr;
    pte_t* table = a.table_at(t.root());
    for (unsigned level = F::top_level;; --level) {
        const std::uint64_t slots = std::uint64_t{1} << F::table_lg2(level);
        pte_t* slot = table + ((io >> F::item_lg2(level)) & (slots - 1));
        if (level == 0 || F::classify(*slot, level) != pte_kind::table) return slot;
        table = a.table_at(F::table_pa(*slot));
    }
}

// The contents of every table reachable from the root, keyed by physical address: two
// equal snapshots mean two identical page tables, whatever freed memory holds.
template <class F, class Table>
std::map<std::uint64_t, std::vector<pte_t>> snapshot(const Table& t, const pgtable::arena_allocator& a) {
    std::map<std::uint64_t, std::vector<pte_t>> out;
    auto walk = [&](auto& self, phys_addr pa, unsigned level) -> void {
        const pte_t* table = a.table_at(pa);
        const std::size_t n = std::size_t{1} << F::table_lg2(level);
        out[pa.value].assign(table, table + n);
        for (std::size_t i = 0; i < n; ++i)
            if (F::classify(table[i], level) == pte_kind::table)
                self(self, F::table_pa(table[i]), level - 1);
    };
    walk(walk, t.root(), F::top_level);
    return out;
}

// Walk the live tree: every slot's value was synced after it was last written, and
// every slot of a child table was synced before the descriptor that links it was.
template <class F, class Table>
bool sync_order_ok(const Table& t, const pgtable::arena_allocator& a, const sync_recorder& rec) {
    std::map<const pte_t*, std::size_t> first_sync, last_index;
    std::map<const pte_t*, pte_t> last_value;
    for (std::size_t k = 0; k < rec.events.size(); ++k) {
        const auto& ev = rec.events[k];
        first_sync.try_emplace(ev.slot, k);
        last_value[ev.slot] = ev.value;
    }
    bool ok = true;
    auto walk = [&](auto& self, const pte_t* table, unsigned level) -> void {
        const std::size_t n = std::size_t{1} << F::table_lg2(level);
        for (std::size_t i = 0; i < n; ++i) {
            auto lv = last_value.find(table + i);
            if (lv == last_value.end() || lv->second != table[i]) ok = false; // written, not synced
            if (F::classify(table[i], level) != pte_kind::table) continue;
            // When was this exact descriptor value first synced?
            std::size_t linked = rec.events.size();
            for (std::size_t k = 0; k < rec.events.size(); ++k)
                if (rec.events[k].slot == table + i && rec.events[k].value == table[i]) {
                    linked = k;
                    break;
                }
            const pte_t* child = a.table_at(F::table_pa(table[i]));
            const std::size_t cn = std::size_t{1} << F::table_lg2(level - 1);
            for (std::size_t c = 0; c < cn; ++c) {
                auto fs = first_sync.find(child + c);
                if (fs == first_sync.end() || fs->second > linked) ok = false;
            }
            self(self, child, level - 1);
        }
    };
    walk(walk, a.table_at(t.root()), F::top_level);
    return ok;
}

// The walker's rules restated over an ordered map of entries, for randomized testing.
// Leaf boundaries come from the IOMMU-core split (core/page_size.hpp, tested on its own
// against SEMANTICS G1.3 and PGTABLE §0.3).
struct reference_table {
    struct entry {
        std::uint64_t pa, size;
        prot perm;
    };
    std::map<std::uint64_t, entry> entries;
    partial_unmap rule = partial_unmap::whole_leaf;

    bool overlaps(std::uint64_t first, std::uint64_t last) const {
        auto it = entries.upper_bound(last);
        if (it == entries.begin()) return false;
        --it;
        return it->first + (it->second.size - 1) >= first;
    }
    // Returns false (and changes nothing) when any byte is mapped.
    bool map(pgsize_bitmap b, std::uint64_t io, std::uint64_t pa, std::uint64_t size, prot p) {
        if (overlaps(io, io + size - 1)) return false;
        for (const page_run& r : page_split(b, iova{io}, phys_addr{pa}, size))
            for (std::uint64_t k = 0; k < r.count; ++k)
                entries[r.io.value + k * r.pgsize] = {r.pa.value + k * r.pgsize, r.pgsize, p};
        return true;
    }
    std::uint64_t unmap(std::uint64_t io, std::uint64_t size) {
        std::uint64_t done = 0, left = size, cur = io;
        while (left > 0) {
            auto it = entries.find(cur);
            if (it == entries.end()) break; // a hole, or cur inside an entry
            const std::uint64_t s = it->second.size;
            if (rule == partial_unmap::refuse && s > left) break;
            entries.erase(it);
            done += s;
            left = s >= left ? 0 : left - s;
            cur += s;
        }
        return done;
    }
    std::optional<std::uint64_t> translate(std::uint64_t io) const {
        auto it = entries.upper_bound(io);
        if (it == entries.begin()) return std::nullopt;
        --it;
        if (io - it->first >= it->second.size) return std::nullopt;
        return it->second.pa + (io - it->first);
    }
};

} // namespace passthru::testing
