// An integer does not silently become an iova (DESIGN core/): the constructor is
// explicit, so copy-initialisation from a number must not compile.
#include <passthru/core/address.hpp>

int main() {
#ifdef PASSTHRU_CONTROL
    passthru::iova x{0x1000};
#else
    passthru::iova x = 0x1000;
#endif
    return static_cast<int>(x.value & 1);
}
// expect: (conversion from 'int' to non-scalar type|no viable conversion from 'int')
// expect: iova
