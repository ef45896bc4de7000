// A consumer of the installed / embedded library: a compile-time platform check and a
// run-time attach plan, printed so the CTest can match the output.
#include <cstdio>

#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>
#include <passthru/policy/requirements.hpp>

using platform = passthru::arm_smmuv3_its<>;
static_assert(passthru::require_assignable<platform>());

int main() {
    const auto plan = passthru::plan_attach<platform>();
    if (!plan) return 1;
    std::printf("consumer: %.*s + %.*s: %.*s\n",
                static_cast<int>(platform::iommu::name.size()), platform::iommu::name.data(),
                static_cast<int>(platform::irq::name.size()), platform::irq::name.data(),
                static_cast<int>(to_string(platform::decision).size()),
                to_string(platform::decision).data());
    return 0;
}
