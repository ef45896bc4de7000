// platform<> accepts only allow_unsafe_interrupts and kernel rule sets as options.
#include <passthru/platforms/catalog.hpp>

struct not_an_option {};
#ifdef PASSTHRU_CONTROL
using board = passthru::x86_vtd_ir<passthru::platforms::pci_bus, passthru::allow_unsafe_interrupts>;
#else
using board = passthru::x86_vtd_ir<passthru::platforms::pci_bus, not_an_option>;
#endif
static_assert(board::assignable);

int main() {}
// expect: an option is neither allow_unsafe_interrupts nor a kernel rule set
