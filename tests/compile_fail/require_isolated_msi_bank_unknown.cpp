// The kernel's rule ignores exclusive MSI banks (SEMANTICS H.6), so a PAMU board is
// refused, and the message points at the rule that would decide it at attach.
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
using board = passthru::fsl_pamu_msi<passthru::platforms::fsl_mc_bus,
                                     passthru::allow_unsafe_interrupts>;
#else
using board = passthru::fsl_pamu_msi<>;
#endif
static_assert(passthru::require_isolated_msi<board>());

int main() {}
// expect: does not recognise exclusive MSI banks \(use passthru::rules::exclusive_bank_aware\)
// expect: passthru::allow_unsafe_interrupts
