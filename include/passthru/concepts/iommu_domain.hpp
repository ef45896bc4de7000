#pragma once
// Concept `IommuDomain`: one isolated DMA context. It maps [iova, iova+size) to
// physical memory with `prot`, all or nothing; unmaps (returning bytes removed, the
// IOMMU-core convention); translates; and reports its page sizes, aperture, reserved
// regions and capabilities. Static facts are static constexpr so policies can fold
// them; instance facts (which can depend on the hardware found at probe) are members.
#include <concepts>
#include <cstdint>
#include <optional>

#include <passthru/concepts/iommu.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru {

// The mapping half of a domain. An `IommuDomainMapper` D provides, for `d` a D and `cd`
// a const D:
//   d.map(iova, phys_addr, size, prot) -> result<void>
//        all or nothing; EEXIST over a live mapping, EINVAL for misalignment (SEMANTICS G1)
//   d.unmap(iova, size) -> uint64_t   bytes unmapped (0 when misaligned, SEMANTICS G1.5)
//   cd.iova_to_phys(iova) -> optional<phys_addr>
template <class D>
concept IommuDomainMapper = requires(D& d, const D& cd, iova io, phys_addr pa, std::uint64_t size,
                                     prot p) {
    { d.map(io, pa, size, p) } -> std::same_as<result<void>>;
    { d.unmap(io, size) } -> std::same_as<std::uint64_t>;
    { cd.iova_to_phys(io) } -> std::same_as<std::optional<phys_addr>>;
};

// The facts half of a domain: what the attach policy and the usable-IOVA list read. An
// `IommuDomainGeometry` D provides, for `cd` a const D:
//   cd.pgsizes() -> pgsize_bitmap                 (instance)
//   cd.aperture() -> interval                     (instance)
//   cd.reserved_regions() -> reserved_region_list (instance: static regions + firmware ones)
//   cd.enforce_cache_coherency() -> bool          (instance, SEMANTICS A14)
//   D::caps -> iommu_caps                          (static)
template <class D>
concept IommuDomainGeometry = requires(const D& cd) {
    { cd.pgsizes() } -> std::convertible_to<pgsize_bitmap>;
    { cd.aperture() } -> std::convertible_to<interval>;
    { cd.reserved_regions() } -> std::convertible_to<reserved_region_list>;
    { cd.enforce_cache_coherency() } -> std::same_as<bool>;
    { D::caps } -> std::convertible_to<iommu_caps>;
};

template <class D>
concept IommuDomain = IommuDomainMapper<D> && IommuDomainGeometry<D>;

} // namespace passthru
