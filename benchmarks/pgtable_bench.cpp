// Page-table walker benchmarks: map and unmap of 1 GiB at 4K and at 2M leaves for each
// format, each printed next to its physical floor measured in the same run: memset over
// the same number of descriptor bytes, and a bare loop that writes the same descriptors
// with no walking at all. Plus iova_to_phys latency, the dirty harvest against a plain
// read of the same table bytes, and 4K map calls through a map session.
//
// Counters (per iteration, from the same loop as the timed operation):
//   desc           descriptors written or cleared
//   memset_us      memset over desc * 8 bytes
//   loop_us        a straight loop writing the same descriptor values
//   x_memset       the operation's time / memset's (targets at 4K: map <= 1.5, unmap <= 2)
//   loop_x_memset  the bare loop's time / memset's
//   of_read        dirty harvest: read time / harvest time (target >= 0.5)
//   x_map_calls    map session: session time / plain map calls' time
// scripts/bench --summary turns them into the tables of docs/benchmarks.md.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/arm_lpae.hpp>
#include <passthru/pgtable/page_table.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

#include "page_aligned.hpp"

using namespace passthru;
using namespace passthru::pgtable;

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::uint64_t window = 1 * GiB;
constexpr std::uint64_t iova_base = 512 * GiB; // a fresh root-level slot
constexpr std::uint64_t pa_base = 4 * GiB;
constexpr prot rw = prot::read | prot::write | prot::cache;

using arm_s1 = arm_lpae<arm_lpae_config{}>;
using arm_s1_hd = arm_lpae<arm_lpae_config{.quirks = {.hd = true}}>;
using vtd4 = vtd_ss<vtd_ss_config{.levels = 4, .force_snoop = true}>;
using vtd4_dirty = vtd_ss<vtd_ss_config{.levels = 4, .force_snoop = true, .dirty_tracking = true}>;
using amd4 = amd_v1<amd_v1_config{.mode = 4}>;
using amd6 = amd_v1<amd_v1_config{.mode = 6}>;
using amd4_dirty = amd_v1<amd_v1_config{.mode = 4, .dirty_tracking = true}>;

