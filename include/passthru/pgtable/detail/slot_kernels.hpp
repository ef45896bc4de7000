#pragma once
// The store loop of the map hot path, vectorised for the machine it runs on. A table
// fill writes v, v + step, v + 2·step, ... : at the default -O2 g++ emits it one slot at a
// time, and even -O3 only reaches 16-byte stores where glibc's memset uses 32-byte ones.
// On x86-64 with AVX2 (checked once, at start-up) the fill uses 32-byte vector stores
// written with the compilers' vector extensions, compiled for AVX2 through
// target("avx2") and chosen at run time, so users need no -march flag; everywhere else,
// and in constant evaluation, it is the plain loop.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <passthru/concepts/page_table_format.hpp>

namespace passthru::pgtable::detail {

constexpr void fill_linear_plain(pte_t* t, std::size_t n, pte_t v, std::uint64_t step) noexcept {
    for (std::size_t i = 0; i < n; ++i, v += step) t[i] = v;
}

#if defined(__x86_64__) && defined(__GNUC__)
using pte_x4 = std::uint64_t __attribute__((vector_size(32)));

[[gnu::target("avx2")]] inline void fill_linear_avx2(pte_t* t, std::size_t n, pte_t v,
                                                     std::uint64_t step) noexcept {
    // Two 32-byte stores per step of 8 slots: one cache line.
    const std::size_t blocks = n / 8;
    pte_x4 x = {v, v + step, v + 2 * step, v + 3 * step};
    const std::uint64_t s4 = 4 * step;
    const pte_x4 inc = {s4, s4, s4, s4};
    for (std::size_t b = 0; b < blocks; ++b) {
        __builtin_memcpy(t + 8 * b, &x, sizeof x);
        x += inc;
        __builtin_memcpy(t + 8 * b + 4, &x, sizeof x);
        x += inc;
    }
    fill_linear_plain(t + 8 * blocks, n - 8 * blocks, v + 8 * blocks * step, step);
}

inline const bool cpu_has_avx2 = __builtin_cpu_supports("avx2");
#endif

// t[i] = v + i·step for i < n.
constexpr void fill_linear(pte_t* t, std::size_t n, pte_t v, std::uint64_t step) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if (!std::is_constant_evaluated() && cpu_has_avx2) {
        fill_linear_avx2(t, n, v, step);
        return;
    }
#endif
    fill_linear_plain(t, n, v, step);
}

} // namespace passthru::pgtable::detail
