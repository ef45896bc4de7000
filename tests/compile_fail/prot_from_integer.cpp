// IOMMU prot is not an integer (PGTABLE §0.1): a VFIO map flag word (READ=1, WRITE=2 in
// a different namespace of bits) must be translated, not passed through.
#include <passthru/core/prot.hpp>

int main() {
#ifdef PASSTHRU_CONTROL
    const passthru::prot p = passthru::prot::read | passthru::prot::write;
#else
    const passthru::prot p = 3;
#endif
    return passthru::has(p, passthru::prot::read) ? 0 : 1;
}
// expect: (cannot convert 'int' to '(const )?passthru::prot'|cannot initialize a variable of type '(const )?passthru::prot')
