// Instructions per iova_to_phys and per mapping-store operation, counted by callgrind
// (scripts/bench --summary): unlike a time, the count is the same on every run and every
// machine that runs the same binary, so a regression in a walk shows as a number, not as
// noise. Each format's table holds 1 GiB of 4K pages; `lookups<F>` translates 100,000
// random IOVAs in it. The store holds 65,535 records laid out as type1_bench's
// dma_store_65535 lays them out; `store_lookup_run` makes 100,000 lookups in it, and
// `store_erase_run` and `store_insert_run` erase and put back 20 batches of 1,024.
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/arm_lpae.hpp>
#include <passthru/pgtable/page_table.hpp>
#include <passthru/pgtable/vtd_ss.hpp>
#include <passthru/type1/dma_store.hpp>

#include "store_records.hpp"

using namespace passthru;
using namespace passthru::pgtable;

namespace {
constexpr int probes = 100'000;

template <class F>
[[gnu::noinline]] std::uint64_t lookups(const page_table<F, arena_allocator>& t,
                                        const std::vector<std::uint64_t>& at) {
    std::uint64_t sum = 0;
    for (const std::uint64_t io : at) {
        const auto pa = t.iova_to_phys(iova{io});
        sum += pa ? pa->value : 1;
    }
    return sum;
}

template <class F>
void run() {
    std::vector<pte_t> memory(600 * 512);
    arena_allocator arena(memory, phys_addr{0x1'0000'0000});
    page_table<F, arena_allocator> t(arena, *arena.alloc_table(std::size_t{1} << F::table_lg2(F::top_level)));
    const std::uint64_t base = std::uint64_t{512} << 30;
    if (!t.map(iova{base}, phys_addr{std::uint64_t{4} << 30}, std::uint64_t{1} << 30,
               prot::read | prot::write, pgsize_bitmap{4096}))
        return;
    std::mt19937_64 rng(1);
    std::vector<std::uint64_t> at(probes);
    for (auto& io : at) io = base + rng() % (std::uint64_t{1} << 30);
    std::printf("%s %llu\n", F::name.data(), static_cast<unsigned long long>(lookups(t, at)));
}

using bench::mapping;
using store = type1::dma_store<mapping>;

[[gnu::noinline]] std::uint64_t store_lookup_run(const store& s, const std::vector<std::uint64_t>& at) {
    std::uint64_t sum = 0;
    for (const std::uint64_t io : at) sum += s.containing(iova{io})->vaddr;
    return sum;
}
[[gnu::noinline]] void store_erase_run(store& s, const mapping* from, const mapping* to) {
    for (; from != to; ++from) s.erase(s.find(from->iova));
}
[[gnu::noinline]] void store_insert_run(store& s, const mapping* from, const mapping* to) {
    for (; from != to; ++from) s.insert(*from);
}

void run_store() {
    constexpr std::size_t batch = 1024, batches = 20;
    std::mt19937_64 rng(7);
    const std::vector<mapping> recs = bench::scattered_mappings(rng);
    store s;
    for (const mapping& r : recs) s.insert(r);
    std::vector<std::uint64_t> at(probes);
    bench::draw_probes(recs, rng, at);
    std::uint64_t sum = store_lookup_run(s, at);
    for (std::size_t b = 0; b < batches; ++b) {
        const mapping* from = recs.data() + b * batch;
        store_erase_run(s, from, from + batch);
        store_insert_run(s, from, from + batch);
    }
    std::printf("dma_store %llu %zu\n", static_cast<unsigned long long>(sum), s.size());
}
} // namespace

int main() {
    run_store();
    run<arm_lpae<arm_lpae_config{}>>();
    run<vtd_ss<vtd_ss_config{.levels = 4, .force_snoop = true}>>();
    run<amd_v1<amd_v1_config{.mode = 4}>>();
    run<amd_v1<amd_v1_config{.mode = 6}>>();
}
