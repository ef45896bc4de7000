#pragma once
// Kernels as profiles (SEMANTICS §M, §P): what changed in type1 between the kernels a VMM
// meets, as one facts aggregate per kernel. A profile is a set of facts, not a version
// number, because distribution kernels mix rules: Debian's 6.1 carries the v6.3 VADDR
// rules as a stable backport (SEMANTICS P4).
#include <concepts>
#include <string_view>

#include <passthru/concepts/kernel_rule.hpp>

namespace passthru::type1 {

struct profile_facts {
    std::string_view name;
    kernel_version version{};
    // The late-2025 end-of-address-space series (v6.18, SEMANTICS §M, B4, C7, D5): size 0
    // is checked before overflow, and a wrapping range is EOVERFLOW instead of EINVAL.
    bool overflow_is_eoverflow = true;
    // Before that series the mapping tree's lookups add a mapping's size to its IOVA, which
    // is 0 for a mapping that ends at 2^64-1 (SEMANTICS P5): such a container keeps the
    // kernel's red-black tree (type1/kernel_dma_tree.hpp) and its lookups.
    bool top_end_wraps = false;
    // v6.6 ("vfio: align capability structures"): vfio_info_cap_add pads every capability
    // to 8 bytes, so DMA_AVAIL takes 16 in the chain instead of 12, and GET_INFO's header is
    // written back zeroed as min(argsz, 24) bytes instead of 16 or 20 (SEMANTICS E1;
    // info.hpp info_header_bytes).
    bool caps_padded = true;
    // v6.3: an invalidated vaddr makes attach EBUSY (A1) instead of waiting, and
    // UPDATE_VADDR is hidden while emulated groups exist (E2, C4).
    bool vaddr_rules_v6_3 = true;
    // VFIO_TYPE1_NESTING_IOMMU accepted by SET_IOMMU and CHECK_EXTENSION (until v6.13).
    bool nesting = false;
    // v6.11: a failed paging-domain allocation reports the allocator's errno (A5), not EIO.
    bool allocator_errno = true;
};

// A `KernelProfile` K declares `static constexpr profile_facts facts`.
template <class K>
concept KernelProfile = requires {
    { K::facts } -> std::convertible_to<profile_facts>;
};

namespace profiles {

// Debian bookworm's 6.1 (6.1.192 recorded in tests/kernel): before the cap padding and the
// overflow series, with the v6.3 VADDR rules backported (SEMANTICS P4). Judge MSIs with
// rules::for_kernel_t<6, 1>.
struct debian_6_1 {
    static constexpr profile_facts facts{.name = "Debian 6.1", .version = {6, 1},
                                         .overflow_is_eoverflow = false, .top_end_wraps = true, .caps_padded = false,
                                         .vaddr_rules_v6_3 = true, .nesting = true,
                                         .allocator_errno = false};
};

// Debian's 6.12 (6.12.117 recorded in tests/kernel): padded caps, still before the
// overflow series.
struct debian_6_12 {
    static constexpr profile_facts facts{.name = "Debian 6.12", .version = {6, 12},
                                         .overflow_is_eoverflow = false, .top_end_wraps = true, .caps_padded = true,
                                         .vaddr_rules_v6_3 = true, .nesting = true,
                                         .allocator_errno = true};
};

// Current upstream (v6.18+): every change of SEMANTICS §M.
struct upstream {
    static constexpr profile_facts facts{.name = "upstream v6.18+", .version = {6, 18}};
};

} // namespace profiles
} // namespace passthru::type1
