// The NS quirk sets NS/NSTable, which a stage-2 table does not have: Linux's stage-2
// allocator accepts only S2FWB and NO_WARN (PGTABLE §1.6).
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/pgtable/arm_lpae.hpp>

using namespace passthru::pgtable;
#ifdef PASSTHRU_CONTROL
constexpr arm_lpae_config cfg{.stage = arm_stage::s1, .quirks = {.ns = true}};
#else
constexpr arm_lpae_config cfg{.stage = arm_stage::s2, .quirks = {.ns = true}};
#endif
static_assert(passthru::PageTableFormat<arm_lpae<cfg>>);

int main() {}
// expect: arm_lpae: the NS, HD and OUTER_WBWA quirks are stage-1 only and S2FWB is stage-2 only
