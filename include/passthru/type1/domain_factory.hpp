#pragma once
// Where a container's domains come from: the platform's IOMMU driver allocating a paging
// domain for the first device of a group (SEMANTICS A5). A `DomainFactory` F declares
//   F::domain_type                         an IommuDomain
//   f.create(const group&, std::optional<domain_type>& out) -> result<void>
//        constructs the domain in `out` (a result<domain_type> would not be a literal
//        type, and the container must run in constant evaluation)
// `table_domains` gives real page tables of the catalog IOMMU's format, so after a map
// the descriptors the hardware would walk can be read back.
#include <concepts>
#include <optional>
#include <utility>

#include <passthru/concepts/iommu_domain.hpp>
#include <passthru/concepts/page_allocator.hpp>
#include <passthru/core/error.hpp>
#include <passthru/pgtable/domain.hpp>
#include <passthru/type1/group.hpp>

namespace passthru::type1 {

template <class F>
concept DomainFactory = requires(F& f, const group& g, std::optional<typename F::domain_type>& out) {
    typename F::domain_type;
    requires IommuDomain<typename F::domain_type>;
    { f.create(g, out) } -> std::same_as<result<void>>;
};

// A domain that can keep its walk between consecutive maps (pgtable::domain): the engine
// maps a mapping's runs through one session per domain.
template <class D>
concept DomainWithMapSession = requires(D& d, iova io, phys_addr pa, std::uint64_t size, prot p) {
    { d.map_session().map(io, pa, size, p) } -> std::same_as<result<void>>;
};

// A domain that reports the leaf translating an IOVA (pgtable::domain): the engine reads
// physically contiguous runs a leaf at a time instead of a host page at a time.
template <class D>
concept DomainWithLeaves = requires(const D& d, iova io) {
    { d.leaf_at(io) } -> std::same_as<std::optional<pgtable::leaf_info>>;
};

// A domain whose tables record device writes (pgtable::dirty_tracking_domain): what
// container_options::iommu_dirty reads.
template <class D>
concept DirtyTrackingDomain = requires(D& d, iova io, std::uint64_t size, pgtable::dirty_bitmap& b,
                                       pgtable::iotlb_gather& g) {
    { d.read_and_clear_dirty(io, size, b, g) } -> std::same_as<result<void>>;
};

namespace detail {
template <class D, bool = DomainWithMapSession<D>>
struct map_session_of {
    using type = int; // no session: the engine calls map() directly
};
template <class D>
struct map_session_of<D, true> {
    using type = decltype(std::declval<D&>().map_session());
};
} // namespace detail

// With `Tables` = dirty_tracking, the domains' tables record device writes (the IOMMU's
// dirty_table_format), for container_options::iommu_dirty.
template <pgtable::IommuWithTables I, PageAllocator A,
          pgtable::domain_tables Tables = pgtable::domain_tables::translation>
class table_domains {
public:
    using domain_type = pgtable::domain<I, A, pgtable::coherent_walk, Tables>;
    // `over`: what a map over mapped pages does in the tables (pgtable::map_over; the
    // AMD-Vi driver of the 6.1/6.12 kernels rewrote them).
    constexpr explicit table_domains(A& alloc, pgtable::map_over over = pgtable::map_over::refuse) noexcept
        : alloc_(&alloc), over_(over) {}
    // The group's firmware regions are the container's to merge (they differ per group
    // while a domain is shared, A15), so the domain carries only the IOMMU's own.
    result<void> create(const group&, std::optional<domain_type>& out) {
        auto d = domain_type::create(*alloc_);
        if (!d) return tl::unexpected(d.error());
        d->table().set_map_over(over_);
        out.emplace(std::move(*d));
        return {};
    }

private:
    A* alloc_;
    pgtable::map_over over_;
};

} // namespace passthru::type1
