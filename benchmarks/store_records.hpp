#pragma once
// The records of the mapping-store benchmarks (type1_bench's dma_store_65535 and
// lookup_cost's instruction counts): 65,535 mappings as the engine keeps them (48 bytes),
// one in each 64K slot of 4 GiB at a random offset, 4K to 32K each, in a random order;
// and the IOVAs their lookups probe.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <passthru/core/address.hpp>

namespace passthru::bench {

// A mapping as the engine will keep it: its range, where it came from and how it maps.
struct mapping {
    passthru::iova iova{};
    std::uint64_t size = 0;
    std::uint64_t vaddr = 0;
    std::uint64_t locked = 0;
    std::uint32_t prot = 0;
    std::uint32_t flags = 0;
    std::uint64_t owner = 0;
};

inline constexpr std::size_t store_live = 65535; // the kernel's default dma_entry_limit

inline std::vector<mapping> scattered_mappings(std::mt19937_64& rng) {
    constexpr std::uint64_t space = std::uint64_t{4} << 30, slot = space / store_live;
    std::vector<mapping> recs;
    recs.reserve(store_live);
    for (std::size_t i = 0; i < store_live; ++i) {
        const std::uint64_t size = (1 + rng() % 8) * 4096; // <= 32K, a slot is ~64K
        const std::uint64_t off = (rng() % ((slot - size) / 4096)) * 4096;
        recs.push_back({passthru::iova{i * slot + off}, size, 0x7f00'0000'0000 + i * slot, size, 3, 0, 1});
    }
    std::shuffle(recs.begin(), recs.end(), rng);
    return recs;
}

// Random IOVAs, each inside a random one of `recs` (so every lookup finds its record).
inline void draw_probes(const std::vector<mapping>& recs, std::mt19937_64& rng, std::vector<std::uint64_t>& probes) {
    for (auto& p : probes) {
        const mapping& r = recs[rng() % recs.size()];
        p = r.iova.value + rng() % r.size;
    }
}

} // namespace passthru::bench
