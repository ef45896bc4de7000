// A container's domains come from a DomainFactory: a factory that cannot create a domain
// for a group is refused where the container is named, not deep inside attach.
// expect: DomainFactory
#include <optional>

#include <passthru/platforms/catalog.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/mock_domain.hpp>

struct factory {
    using domain_type = passthru::type1::mock_domain;
#ifdef PASSTHRU_CONTROL
    constexpr passthru::result<void> create(const passthru::type1::group&, std::optional<domain_type>& out) {
        out.emplace();
        return {};
    }
#endif
};

int main() {
    factory f;
    passthru::type1::memory_pinner p;
    passthru::type1::container<passthru::x86_vtd_ir<>, factory, passthru::type1::memory_pinner> c(
        passthru::type1::iommu_mode::v2, f, p);
    return static_cast<int>(c.domain_count());
}
