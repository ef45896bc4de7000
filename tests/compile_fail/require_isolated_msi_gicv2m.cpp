// require_isolated_msi refuses a GICv2m board (SEMANTICS H.2: no isolation) and names
// the missing property and the option that overrides it (issue #2 §4).
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
using board = passthru::arm_smmuv2_gicv2m<passthru::platforms::platform_bus,
                                          passthru::allow_unsafe_interrupts>;
#else
using board = passthru::arm_smmuv2_gicv2m<>;
#endif
static_assert(passthru::require_isolated_msi<board>());

int main() {}
// expect: MSI isolation missing: the interrupt controller neither remaps MSIs nor tags them with a hardware DeviceID
// expect: add the option passthru::allow_unsafe_interrupts
