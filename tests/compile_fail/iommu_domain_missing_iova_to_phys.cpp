// A type that misses a member of IommuDomain is rejected, naming the concept and the
// member (issue #2 §3).
#include <cstdint>
#include <optional>

#include <passthru/concepts/iommu_domain.hpp>

struct domain_without_lookup {
    static constexpr passthru::iommu_caps caps{};
    passthru::result<void> map(passthru::iova, passthru::phys_addr, std::uint64_t, passthru::prot) {
        return {};
    }
    std::uint64_t unmap(passthru::iova, std::uint64_t) { return 0; }
#ifdef PASSTHRU_CONTROL
    std::optional<passthru::phys_addr> iova_to_phys(passthru::iova) const { return std::nullopt; }
#endif
    passthru::pgsize_bitmap pgsizes() const { return {4096}; }
    passthru::interval aperture() const { return passthru::whole_space; }
    passthru::reserved_region_list reserved_regions() const { return {}; }
    bool enforce_cache_coherency() const { return false; }
};

template <passthru::IommuDomain D>
constexpr bool accepted = true;
static_assert(accepted<domain_without_lookup>);

int main() {}
// expect: IommuDomain
// expect: iova_to_phys
