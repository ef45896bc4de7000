// Comparing an iova with a phys_addr is the identity-map bug waiting to happen
// (DESIGN core/): the two kinds are not comparable.
#include <passthru/core/address.hpp>

int main() {
    const passthru::iova io{0x1000};
    const passthru::phys_addr pa{0x1000};
#ifdef PASSTHRU_CONTROL
    const bool same = io.value == pa.value; // explicit, through the raw values: fine
#else
    const bool same = io == pa;
#endif
    return same ? 0 : 1;
}
// expect: (no match for 'operator=='|invalid operands to binary expression)
// expect: iova.*phys_addr
