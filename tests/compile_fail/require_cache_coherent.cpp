// VFIO refuses a device behind an incoherent IOMMU and no option overrides it
// (SEMANTICS A.3).
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
constexpr bool coherent = true;
#else
constexpr bool coherent = false;
#endif
using board = passthru::platform<passthru::platforms::arm_smmuv3<4096, 48, coherent>,
                                 passthru::platforms::gicv3_its, passthru::platforms::pci_bus,
                                 passthru::allow_unsafe_interrupts>;
static_assert(passthru::require_assignable<board>());

int main() {}
// expect: the IOMMU is not cache coherent \(IOMMU_CAP_CACHE_COHERENCY\): VFIO refuses such devices and no option overrides it
