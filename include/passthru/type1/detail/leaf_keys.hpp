#pragma once
// A store leaf's sorted first-IOVAs (dma_store.hpp) moved one place at a position q that
// the leaf itself gives (its search result): every key rewritten in one fixed pass.
#include <array>
#include <cstddef>
#include <cstdint>

namespace passthru::type1::detail {

inline constexpr std::uint64_t key_pad = ~std::uint64_t{0};

// Remove position q: keys after it move down, the last becomes pad.
template <std::size_t N>
constexpr void close_key(std::array<std::uint64_t, N>& key, std::size_t q) noexcept {
    for (std::size_t i = 0; i + 1 < N; ++i) key[i] = key[i + (i >= q ? 1 : 0)];
    key[N - 1] = key_pad;
}

// Open position q for k: keys from q move up, the last falls off (the caller has room).
template <std::size_t N>
constexpr void open_key(std::array<std::uint64_t, N>& key, std::size_t q, std::uint64_t k) noexcept {
    for (std::size_t i = N - 1; i > 0; --i) key[i] = key[i - (i > q ? 1 : 0)];
    key[q] = k;
}

} // namespace passthru::type1::detail
