// rules::for_kernel: the rule a Linux release applied (SEMANTICS H.3), as a value and as a
// type, so "what would 6.1 do" is one line.
#include <optional>
#include <type_traits>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/kernel_rules.hpp>

using namespace passthru;

static_assert(KernelRule<rules::linux_v6_3> && KernelRule<rules::linux_v4_11> &&
              KernelRule<rules::linux_v3_15> && KernelRule<rules::rfc_2014> &&
              KernelRule<rules::exclusive_bank_aware>);
static_assert(!KernelRule<int> && !KernelRule<allow_unsafe_interrupts>);

// The type-level form, in a platform: Debian's kernels.
static_assert(std::is_same_v<rules::for_kernel_t<6, 1>, rules::linux_v4_11>);
static_assert(std::is_same_v<rules::for_kernel_t<6, 12>, rules::linux_v6_3>);
static_assert(std::is_same_v<rules::for_kernel_t<4, 10>, rules::linux_v3_15>);
static_assert(arm_smmuv3_gicv3_no_its<platforms::pci_bus, rules::for_kernel_t<6, 1>>::assignable);
static_assert(!arm_smmuv3_gicv3_no_its<platforms::pci_bus, rules::for_kernel_t<6, 12>>::assignable);

TEST_CASE("SEMANTICS H.3: for_kernel names the rule each release applied, v6.0-v6.2 included") {
    struct row {
        unsigned major, minor;
        std::optional<std::string_view> rule;
    };
    const row r = GENERATE(values<row>({
        {3, 14, std::nullopt}, // checked when the container was opened: not modelled
        {3, 15, "Linux v3.15-v4.10"},
        {4, 10, "Linux v3.15-v4.10"},
        {4, 11, "Linux v4.11-v6.2"},
        {5, 19, "Linux v4.11-v6.2"},
        {6, 0, "Linux v4.11-v6.2"}, // the v6.0-v6.2 row: per-device capability, same verdicts
        {6, 1, "Linux v4.11-v6.2"}, // Debian bookworm
        {6, 2, "Linux v4.11-v6.2"},
        {6, 3, "Linux v6.3+"},
        {6, 12, "Linux v6.3+"}, // Debian bookworm-backports / trixie
        {7, 0, "Linux v6.3+"},
    }));
    INFO("Linux " << r.major << "." << r.minor);
    const auto f = rules::for_kernel(r.major, r.minor);
    REQUIRE(f.has_value() == r.rule.has_value());
    if (f) CHECK(f->name == *r.rule);
}

TEST_CASE("SEMANTICS H.3: the shipped rules cover every release from v3.15 without a gap") {
    static_assert(rules::linux_v3_15::facts.last == kernel_version{4, 10});
    static_assert(rules::linux_v4_11::facts.first == kernel_version{4, 11});
    static_assert(rules::linux_v4_11::facts.last == kernel_version{6, 2});
    static_assert(rules::linux_v6_3::facts.first == kernel_version{6, 3});
    static_assert(!rules::linux_v6_3::facts.last);
    // Rules no kernel shipped apply to no release.
    CHECK_FALSE(rules::rfc_2014::facts.applied_in({3, 16}));
    CHECK_FALSE(rules::exclusive_bank_aware::facts.applied_in({6, 12}));
    CHECK(rules::for_kernel(6, 12)->per_device);
    CHECK_FALSE(rules::for_kernel(6, 1)->per_device);
}
