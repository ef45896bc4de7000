#pragma once
// A store leaf's sorted first-IOVAs (dma_store.hpp) moved one place at a position q that
// the leaf itself gives (its search result), so q arrives with a line from memory. Every
// key is rewritten in one fixed pass: all loaded, blended by position mask, all stored.
// g++ 12 makes the plain loop a branch on q (a jump into an unrolled sequence), and the
// same masks written in plain C++ a vectorised loop that reloads keys across the stores it
// has just made; both were slower. With SSE2 (every x86-64), on Zen 4, dma_store_65535's
// erase took 102 ns instead of 123 and its insert 76 instead of 87 (medians of 7
// alternating runs: scripts/bench-compare d6bbe91 type1_bench dma_store 7).
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__x86_64__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

namespace passthru::type1::detail {

inline constexpr std::uint64_t key_pad = ~std::uint64_t{0};

#if defined(__x86_64__) && defined(__GNUC__)
namespace sse {
// 64-bit lane masks of positions 2j and 2j + 1 that are above t (t ≥ -1).
inline __m128i above(int j, int t) noexcept {
    const __m128i m = _mm_cmpgt_epi32(_mm_set_epi32(0, 2 * j + 1, 0, 2 * j), _mm_set1_epi32(t));
    return _mm_shuffle_epi32(m, 0xA0);
}
inline __m128i blend(__m128i m, __m128i a, __m128i b) noexcept {
    return _mm_or_si128(_mm_and_si128(m, a), _mm_andnot_si128(m, b));
}
// The pair made of a's high key and b's low key.
inline __m128i straddle(__m128i a, __m128i b) noexcept {
    return _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd(a), _mm_castsi128_pd(b), 1));
}
} // namespace sse
#endif

// Remove position q: keys after it move down, the last becomes pad.
template <std::size_t N>
constexpr void close_key(std::array<std::uint64_t, N>& key, std::size_t q) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if constexpr (N % 2 == 0) {
        if (!std::is_constant_evaluated()) {
            constexpr int pairs = static_cast<int>(N / 2);
            auto* p = reinterpret_cast<__m128i*>(key.data());
            __m128i k[pairs + 1];
            for (int j = 0; j < pairs; ++j) k[j] = _mm_load_si128(p + j);
            k[pairs] = _mm_set1_epi64x(-1);
            const int t = static_cast<int>(q) - 1;
            for (int j = 0; j < pairs; ++j)
                _mm_store_si128(p + j, sse::blend(sse::above(j, t), sse::straddle(k[j], k[j + 1]), k[j]));
            return;
        }
    }
#endif
    for (std::size_t i = 0; i + 1 < N; ++i) key[i] = key[i + (i >= q ? 1 : 0)];
    key[N - 1] = key_pad;
}

// Open position q for k: keys from q move up, the last falls off (the caller has room).
template <std::size_t N>
constexpr void open_key(std::array<std::uint64_t, N>& key, std::size_t q, std::uint64_t k) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
    if constexpr (N % 2 == 0) {
        if (!std::is_constant_evaluated()) {
            constexpr int pairs = static_cast<int>(N / 2);
            auto* p = reinterpret_cast<__m128i*>(key.data());
            __m128i old[pairs + 1]; // old[j + 1] is pair j; old[0] feeds only lanes that are not kept
            old[0] = _mm_setzero_si128();
            for (int j = 0; j < pairs; ++j) old[j + 1] = _mm_load_si128(p + j);
            const __m128i fresh = _mm_set1_epi64x(static_cast<long long>(k));
            const int t = static_cast<int>(q);
            for (int j = 0; j < pairs; ++j) {
                const __m128i kept = sse::blend(sse::above(j, t - 1), fresh, old[j + 1]); // from q on: k
                _mm_store_si128(p + j, sse::blend(sse::above(j, t), sse::straddle(old[j], old[j + 1]), kept));
            }
            return;
        }
    }
#endif
    for (std::size_t i = N - 1; i > 0; --i) key[i] = key[i - (i > q ? 1 : 0)];
    key[q] = k;
}

} // namespace passthru::type1::detail
