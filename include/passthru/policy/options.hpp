#pragma once
// Platform options: empty tag types in the parameter pack of platform<...>
// (STYLE: options as tags, looked up like mp_contains).
#include <type_traits>

namespace passthru {

// Attach even when MSIs are not isolated: the type1 module parameter
// `allow_unsafe_interrupts` (SEMANTICS A13, §1.2), decided at compile time.
struct allow_unsafe_interrupts {};

template <class T, class... Options>
inline constexpr bool has_option = (std::is_same_v<T, Options> || ...);

} // namespace passthru
