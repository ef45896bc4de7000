// An IMSIC needs the IOMMU's MSI table; an IOMMU without one cannot isolate
// (docs/platforms.md, RISC-V). The message names the property and the override.
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
using iommu = passthru::platforms::riscv_iommu<true>;
#else
using iommu = passthru::platforms::riscv_iommu<false>;
#endif
using board = passthru::platform<iommu, passthru::platforms::riscv_imsic,
                                 passthru::platforms::pci_bus>;
static_assert(passthru::require_isolated_msi<board>());

int main() {}
// expect: relies on an IOMMU MSI table that this IOMMU lacks
// expect: passthru::allow_unsafe_interrupts
