// `io == 0` compares an address with a number (DESIGN core/): spell the kind, iova{0},
// or compare the raw `.value`.
#include <passthru/core/address.hpp>

int main() {
    const passthru::iova io{0x1000};
#ifdef PASSTHRU_CONTROL
    const bool at_zero = io == passthru::iova{0};
#else
    const bool at_zero = io == 0;
#endif
    return at_zero ? 1 : 0;
}
// expect: (no match for 'operator=='|invalid operands to binary expression)
// expect: iova
