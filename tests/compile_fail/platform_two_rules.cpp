// A platform is judged by one kernel at a time.
#include <passthru/platforms/catalog.hpp>

#ifdef PASSTHRU_CONTROL
using board = passthru::x86_vtd_ir<passthru::platforms::pci_bus, passthru::rules::linux_v4_11>;
#else
using board = passthru::x86_vtd_ir<passthru::platforms::pci_bus, passthru::rules::linux_v4_11,
                                   passthru::rules::linux_v6_3>;
#endif
static_assert(board::assignable);

int main() {}
// expect: give at most one kernel rule set
