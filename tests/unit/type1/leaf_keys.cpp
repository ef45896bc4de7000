// type1::detail::close_key / open_key (the mapping store's key line, SEMANTICS 2): at every
// position, for key lines of even length (the vector path on x86-64, where there is one)
// and odd length (always the plain loop), the same keys as erasing from or inserting into a
// sorted vector; and the plain loop in constant evaluation.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/type1/detail/leaf_keys.hpp>

using passthru::type1::detail::close_key;
using passthru::type1::detail::key_pad;
using passthru::type1::detail::open_key;

namespace {

// A key line holding n ascending keys, then pad.
template <std::size_t N>
constexpr std::array<std::uint64_t, N> line(std::size_t n) {
    std::array<std::uint64_t, N> k{};
    for (std::size_t i = 0; i < N; ++i) k[i] = i < n ? 0x1000 * (i + 1) + i : key_pad;
    return k;
}

template <std::size_t N>
std::vector<std::uint64_t> as_vector(const std::array<std::uint64_t, N>& k) {
    return {k.begin(), k.end()};
}

template <std::size_t N>
void every_position() {
    for (std::size_t n = 1; n <= N; ++n) {
        for (std::size_t q = 0; q < n; ++q) { // erase position q of n
            alignas(16) auto k = line<N>(n);
            close_key(k, q);
            auto want = as_vector(line<N>(n));
            want.erase(want.begin() + static_cast<std::ptrdiff_t>(q));
            want.push_back(key_pad);
            CHECK(as_vector(k) == want);
        }
    }
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t q = 0; q <= n; ++q) { // insert at position q of n (room for one more)
            alignas(16) auto k = line<N>(n);
            open_key(k, q, 0xabcd);
            auto want = as_vector(line<N>(n));
            want.insert(want.begin() + static_cast<std::ptrdiff_t>(q), 0xabcd);
            want.pop_back();
            CHECK(as_vector(k) == want);
        }
    }
}

template <std::size_t N>
constexpr bool in_constant_evaluation() {
    auto k = line<N>(N - 1);
    open_key(k, 0, 1);
    close_key(k, 2);
    auto want = line<N>(N - 1);
    // 1, then the first two keys, then from the fourth on.
    return k[0] == 1 && k[1] == want[0] && k[2] == want[2] && k[N - 1] == key_pad;
}
static_assert(in_constant_evaluation<8>());
static_assert(in_constant_evaluation<5>());

} // namespace

TEST_CASE("type1 leaf keys: SEMANTICS 2: a key line closes and opens at every position as a sorted vector does",
          "[type1][store]") {
    every_position<2>();
    every_position<5>();
    every_position<6>();
    every_position<8>();
    every_position<15>();
    every_position<16>();
}
