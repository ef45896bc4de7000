// An IOMMU and an interrupt controller of different architectures do not make a board.
#include <passthru/platforms/catalog.hpp>

namespace pp = passthru::platforms;
#ifdef PASSTHRU_CONTROL
using board = passthru::platform<pp::arm_smmuv3<>, pp::gicv3_its, pp::pci_bus>;
#else
using board = passthru::platform<pp::arm_smmuv3<>, pp::x86_intel_ir, pp::pci_bus>;
#endif
static_assert(board::verdict == passthru::msi_verdict::isolated);

int main() {}
// expect: the IOMMU and the interrupt controller belong to different architectures
