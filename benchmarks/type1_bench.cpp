// The type1 engine's data structures against their baselines, measured in the same run.
//   dma_store_65535   the mapping store at the kernel's default dma_entry_limit (65,535
//                     live mappings scattered over 4 GiB) against std::map holding the
//                     same records, on batches of 1,024 random operations per iteration:
//                     lookup (the record containing an IOVA), erase (by first IOVA) and
//                     insert (the erased records back). Counters, per operation:
//                       <op>_ns        the store
//                       <op>_map_ns    std::map
//                       <op>_x         map time / store time (targets: lookup >= 4,
//                                      insert and erase >= 3; issue #7)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <passthru/type1/dma_store.hpp>

using namespace passthru;

namespace {

using clock_type = std::chrono::steady_clock;

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

double seconds(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

void bm_store(benchmark::State& state) {
    constexpr std::size_t live = 65535, batch = 1024;
    constexpr std::uint64_t space = std::uint64_t{4} << 30, slot = space / live; // one record per slot
    std::mt19937_64 rng(7);
    std::vector<mapping> recs;
    for (std::size_t i = 0; i < live; ++i) {
        const std::uint64_t size = (1 + rng() % 8) * 4096; // <= 32K, slot is ~64K
        const std::uint64_t off = (rng() % ((slot - size) / 4096)) * 4096;
        recs.push_back({iova{i * slot + off}, size, 0x7f00'0000'0000 + i * slot, size, 3, 0, 1});
    }
    std::shuffle(recs.begin(), recs.end(), rng);
    type1::dma_store<mapping> store;
    std::map<std::uint64_t, mapping> map;
    for (const auto& r : recs) {
        store.insert(r);
        map.emplace(r.iova.value, r);
    }
    std::vector<std::uint64_t> probes(batch);
    double t_look = 0, t_look_map = 0, t_ins = 0, t_ins_map = 0, t_era = 0, t_era_map = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        // Lookups at random IOVAs inside random records (each found).
        for (auto& p : probes) {
            const mapping& r = recs[rng() % live];
            p = r.iova.value + rng() % r.size;
        }
        std::uint64_t sum = 0;
        auto t0 = clock_type::now();
        for (std::uint64_t p : probes) sum += store.containing(iova{p})->vaddr;
        auto t1 = clock_type::now();
        for (std::uint64_t p : probes) sum += std::prev(map.upper_bound(p))->second.vaddr;
        auto t2 = clock_type::now();
        benchmark::DoNotOptimize(sum);
        // Erase a batch of records and insert them back, in a fresh random order each round.
        const std::size_t from = (round++ * batch) % (live - batch);
        auto t3 = clock_type::now();
        for (std::size_t i = from; i < from + batch; ++i) store.erase(store.find(recs[i].iova));
        auto t4 = clock_type::now();
        for (std::size_t i = from; i < from + batch; ++i) map.erase(recs[i].iova.value);
        auto t5 = clock_type::now();
        for (std::size_t i = from; i < from + batch; ++i) store.insert(recs[i]);
        auto t6 = clock_type::now();
        for (std::size_t i = from; i < from + batch; ++i) map.emplace(recs[i].iova.value, recs[i]);
        auto t7 = clock_type::now();
        benchmark::ClobberMemory();
        t_look += seconds(t0, t1);
        t_look_map += seconds(t1, t2);
        t_era += seconds(t3, t4);
        t_era_map += seconds(t4, t5);
        t_ins += seconds(t5, t6);
        t_ins_map += seconds(t6, t7);
        state.SetIterationTime(seconds(t0, t1) + seconds(t3, t4) + seconds(t5, t6));
    }
    if (store.size() != live || map.size() != live) state.SkipWithError("sizes drifted");
    const double ops = static_cast<double>(state.iterations()) * batch;
    state.counters["lookup_ns"] = t_look / ops * 1e9;
    state.counters["lookup_map_ns"] = t_look_map / ops * 1e9;
    state.counters["lookup_x"] = t_look_map / t_look;
    state.counters["erase_ns"] = t_era / ops * 1e9;
    state.counters["erase_map_ns"] = t_era_map / ops * 1e9;
    state.counters["erase_x"] = t_era_map / t_era;
    state.counters["insert_ns"] = t_ins / ops * 1e9;
    state.counters["insert_map_ns"] = t_ins_map / ops * 1e9;
    state.counters["insert_x"] = t_ins_map / t_ins;
}
BENCHMARK(bm_store)->Name("dma_store_65535")->UseManualTime()->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
