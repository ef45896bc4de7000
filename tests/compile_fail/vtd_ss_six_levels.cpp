// A VT-d second-stage table has 3, 4 or 5 levels (AW 1/2/3, PGTABLE §3.1); a 6-level
// configuration is refused when the format is named, with a message saying why.
#include <passthru/concepts/page_table_format.hpp>
#include <passthru/pgtable/vtd_ss.hpp>

#ifdef PASSTHRU_CONTROL
constexpr unsigned levels = 5;
#else
constexpr unsigned levels = 6;
#endif
using format = passthru::pgtable::vtd_ss<passthru::pgtable::vtd_ss_config{.levels = levels}>;
static_assert(passthru::PageTableFormat<format>);

int main() {}
// expect: vtd_ss: levels must be 3, 4 or 5
