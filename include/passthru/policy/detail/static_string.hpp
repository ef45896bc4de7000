#pragma once
// Compile-time string concatenation, so a reason can name the component it is about
// ("GICv2m provides no MSI isolation; ...") and still be a string_view into static
// storage: no allocation, usable in constant evaluation and in error{}.
#include <array>
#include <cstddef>
#include <string_view>

namespace passthru::detail {

template <const std::string_view&... Parts>
struct join {
    static constexpr auto storage = [] {
        std::array<char, (Parts.size() + ... + 0) + 1> a{};
        std::size_t i = 0;
        for (std::string_view p : {Parts...})
            for (char c : p) a[i++] = c;
        return a;
    }();
    static constexpr std::string_view value{storage.data(), storage.size() - 1};
};

template <const std::string_view&... Parts>
inline constexpr std::string_view join_v = join<Parts...>::value;

// A component's `name` as a string_view with static storage, usable in join<>.
template <class T>
struct name_of {
    static constexpr std::string_view value = T::name;
};

} // namespace passthru::detail
