#pragma once
// Strong address types. An IOVA (what a device puts on the bus) and a physical
// address (what the IOMMU emits) are both 64-bit numbers, and mixing them up is the
// classic bug of every IOMMU driver: here they are distinct types with no implicit
// conversion between them or from integers.
#include <compare>
#include <cstdint>

namespace passthru {

template <class Tag>
struct address {
    std::uint64_t value = 0;

    constexpr address() = default;
    constexpr explicit address(std::uint64_t v) noexcept : value(v) {}

    // Offsets are plain byte counts; adding one keeps the address kind.
    constexpr address operator+(std::uint64_t off) const noexcept { return address{value + off}; }
    constexpr address operator-(std::uint64_t off) const noexcept { return address{value - off}; }
    constexpr address& operator+=(std::uint64_t off) noexcept { value += off; return *this; }
    // The distance between two addresses of the same kind is a byte count.
    constexpr std::uint64_t operator-(address o) const noexcept { return value - o.value; }

    constexpr auto operator<=>(const address&) const = default;
};

struct iova_tag {};
struct phys_tag {};

// I/O virtual address: the address a device uses for DMA.
using iova = address<iova_tag>;
// Host physical address (or guest-physical for a stage-2 table's output).
using phys_addr = address<phys_tag>;

} // namespace passthru
