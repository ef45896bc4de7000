// Under the v3.15-v4.10 rule (SEMANTICS H.3) only IOMMU_CAP_INTR_REMAP counted, which
// no ARM SMMU reported: even an ITS board is refused, with the pre-v6.3 wording.
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
using board = passthru::arm_smmuv3_its<passthru::platforms::pci_bus, passthru::rules::linux_v4_11>;
#else
using board = passthru::arm_smmuv3_its<passthru::platforms::pci_bus, passthru::rules::linux_v3_15>;
#endif
static_assert(passthru::require_isolated_msi<board>());

int main() {}
// expect: the IOMMU does not report IOMMU_CAP_INTR_REMAP and the MSI domains do not remap
// expect: passthru::allow_unsafe_interrupts