double seconds(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// A table over an arena big enough for 1 GiB of 4K pages, plus scratch for baselines.
template <class F>
struct bench_table {
    static constexpr std::size_t unit = std::size_t{1} << F::table_lg2(0);
    bench::page_aligned memory;
    arena_allocator arena;
    page_table<F, arena_allocator> table;

    bench_table()
        : memory((window / (unit << 12) + 64) * unit * 2),
          arena(memory, phys_addr{0x1'0000'0000}, unit),
          table(arena, *arena.alloc_table(std::size_t{1} << F::table_lg2(F::top_level))) {}
};

// Time memset and the bare descriptor loop over n descriptors, as baselines.
struct floors {
    double memset_s = 0, loop_s = 0;
    void measure(std::vector<pte_t>& scratch, std::size_t n, pte_t first, std::uint64_t step) {
        auto t0 = clock_type::now();
        std::memset(scratch.data(), 0, n * sizeof(pte_t));
        benchmark::ClobberMemory();
        auto t1 = clock_type::now();
        pte_t v = first;
        for (std::size_t i = 0; i < n; ++i, v += step) scratch[i] = v;
        benchmark::ClobberMemory();
        auto t2 = clock_type::now();
        memset_s += seconds(t0, t1);
        loop_s += seconds(t1, t2);
    }
};

void report(benchmark::State& state, double op_s, const floors& f, std::size_t n) {
    const double it = static_cast<double>(state.iterations());
    state.counters["desc"] = static_cast<double>(n);
    state.counters["memset_us"] = f.memset_s / it * 1e6;
    state.counters["loop_us"] = f.loop_s / it * 1e6;
    state.counters["x_memset"] = op_s / f.memset_s;
    state.counters["loop_x_memset"] = f.loop_s / f.memset_s;
}

template <class F>
void bm_map_1g(benchmark::State& state) {
    const std::uint64_t leaf = static_cast<std::uint64_t>(state.range(0));
    const std::size_t n = window / leaf;
    bench_table<F> b;
    std::vector<pte_t> scratch(n);
    floors f;
    double op_s = 0;
    const pte_t first = F::make_leaf(phys_addr{pa_base}, leaf == 4 * KiB ? 0 : 1,
                                     leaf == 4 * KiB ? 12 : 21, rw);
    for (auto _ : state) {
        f.measure(scratch, n, first, leaf);
        auto t0 = clock_type::now();
        auto r = b.table.map(iova{iova_base}, phys_addr{pa_base}, window, rw, pgsize_bitmap{leaf});
        benchmark::ClobberMemory();
        auto t1 = clock_type::now();
        if (!r) state.SkipWithError("map failed");
        state.SetIterationTime(seconds(t0, t1));
        op_s += seconds(t0, t1);
        b.table.unmap(iova{iova_base}, window);
    }
    report(state, op_s, f, n);
}

template <class F>
void bm_unmap_1g(benchmark::State& state) {
    const std::uint64_t leaf = static_cast<std::uint64_t>(state.range(0));
    const std::size_t n = window / leaf;
    bench_table<F> b;
    std::vector<pte_t> scratch(n);
    floors f;
    double op_s = 0;
    for (auto _ : state) {
        f.measure(scratch, n, 0, 0);
        if (!b.table.map(iova{iova_base}, phys_addr{pa_base}, window, rw, pgsize_bitmap{leaf}))
            state.SkipWithError("map failed");
        iotlb_gather g;
        auto t0 = clock_type::now();
        const std::uint64_t done = b.table.unmap(iova{iova_base}, window, g);
        benchmark::ClobberMemory();
        auto t1 = clock_type::now();
        if (done != window) state.SkipWithError("unmap short");
        b.table.release(g);
        state.SetIterationTime(seconds(t0, t1));
        op_s += seconds(t0, t1);
    }
    report(state, op_s, f, n);
}

// Latency of one translation in a table holding 1 GiB of 4K pages, over random IOVAs.
template <class F>
void bm_iova_to_phys(benchmark::State& state) {
    bench_table<F> b;
    if (!b.table.map(iova{iova_base}, phys_addr{pa_base}, window, rw, pgsize_bitmap{4 * KiB}))
        state.SkipWithError("map failed");
    std::mt19937_64 rng(1);
    std::vector<iova> probes(4096);
    for (auto& p : probes) p = iova{iova_base + (rng() % window)};
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(b.table.iova_to_phys(probes[i++ & 4095]));
    }
    state.SetItemsProcessed(state.iterations());
}

// Dirty harvest over 1 GiB of 4K pages with one page in eight written, so every cache line
// of the 2 MiB of leaf tables holds a dirty slot. Baselines over the same bytes, in the
// same iteration:
//   of_read   read time / harvest time, the read a XOR-reduce of every slot (the issue's
//             target: >= 0.5)
//   of_rmw    (read + clean floor) / harvest time, the clean floor being one
//             read-modify-write per cache line: the least any clean can write, since every
//             line then goes back to memory dirty
// With clear = false (IOMMU_DIRTY_NO_CLEAR) the harvest only reads; of_rmw then still
// counts the floor.
//
// The read: a XOR of every slot into 8 accumulators, a cache line per step, in one
// out-of-line copy with the widest vectors the CPU has, so that it is the fastest plain
// read of these bytes. A copy inlined into each benchmark, 16 bytes per step, read them in
// 22 us or 37 us depending on where its loop landed (here, AMD EPYC Zen 4).
[[gnu::noinline, gnu::target_clones("avx512f", "avx2", "default")]] pte_t xor_of(const std::vector<pte_t*>& leaves) {
    std::array<pte_t, 8> x{};
    for (const pte_t* t : leaves)
        for (std::size_t s = 0; s < 512; s += 8)
            for (std::size_t k = 0; k < 8; ++k) x[k] ^= t[s + k];
    return x[0] ^ x[1] ^ x[2] ^ x[3] ^ x[4] ^ x[5] ^ x[6] ^ x[7];
}

