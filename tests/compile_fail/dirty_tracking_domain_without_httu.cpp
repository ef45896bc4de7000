// An SMMUv2 cannot record DMA writes (no HTTU): it has no dirty-tracking domain, and the
// diagnostic names the unmet IommuWithDirtyTables constraint.
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/domain.hpp>
#include <passthru/platforms/catalog.hpp>

#ifdef PASSTHRU_CONTROL
using iommu = passthru::platforms::arm_smmuv3<>;
#else
using iommu = passthru::platforms::arm_smmuv2<>;
#endif
using tracking = passthru::pgtable::dirty_tracking_domain<iommu, passthru::pgtable::arena_allocator>;
static_assert(sizeof(tracking) > 0);

int main() {}
// expect: IommuWithDirtyTables
