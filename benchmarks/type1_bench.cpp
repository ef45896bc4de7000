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
//   dma_store_65535_latency   lookups like those, made one after another, each waiting
//                     for the one before: latency_ns, latency_map_ns, latency_x.
//   container_map_1GiB/<memory>   MAP_DMA of 1 GiB on a VT-d container through the
//                     in-memory pinner (scattered 4K frames, or 2M-contiguous memory),
//                     against the bare page-table map of the same runs. Counter x =
//                     container / bare (target <= 1.5). Then UNMAP_DMA of it against the
//                     bare table unmapping the same runs: unmap_ms, unmap_bare_ms, unmap_x.
//   container_65535_maps_unmap_all   65,535 separate 4K MAP_DMAs then one UNMAP_ALL,
//                     against the bare table mapping and unmapping the same pages (x).
//   container_replay_65535   attaching a group of a second IOMMU unit to a container
//                     holding 65,535 4K mappings (A17 replay), against mapping the same
//                     pages into a fresh table (x).
//                   In all three the container and the bare table take turns going first.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/platforms/catalog.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/dma_store.hpp>

#include "page_aligned.hpp"
#include "store_records.hpp"

using namespace passthru;

namespace {

using clock_type = std::chrono::steady_clock;

using bench::mapping;

double seconds(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Times two steps, each going first in every other round: whichever of the container and
// the bare table ran second was faster (on Zen 4, the bare table's scattered 1 GiB map took
// 5.7 ms right after the container's and about 9.4 ms before it), so a fixed order decided
// the ratio. Returns {a's time, b's time}.
template <class A, class B>
std::pair<double, double> in_turns(std::size_t round, A&& a, B&& b) {
    const auto timed = [](auto& step) {
        const auto t0 = clock_type::now();
        step();
        return seconds(t0, clock_type::now());
    };
    if (round % 2 == 1) {
        const double tb = timed(b);
        return {timed(a), tb};
    }
    const double ta = timed(a);
    return {ta, timed(b)};
}

// 65,535 records scattered over 4 GiB, in the store and in a std::map, inserted in a
// random order.
struct store_rig {
    static constexpr std::size_t live = bench::store_live, batch = 1024;
    std::mt19937_64 rng{7};
    std::vector<mapping> recs = bench::scattered_mappings(rng);
    type1::dma_store<mapping> store;
    std::map<std::uint64_t, mapping> map;

    store_rig() {
        for (const auto& r : recs) {
            store.insert(r);
            map.emplace(r.iova.value, r);
        }
    }
    // Random IOVAs inside random records (each found).
    void draw(std::vector<std::uint64_t>& probes) { bench::draw_probes(recs, rng, probes); }
};

void bm_store(benchmark::State& state) {
    store_rig rig;
    const auto& recs = rig.recs;
    auto& store = rig.store;
    auto& map = rig.map;
    constexpr std::size_t live = store_rig::live, batch = store_rig::batch;
    std::vector<std::uint64_t> probes(batch);
    double t_look = 0, t_look_map = 0, t_ins = 0, t_ins_map = 0, t_era = 0, t_era_map = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        rig.draw(probes);
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

// Lookups like dma_store_65535's, made one after another, each address depending on the
// previous answer (through `chain`, always 0): the latency one MAP_DMA or UNMAP_DMA sees,
// where dma_store_65535 lets the CPU overlap independent lookups. Counters per lookup:
// latency_ns (the store), latency_map_ns (std::map), latency_x (map / store).
void bm_store_latency(benchmark::State& state) {
    store_rig rig;
    std::vector<std::uint64_t> probes(store_rig::batch);
    static volatile std::uint64_t zero = 0;
    const std::uint64_t dep = zero; // 0, unknown to the compiler
    double t_store = 0, t_map = 0;
    std::uint64_t chain = 0;
    for (auto _ : state) {
        rig.draw(probes);
        auto t0 = clock_type::now();
        for (std::uint64_t p : probes) chain = rig.store.containing(iova{p + (chain & dep)})->vaddr;
        auto t1 = clock_type::now();
        rig.draw(probes);
        auto t2 = clock_type::now();
        for (std::uint64_t p : probes) chain = std::prev(rig.map.upper_bound(p + (chain & dep)))->second.vaddr;
        auto t3 = clock_type::now();
        benchmark::DoNotOptimize(chain);
        t_store += seconds(t0, t1);
        t_map += seconds(t2, t3);
        state.SetIterationTime(seconds(t0, t1));
    }
    const double ops = static_cast<double>(state.iterations()) * store_rig::batch;
    state.counters["latency_ns"] = t_store / ops * 1e9;
    state.counters["latency_map_ns"] = t_map / ops * 1e9;
    state.counters["latency_x"] = t_map / t_store;
}
BENCHMARK(bm_store_latency)->Name("dma_store_65535_latency")->UseManualTime()->Unit(benchmark::kMicrosecond);

// A VT-d container wired to an arena and the in-memory pinner.
using vtd_platform = x86_vtd_ir<>;
using vtd_iommu = vtd_platform::iommu;
using vtd_factory = type1::table_domains<vtd_iommu, pgtable::arena_allocator>;
using vtd_container = type1::container<vtd_platform, vtd_factory, type1::memory_pinner>;
using vtd_table = pgtable::page_table<vtd_iommu::table_format, pgtable::arena_allocator>;

constexpr std::uint64_t ram_va = 0x7f00'0000'0000, gib = std::uint64_t{1} << 30, page = 4096;

struct rig {
    explicit rig(type1::memory_pinner::backing kind, std::size_t units = 8192)
        : memory(units * 512), arena(memory, phys_addr{0x10'0000'0000}), factory(arena),
          bare_memory(units * 512), bare_arena(bare_memory, phys_addr{0x20'0000'0000}) {
        (void)pinner.add({ram_va, gib / page, kind, phys_addr{0x40'0000'0000}, true, 99});
    }
    bench::page_aligned memory;
    pgtable::arena_allocator arena;
    vtd_factory factory;
    type1::memory_pinner pinner;
    bench::page_aligned bare_memory;
    pgtable::arena_allocator bare_arena;
};

// The pinned runs of [va, va+size) as the container would see them.
std::vector<std::pair<phys_addr, std::uint64_t>> runs_of(type1::memory_pinner& p, std::uint64_t va, std::uint64_t size) {
    std::vector<std::pair<phys_addr, std::uint64_t>> runs;
    std::array<type1::pinned_run, 64> got{};
    for (std::uint64_t done = 0; done < size / page;) {
        auto n = p.pin(va + done * page, size / page - done, true, got);
        if (!n) break;
        for (std::size_t i = 0; i < *n; ++i) {
            const auto& r = got[i];
            if (!runs.empty() && runs.back().first.value + runs.back().second == r.pa.value) runs.back().second += r.pages * page;
            else runs.emplace_back(r.pa, r.pages * page);
            p.unpin(r.pa, r.pages);
            done += r.pages;
        }
    }
    return runs;
}

void bm_container_map(benchmark::State& state) {
    const auto kind = state.range(0) ? type1::memory_pinner::backing::huge_2m : type1::memory_pinner::backing::scattered;
    rig r(kind);
    const auto runs = runs_of(r.pinner, ram_va, gib);
    const pgsize_bitmap sizes = vtd_iommu::pgsizes;
    double t_c = 0, t_b = 0, u_c = 0, u_b = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        vtd_container c(type1::iommu_mode::v2, r.factory, r.pinner);
        if (!c.attach(type1::group{.id = 1})) state.SkipWithError("attach");
        auto bare = vtd_table::create(r.bare_arena);
        if (!bare) state.SkipWithError("table");
        const auto [tc, tb] = in_turns(
            round++, [&] { if (!c.map(iova{gib}, gib, ram_va, prot_rw)) state.SkipWithError("map"); },
            [&] {
                std::uint64_t io = gib;
                for (const auto& [pa, len] : runs) {
                    if (!bare->map(iova{io}, pa, len, prot_rw | prot::cache, sizes)) state.SkipWithError("bare map");
                    io += len;
                }
            });
        t_c += tc;
        t_b += tb;
        state.SetIterationTime(tc);
        // UNMAP_DMA of the same GiB (finding the runs again, unpinning them) against the
        // bare table unmapping the runs it mapped.
        const auto [uc, ub] = in_turns(
            round, [&] { if (!c.unmap(iova{gib}, gib)) state.SkipWithError("unmap"); },
            [&] {
                std::uint64_t io = gib;
                for (const auto& run : runs) {
                    (void)bare->unmap(iova{io}, run.second);
                    io += run.second;
                }
            });
        u_c += uc;
        u_b += ub;
    }
    const double n = static_cast<double>(state.iterations());
    state.counters["bare_ms"] = t_b / n * 1e3;
    state.counters["x"] = t_c / t_b;
    state.counters["unmap_ms"] = u_c / n * 1e3;
    state.counters["unmap_bare_ms"] = u_b / n * 1e3;
    state.counters["unmap_x"] = u_c / u_b;
}
BENCHMARK(bm_container_map)->Name("container_map_1GiB/scattered_4K")->Arg(0)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(10);
BENCHMARK(bm_container_map)->Name("container_map_1GiB/contiguous_2M")->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

void bm_container_many(benchmark::State& state) {
    constexpr std::uint64_t n = 65535;
    rig r(type1::memory_pinner::backing::scattered);
    const pgsize_bitmap sizes = vtd_iommu::pgsizes;
    double t_c = 0, t_b = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        vtd_container c(type1::iommu_mode::v2, r.factory, r.pinner);
        if (!c.attach(type1::group{.id = 1})) state.SkipWithError("attach");
        std::array<type1::pinned_run, 1> pg{};
        auto bare = vtd_table::create(r.bare_arena);
        if (!bare) state.SkipWithError("table");
        const auto [tc, tb] = in_turns(
            round++,
            [&] {
                for (std::uint64_t i = 0; i < n; ++i)
                    if (!c.map(iova{gib + i * page}, page, ram_va + i * page, prot_rw)) state.SkipWithError("map");
                auto all = c.unmap_all();
                if (!all || *all != n * page) state.SkipWithError("unmap_all");
            },
            [&] {
                for (std::uint64_t i = 0; i < n; ++i) {
                    (void)r.pinner.pin(ram_va + i * page, 1, true, pg);
                    if (!bare->map(iova{gib + i * page}, pg[0].pa, page, prot_rw | prot::cache, sizes))
                        state.SkipWithError("bare");
                }
                for (std::uint64_t i = 0; i < n; ++i) {
                    const auto pa = bare->iova_to_phys(iova{gib + i * page});
                    (void)bare->unmap(iova{gib + i * page}, page);
                    r.pinner.unpin(*pa, 1);
                }
            });
        t_c += tc;
        t_b += tb;
        state.SetIterationTime(tc);
    }
    state.counters["bare_ms"] = t_b / static_cast<double>(state.iterations()) * 1e3;
    state.counters["x"] = t_c / t_b;
}
BENCHMARK(bm_container_many)->Name("container_65535_maps_unmap_all")->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(10);

void bm_container_replay(benchmark::State& state) {
    constexpr std::uint64_t n = 65535;
    rig r(type1::memory_pinner::backing::scattered, 16384);
    const pgsize_bitmap sizes = vtd_iommu::pgsizes;
    vtd_container c(type1::iommu_mode::v2, r.factory, r.pinner);
    if (!c.attach(type1::group{.id = 1})) state.SkipWithError("attach");
    for (std::uint64_t i = 0; i < n; ++i)
        if (!c.map(iova{gib + i * page}, page, ram_va + i * page, prot_rw)) state.SkipWithError("map");
    double t_c = 0, t_b = 0;
    std::size_t round = 0;
    for (auto _ : state) {
        auto bare = vtd_table::create(r.bare_arena);
        if (!bare) state.SkipWithError("table");
        const auto [tc, tb] = in_turns(
            round++,
            [&] {
                auto a = c.attach(type1::group{.id = 2, .iommu_unit = 1});
                if (!a || c.domain_count() != 2) state.SkipWithError("replay");
            },
            [&] {
                std::uint64_t io = gib;
                for (std::uint64_t i = 0; i < n; ++i) {
                    const auto pa = c.domain(c.domain_count() - 1).dom.iova_to_phys(iova{io});
                    if (!bare->map(iova{io}, *pa, page, prot_rw | prot::cache, sizes)) state.SkipWithError("bare");
                    io += page;
                }
            });
        state.PauseTiming();
        (void)c.detach(2);
        (void)bare->unmap(iova{gib}, n * page);
        state.ResumeTiming();
        t_c += tc;
        t_b += tb;
        state.SetIterationTime(tc);
    }
    state.counters["bare_ms"] = t_b / static_cast<double>(state.iterations()) * 1e3;
    state.counters["x"] = t_c / t_b;
}
BENCHMARK(bm_container_replay)->Name("container_replay_65535")->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(6);

} // namespace

BENCHMARK_MAIN();
