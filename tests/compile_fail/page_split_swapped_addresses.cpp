// The page split takes (iova, paddr) in that order (SEMANTICS G1.3); passing them the
// other way round is the mix-up the strong types exist to catch.
#include <cstdint>

#include <passthru/core/page_size.hpp>

int main() {
    const passthru::pgsize_bitmap b{0x4020'1000};
    const passthru::iova io{0x20'0000};
    const passthru::phys_addr pa{0x40'0000};
    std::uint64_t pages = 0;
#ifdef PASSTHRU_CONTROL
    for (const passthru::page_run& r : passthru::page_split(b, io, pa, 0x20'0000)) pages += r.count;
#else
    for (const passthru::page_run& r : passthru::page_split(b, pa, io, 0x20'0000)) pages += r.count;
#endif
    return static_cast<int>(pages);
}
// expect: (no matching function for call to|no matching constructor for initialization of) '?passthru::page_split
