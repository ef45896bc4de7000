// rules::for_kernel_t has no rule for a kernel before v3.15 (SEMANTICS H.3: type1 then
// checked when the container was opened, which passthru does not model).
#include <passthru/policy/kernel_rules.hpp>

#ifdef PASSTHRU_CONTROL
using rule = passthru::rules::for_kernel_t<3, 15>;
#else
using rule = passthru::rules::for_kernel_t<3, 14>;
#endif
static_assert(passthru::KernelRule<rule>);

int main() {}
// expect: for_kernel
