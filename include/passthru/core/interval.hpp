#pragma once
// A closed interval [first, last] of 64-bit addresses.
//
// Closed, not half-open, because the kernel's usable-IOVA list, reserved regions and
// the 2025 end-of-address-space fixes (SEMANTICS §M) all use inclusive ends: a range
// that ends at 2^64-1 has no representable half-open end. Nothing here ever computes
// `start + size` without checking for wrap first.
#include <cstdint>
#include <optional>

namespace passthru {

struct interval {
    std::uint64_t first = 0;
    std::uint64_t last = 0; // inclusive

    // [start, start+size-1], or nullopt when size is 0 or the end wraps past 2^64-1.
    static constexpr std::optional<interval> from_size(std::uint64_t start,
                                                       std::uint64_t size) noexcept {
        if (size == 0 || start + (size - 1) < start) return std::nullopt;
        return interval{start, start + (size - 1)};
    }

    // Number of bytes minus one: the full 64-bit space has 2^64 bytes, which does
    // not fit in a uint64_t, so the natural measure is the inclusive span.
    constexpr std::uint64_t span() const noexcept { return last - first; }
    // Size in bytes; only meaningful when the interval is not the whole space.
    constexpr std::uint64_t size() const noexcept { return last - first + 1; }
    constexpr bool is_whole_space() const noexcept {
        return first == 0 && last == ~std::uint64_t{0};
    }

    constexpr bool contains(std::uint64_t a) const noexcept { return first <= a && a <= last; }
    constexpr bool contains(const interval& o) const noexcept {
        return first <= o.first && o.last <= last;
    }
    constexpr bool overlaps(const interval& o) const noexcept {
        return first <= o.last && o.first <= last;
    }

    constexpr bool operator==(const interval&) const = default;
};

// The whole 64-bit space, [0, 2^64-1].
inline constexpr interval whole_space{0, ~std::uint64_t{0}};

constexpr std::optional<interval> intersect(const interval& a, const interval& b) noexcept {
    if (!a.overlaps(b)) return std::nullopt;
    return interval{a.first > b.first ? a.first : b.first, a.last < b.last ? a.last : b.last};
}

} // namespace passthru
