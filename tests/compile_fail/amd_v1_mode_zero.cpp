// DTE Mode 0 means "no translation" (PGTABLE §4): an amd_v1 format has 1 to 6 levels, and
// mode 0 is refused when the format is named, with a message saying why.
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/pgtable/amd_v1.hpp>

#ifdef PASSTHRU_CONTROL
constexpr unsigned mode = 1;
#else
constexpr unsigned mode = 0;
#endif
using format = passthru::pgtable::amd_v1<passthru::pgtable::amd_v1_config{.mode = mode}>;
static_assert(passthru::PageTableFormat<format>);

int main() {}
// expect: amd_v1: mode \(the number of levels\) must be 1 to 6
