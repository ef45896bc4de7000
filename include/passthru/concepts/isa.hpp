#pragma once
// The instruction-set family a hardware component belongs to. An IOMMU and an
// interrupt controller can only be composed into one platform when they match.
#include <cstdint>
#include <string_view>

namespace passthru {

enum class isa : std::uint8_t { x86, arm, powerpc, s390, riscv };

constexpr std::string_view to_string(isa a) noexcept {
    switch (a) {
    case isa::x86: return "x86";
    case isa::arm: return "arm";
    case isa::powerpc: return "powerpc";
    case isa::s390: return "s390";
    case isa::riscv: return "riscv";
    }
    return "?";
}

} // namespace passthru
