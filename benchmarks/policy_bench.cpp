// What the compile-time verdict costs at run time: nothing. A platform's usable IOVA list
// read from platform::usable_iova (a constexpr array) next to usable_iova_ranges(), which
// builds a std::vector, in the same run.
//   x_vector   vector time / array time
#include <benchmark/benchmark.h>

#include <passthru/platforms/catalog.hpp>

namespace {

using board = passthru::x86_amdvi_ir<>;

void bm_usable_array(benchmark::State& state) {
    for (auto _ : state) {
        // What a VMM does with the list: sum the usable bytes.
        std::uint64_t bytes = 0;
        for (const passthru::interval& i : board::usable_iova) bytes += i.span();
        benchmark::DoNotOptimize(bytes);
    }
}

void bm_usable_vector(benchmark::State& state) {
    for (auto _ : state) {
        std::uint64_t bytes = 0;
        for (const passthru::interval& i : board::usable_iova_ranges()) bytes += i.span();
        benchmark::DoNotOptimize(bytes);
    }
}

} // namespace

BENCHMARK(bm_usable_array)->Name("usable_iova/constexpr_array");
BENCHMARK(bm_usable_vector)->Name("usable_iova/usable_iova_ranges");

BENCHMARK_MAIN();
