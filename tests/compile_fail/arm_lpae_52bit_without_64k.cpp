// A 52-bit output address needs the 64K granule: only its descriptors have room for
// PA[51:48] (in bits [15:12], PGTABLE §1.6). Linux would silently trim the OAS to 48.
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/pgtable/arm_lpae.hpp>

using namespace passthru::pgtable;
#ifdef PASSTHRU_CONTROL
constexpr arm_lpae_config cfg{.granule = 65536, .ias = 48, .oas = 52};
#else
constexpr arm_lpae_config cfg{.granule = 4096, .ias = 48, .oas = 52};
#endif
static_assert(passthru::PageTableFormat<arm_lpae<cfg>>);

int main() {}
// expect: arm_lpae: oas must be one of 32, 36, 40, 42, 44, 48 bits, or 52 with the 64K granule