template <class F, class MakeDirty>
void bm_dirty(benchmark::State& state, MakeDirty make_dirty, bool clear) {
    bench_table<F> b;
    if (!b.table.map(iova{iova_base}, phys_addr{pa_base}, window, rw, pgsize_bitmap{4 * KiB}))
        state.SkipWithError("map failed");
    std::vector<std::uint64_t> words(window / (4 * KiB) / 64);
    // The leaf tables, found once: the device's writes are simulated on them directly.
    std::vector<pte_t*> leaves;
    for (std::uint64_t io = iova_base; io < iova_base + window; io += 2 * MiB) {
        const pte_t* t = b.arena.table_at(b.table.root());
        for (unsigned l = F::top_level; l > 0; --l)
            t = b.arena.table_at(F::table_pa(t[(io >> F::item_lg2(l)) & ((1u << F::table_lg2(l)) - 1)]));
        leaves.push_back(const_cast<pte_t*>(t));
    }
    double op_s = 0, read_s = 0, rmw_s = 0;
    for (auto _ : state) {
        for (pte_t* t : leaves)
            for (std::size_t s = 0; s < 512; s += 8) t[s] = make_dirty(t[s]);
        std::fill(words.begin(), words.end(), 0);
        iotlb_gather g;
        dirty_bitmap bits{iova{iova_base}, 4 * KiB, words};
        auto t0 = clock_type::now();
        benchmark::DoNotOptimize(xor_of(leaves));
        auto t1 = clock_type::now();
        pte_t zero = 0;
        benchmark::DoNotOptimize(zero);
        for (pte_t* t : leaves)
            for (std::size_t s = 0; s < 512; s += 8) t[s] ^= zero;
        benchmark::ClobberMemory();
        auto t2 = clock_type::now();
        auto r = b.table.read_and_clear_dirty(iova{iova_base}, window, bits, g, clear);
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
        auto t3 = clock_type::now();
        read_s += seconds(t0, t1);
        rmw_s += seconds(t1, t2);
        op_s += seconds(t2, t3);
        state.SetIterationTime(seconds(t2, t3));
    }
    const double it = static_cast<double>(state.iterations());
    state.counters["read_us"] = read_s / it * 1e6;
    state.counters["of_read"] = read_s / op_s;
    state.counters["of_rmw"] = (read_s + rmw_s) / op_s;
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(window / (4 * KiB) * 8));
}

// 1 GiB mapped as 262,144 separate 4K map calls, the way the type1 engine maps pages pinned
// one run at a time: through a map session (page_table::map_session) and, as the baseline
// in the same iteration, through page_table::map, which walks from the root each time.
//   x_map_calls   session time / map-call time
template <class F>
void bm_map_pages(benchmark::State& state) {
    bench_table<F> b;
    const std::size_t n = window / (4 * KiB);
    double session_s = 0, calls_s = 0;
    for (auto _ : state) {
        auto t0 = clock_type::now();
        auto m = b.table.map_session();
        for (std::size_t i = 0; i < n; ++i)
            if (!m.map(iova{iova_base + i * 4 * KiB}, phys_addr{pa_base + i * 4 * KiB}, 4 * KiB, rw))
                state.SkipWithError("map failed");
        benchmark::ClobberMemory();
        auto t1 = clock_type::now();
        b.table.unmap(iova{iova_base}, window);
        auto t2 = clock_type::now();
        for (std::size_t i = 0; i < n; ++i)
            if (!b.table.map(iova{iova_base + i * 4 * KiB}, phys_addr{pa_base + i * 4 * KiB}, 4 * KiB, rw))
                state.SkipWithError("map failed");
        benchmark::ClobberMemory();
        auto t3 = clock_type::now();
        b.table.unmap(iova{iova_base}, window);
        session_s += seconds(t0, t1);
        calls_s += seconds(t2, t3);
        state.SetIterationTime(seconds(t0, t1));
    }
    const double it = static_cast<double>(state.iterations());
    state.counters["calls_us"] = calls_s / it * 1e6;
    state.counters["ns_per_page"] = session_s / it / static_cast<double>(n) * 1e9;
    state.counters["x_map_calls"] = session_s / calls_s;
}

