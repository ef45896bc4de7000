// An IMSIC is isolated only by an IOMMU MSI table that validates MSI data, which RISC-V
// IOMMU v1.0 lacks (docs/platforms.md). The message names the property and the override.
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
using iommu = passthru::platforms::riscv_iommu<true, true>;
#else
using iommu = passthru::platforms::riscv_iommu<>;
#endif
using board = passthru::platform<iommu, passthru::platforms::riscv_imsic,
                                 passthru::platforms::pci_bus>;
static_assert(passthru::require_isolated_msi<board>());

int main() {}
// expect: relies on an IOMMU MSI table that validates MSI data, which this IOMMU lacks
// expect: passthru::allow_unsafe_interrupts
