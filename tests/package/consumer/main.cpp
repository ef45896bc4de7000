// A consumer of the installed / embedded library: a compile-time platform check and a
// run-time attach plan, printed so the CTest can match the output; and the Linux backend's
// target, asked something every Linux answers (/dev/null has no VFIO ioctls).
#include <cstdio>

#include <passthru/linux/kernel_container.hpp>
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
    passthru::linux_vfio::real_syscalls sys;
    const auto c = passthru::linux_vfio::kernel_container<>::open(sys, "/dev/null");
    if (!c) return 1;
    const auto v = c->api_version();
    if (v || v.error().code != passthru::errc::enotty) return 1;
    std::printf("consumer: linux backend: %.*s\n", static_cast<int>(describe(v.error().code).name.size()),
                describe(v.error().code).name.data());
    return 0;
}
