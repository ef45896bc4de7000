// An IOVA and a physical address are different types: no implicit mixing
// (issue #2 §2, DESIGN core/). Assigning one to the other must not compile.
#include <passthru/core/address.hpp>

int main() {
    passthru::iova io{0x1000};
#ifdef PASSTHRU_CONTROL
    passthru::phys_addr pa{io.value}; // explicit, through the raw value: fine
#else
    passthru::phys_addr pa = io;
#endif
    return static_cast<int>(pa.value & 1);
}
// expect: (conversion from|no viable conversion from).*(iova|address<passthru::iova_tag>)
