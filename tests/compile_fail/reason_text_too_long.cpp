// A reason that does not fit its buffer is a compile error, not a truncated sentence
// (policy/reason.hpp): here a component whose name alone is longer than the buffer.
#include <passthru/policy/reason.hpp>

#ifdef PASSTHRU_CONTROL
constexpr std::string_view long_name = "GICv2m";
#else
constexpr std::string_view long_name =
    "An interrupt controller whose marketing name goes on and on and on and on and on and on "
    "and on and on and on and on and on and on and on and on and on and on and on and on and on "
    "and on and on and on and on and on and on and on and on and on and on and on and on and on";
#endif
constexpr auto text = passthru::isolation_reason(
    passthru::isolation_cause::no_isolation, {"IOMMU", long_name, "PCI", passthru::msi_isolation::none});
static_assert(text.view().size() > 0);

int main() {}
// expect: too_long
