#pragma once
// IOMMU mapping protection flags, with the values of include/linux/iommu.h
// (SEMANTICS §1.3, PGTABLE §0.1) so they can cross a kernel ABI unchanged.
#include <cstdint>

namespace passthru {

enum class prot : std::uint8_t {
    none = 0,
    read = 1u << 0,   // IOMMU_READ: DMA reads allowed
    write = 1u << 1,  // IOMMU_WRITE: DMA writes allowed
    cache = 1u << 2,  // IOMMU_CACHE: coherent / cacheable (snoop)
    noexec = 1u << 3, // IOMMU_NOEXEC
    mmio = 1u << 4,   // IOMMU_MMIO: device memory
    priv = 1u << 5,   // IOMMU_PRIV: privileged-only (ARM)
};

constexpr prot operator|(prot a, prot b) noexcept {
    return static_cast<prot>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr prot operator&(prot a, prot b) noexcept {
    return static_cast<prot>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr prot operator~(prot a) noexcept {
    return static_cast<prot>(~static_cast<std::uint8_t>(a) & 0x3Fu);
}
constexpr prot& operator|=(prot& a, prot b) noexcept { return a = a | b; }

// True when every flag of `flags` is set in `p`.
constexpr bool has(prot p, prot flags) noexcept { return (p & flags) == flags; }
// True when any flag of `flags` is set in `p`.
constexpr bool has_any(prot p, prot flags) noexcept { return (p & flags) != prot::none; }

inline constexpr prot prot_rw = prot::read | prot::write;

} // namespace passthru
