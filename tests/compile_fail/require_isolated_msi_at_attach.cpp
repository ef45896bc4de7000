// An exclusive MSI bank is only known at attach (SEMANTICS H.6): no compile-time proof.
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/requirements.hpp>

#ifdef PASSTHRU_CONTROL
using board = passthru::fsl_pamu_msi<passthru::platforms::fsl_mc_bus,
                                     passthru::rules::exclusive_bank_aware,
                                     passthru::allow_unsafe_interrupts>;
#else
using board = passthru::fsl_pamu_msi<passthru::platforms::fsl_mc_bus,
                                     passthru::rules::exclusive_bank_aware>;
#endif
static_assert(passthru::require_isolated_msi<board>());

int main() {}
// expect: MSI isolation is decided at attach \(exclusive MSI bank\): it cannot be proven at compile time
// expect: passthru::plan_attach