void leaf_args(benchmark::internal::Benchmark* b) {
    b->Arg(4 * KiB)->Arg(2 * MiB)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

} // namespace

BENCHMARK(bm_map_1g<arm_s1>)->Apply(leaf_args)->Name("map_1GiB/arm_lpae_s1_4k");
BENCHMARK(bm_map_1g<vtd4>)->Apply(leaf_args)->Name("map_1GiB/vtd_ss_4level");
BENCHMARK(bm_map_1g<amd4>)->Apply(leaf_args)->Name("map_1GiB/amd_v1_mode4");
BENCHMARK(bm_map_1g<amd6>)->Apply(leaf_args)->Name("map_1GiB/amd_v1_mode6");
BENCHMARK(bm_unmap_1g<arm_s1>)->Apply(leaf_args)->Name("unmap_1GiB/arm_lpae_s1_4k");
BENCHMARK(bm_unmap_1g<vtd4>)->Apply(leaf_args)->Name("unmap_1GiB/vtd_ss_4level");
BENCHMARK(bm_unmap_1g<amd4>)->Apply(leaf_args)->Name("unmap_1GiB/amd_v1_mode4");
BENCHMARK(bm_unmap_1g<amd6>)->Apply(leaf_args)->Name("unmap_1GiB/amd_v1_mode6");
BENCHMARK(bm_iova_to_phys<arm_s1>)->Name("iova_to_phys/arm_lpae_s1_4k");
BENCHMARK(bm_iova_to_phys<vtd4>)->Name("iova_to_phys/vtd_ss_4level");
BENCHMARK(bm_iova_to_phys<amd4>)->Name("iova_to_phys/amd_v1_mode4");
BENCHMARK(bm_iova_to_phys<amd6>)->Name("iova_to_phys/amd_v1_mode6");
// Writes as the hardware records them: ARM clears AP[2] on a DBM leaf (§8), VT-d sets
// D (bit 9), AMD sets D (bit 6).
template <bool Clear>
void dirty_arm(benchmark::State& s) { bm_dirty<arm_s1_hd>(s, [](pte_t e) { return e & ~(pte_t{1} << 7); }, Clear); }
template <bool Clear>
void dirty_vtd(benchmark::State& s) { bm_dirty<vtd4_dirty>(s, [](pte_t e) { return e | (pte_t{1} << 9); }, Clear); }
template <bool Clear>
void dirty_amd(benchmark::State& s) { bm_dirty<amd4_dirty>(s, [](pte_t e) { return e | (pte_t{1} << 6); }, Clear); }
BENCHMARK(dirty_arm<true>)->Name("dirty_harvest_1GiB/arm_lpae_s1_4k_hd")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(dirty_vtd<true>)->Name("dirty_harvest_1GiB/vtd_ss_4level")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(dirty_amd<true>)->Name("dirty_harvest_1GiB/amd_v1_mode4")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(dirty_arm<false>)->Name("dirty_harvest_no_clear_1GiB/arm_lpae_s1_4k_hd")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(dirty_vtd<false>)->Name("dirty_harvest_no_clear_1GiB/vtd_ss_4level")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(dirty_amd<false>)->Name("dirty_harvest_no_clear_1GiB/amd_v1_mode4")->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_map_pages<arm_s1>)->Name("map_4K_calls_1GiB/arm_lpae_s1_4k")->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_map_pages<vtd4>)->Name("map_4K_calls_1GiB/vtd_ss_4level")->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_map_pages<amd4>)->Name("map_4K_calls_1GiB/amd_v1_mode4")->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
