#pragma once
// An IOMMU domain backed by a real page table: the page table of the catalog IOMMU's
// format (its `table_format`), plus the facts of that IOMMU and of this instance
// (firmware reserved regions). It models IommuDomain, so the type1 engine and the
// attach policy can drive real descriptors the way the kernel drives a driver.
#include <cstdint>
#include <span>
#include <utility>

#include <passthru/concepts/iommu.hpp>
#include <passthru/concepts/iommu_domain.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/reserved_region.hpp>
#include <passthru/pgtable/page_table.hpp>

namespace passthru::pgtable {

// An IOMMU whose domains use a page-table format of this library.
template <class I>
concept IommuWithTables = Iommu<I> && PageTableFormat<typename I::table_format>;

// ...and which can also record DMA writes in them (`dirty_table_format`).
template <class I>
concept IommuWithDirtyTables = IommuWithTables<I> && I::caps.dirty_tracking &&
                               DirtyTrackingFormat<typename I::dirty_table_format>;

// Which tables a domain uses: plain translation (what type1 asks for), or the variant
// that records writes (what iommufd allocates for a dirty-tracking HWPT).
enum class domain_tables : std::uint8_t { translation, dirty_tracking };

namespace detail {
template <class I, domain_tables T>
struct domain_format {
    using type = typename I::table_format;
};
template <class I>
struct domain_format<I, domain_tables::dirty_tracking> {
    using type = typename I::dirty_table_format;
};
} // namespace detail

template <IommuWithTables I, PageAllocator A, WalkHooks H = coherent_walk,
          domain_tables Tables = domain_tables::translation>
    requires(Tables == domain_tables::translation || IommuWithDirtyTables<I>)
class domain {
public:
    using iommu = I;
    using table_type = page_table<typename detail::domain_format<I, Tables>::type, A, H>;
    static constexpr iommu_caps caps = I::caps;

    // A domain with an empty table. `firmware` are this instance's reserved regions
    // (RMRRs, IVMD blocks, IORT RMRs: platforms/iommu/*.hpp), reported with the IOMMU's own.
    static constexpr result<domain> create(A& alloc, std::span<const reserved_region> firmware = {},
                                           H hooks = {}) {
        auto table = table_type::create(alloc, std::move(hooks));
        if (!table) return tl::unexpected(table.error());
        return domain(std::move(*table), merge_resv_regions(I::reserved_regions, firmware));
    }

    // SEMANTICS G1: split by the domain's page sizes, all or nothing.
    constexpr result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p) {
        return table_.map(io, pa, size, p, map_sizes());
    }
    // Consecutive maps that reuse the walk of the previous one (page_table::map_session):
    // what the type1 engine uses for the runs of one mapping.
    class mapper {
    public:
        constexpr result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p) {
            return session_.map(io, pa, size, p, sizes_);
        }

    private:
        friend class domain;
        constexpr mapper(typename table_type::mapper s, pgsize_bitmap sizes) noexcept : session_(s), sizes_(sizes) {}
        typename table_type::mapper session_;
        pgsize_bitmap sizes_;
    };
    constexpr mapper map_session() noexcept { return mapper(table_.map_session(), map_sizes()); }

    // SEMANTICS G1.5 / PGTABLE §0.4; invalidation through the hooks.
    constexpr std::uint64_t unmap(iova io, std::uint64_t size) { return table_.unmap(io, size); }
    constexpr std::optional<phys_addr> iova_to_phys(iova io) const { return table_.iova_to_phys(io); }
    constexpr std::optional<leaf_info> leaf_at(iova io) const { return table_.leaf_at(io); }

    // PGTABLE §8, for a dirty-tracking domain.
    constexpr result<void> read_and_clear_dirty(iova io, std::uint64_t size, dirty_bitmap& bits,
                                                iotlb_gather& g, bool clear = true)
        requires(Tables == domain_tables::dirty_tracking)
    {
        return table_.read_and_clear_dirty(io, size, bits, g, clear);
    }

    // The sizes the driver reports (what type1's page-size bitmap reads, SEMANTICS E3): the
    // ones both the IOMMU and the format hold, plus any the IOMMU claims above the format's
    // largest (the 6.1 AMD-Vi driver claimed 2^52..2^63, SEMANTICS P2; no map can use them).
    constexpr pgsize_bitmap pgsizes() const noexcept {
        constexpr std::uint64_t largest = format_pgsizes<typename table_type::format>().max_pgsize();
        return map_sizes() | pgsize_bitmap{I::pgsizes.bits & ~(largest | (largest - 1))};
    }
    // The sizes a map may use: both the IOMMU's and the format's.
    constexpr pgsize_bitmap map_sizes() const noexcept {
        return I::pgsizes & format_pgsizes<typename table_type::format>();
    }
    // The IOMMU's aperture, clipped to what the table can translate.
    constexpr interval aperture() const noexcept {
        constexpr unsigned bits = table_type::format::va_bits;
        const std::uint64_t last = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
        return {I::aperture.first, I::aperture.last < last ? I::aperture.last : last};
    }
    constexpr const reserved_region_list& reserved_regions() const noexcept { return regions_; }
    // SEMANTICS A14: what the driver's enforce_cache_coherency op would answer.
    constexpr bool enforce_cache_coherency() const noexcept { return caps.enforce_cache_coherency; }

    constexpr table_type& table() noexcept { return table_; }
    constexpr const table_type& table() const noexcept { return table_; }

private:
    constexpr domain(table_type&& t, reserved_region_list regions)
        : table_(std::move(t)), regions_(std::move(regions)) {}

    table_type table_;
    reserved_region_list regions_;
};

// A domain whose tables record DMA writes, for migration (iommufd's dirty-tracking HWPT).
template <IommuWithDirtyTables I, PageAllocator A, WalkHooks H = coherent_walk>
using dirty_tracking_domain = domain<I, A, H, domain_tables::dirty_tracking>;

} // namespace passthru::pgtable
