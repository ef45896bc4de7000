#pragma once
// The x86 hardware MSI window, [0xFEE00000, 0xFEEFFFFF] (SEMANTICS §1.3: Intel
// IOAPIC_RANGE, AMD MSI_RANGE). Writes there are interrupts, never DMA.
#include <optional>

#include <passthru/core/interval.hpp>

namespace passthru::platforms {

inline constexpr interval x86_msi_window{0xFEE0'0000, 0xFEEF'FFFF};

} // namespace passthru::platforms
