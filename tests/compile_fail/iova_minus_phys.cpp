// An iova minus a phys_addr is not a distance: the two live in different address
// spaces (DESIGN core/). Subtracting across kinds must not compile.
#include <cstdint>

#include <passthru/core/address.hpp>

int main() {
    const passthru::iova io{0x2000};
    const passthru::phys_addr pa{0x1000};
#ifdef PASSTHRU_CONTROL
    const std::uint64_t d = io - passthru::iova{0x1000}; // same kind: a byte count
#else
    const std::uint64_t d = io - pa;
#endif
    return static_cast<int>((d + pa.value) & 1);
}
// expect: (no match for 'operator-'|invalid operands to binary expression)
// expect: iova.*phys_addr
