#pragma once
// Containers wired to a pinner and a domain factory, for the type1 tests: the mock-domain
// rig (constexpr-capable geometry of SEMANTICS §1.4) and the real-table rig (a catalog
// platform's IOMMU format over an arena), each with a snapshot that covers everything a
// failed operation must leave as it was: the container's state, every domain's mappings
// or descriptors, and the pages the pinner still holds.
#include <cstdint>
#include <map>
#include <vector>

#include <passthru/platforms/catalog.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/mock_domain.hpp>

#include "pgtable_harness.hpp"

namespace passthru::testing {

// The process every rig maps from: RAM in 2M-contiguous frames, RAM in scattered frames,
// a device BAR (reserved frames) and a read-only region.
namespace va {
inline constexpr std::uint64_t ram = 0x7f00'0000'0000, ram_pages = 16384;       // 64 MiB
inline constexpr std::uint64_t scattered = 0x7e00'0000'0000, scattered_pages = 4096; // 16 MiB
inline constexpr std::uint64_t bar = 0x7d00'0000'0000, bar_pages = 256;           // 1 MiB
inline constexpr std::uint64_t readonly = 0x7c00'0000'0000, readonly_pages = 64;
} // namespace va

inline void add_process_memory(type1::memory_pinner& p) {
    using b = type1::memory_pinner::backing;
    REQUIRE(p.add({va::ram, va::ram_pages, b::contiguous, phys_addr{0x1'0000'0000}}));
    REQUIRE(p.add({va::scattered, va::scattered_pages, b::scattered, phys_addr{0x2'0000'0000}, true, 77}));
    REQUIRE(p.add({va::bar, va::bar_pages, b::reserved, phys_addr{0xF000'0000}}));
    REQUIRE(p.add({va::readonly, va::readonly_pages, b::contiguous, phys_addr{0x3'0000'0000}, false}));
}

template <class P = x86_vtd_ir<>, class K = type1::profiles::upstream>
struct mock_rig {
    type1::mock_domains domains;
    type1::memory_pinner pinner;
    type1::container<P, type1::mock_domains, type1::memory_pinner, K> c;

    explicit mock_rig(type1::iommu_mode m = type1::iommu_mode::v2, type1::container_options o = {})
        : c(m, domains, pinner, o) {
        add_process_memory(pinner);
    }
    struct snapshot {
        type1::container_state state;
        std::vector<std::vector<type1::mock_domain::entry>> tables;
        std::uint64_t pinned = 0;
        bool operator==(const snapshot&) const = default;
    };
    snapshot snap() const {
        snapshot s{c.state(), {}, pinner.pinned_pages()};
        for (std::size_t i = 0; i < c.domain_count(); ++i) s.tables.push_back(c.domain(i).dom.entries());
        return s;
    }
};

// `T` = dirty_tracking: the domains' tables record device writes (container_options::iommu_dirty).
template <class P = x86_vtd_ir<>, class K = type1::profiles::upstream,
          pgtable::domain_tables T = pgtable::domain_tables::translation>
struct table_rig {
    using iommu = typename P::iommu;
    using factory = type1::table_domains<iommu, pgtable::arena_allocator, T>;
    using format = typename factory::domain_type::table_type::format;
    table_fixture<format> fx;
    factory domains;
    type1::memory_pinner pinner;
    type1::container<P, factory, type1::memory_pinner, K> c;

    // `units`: the tables the arena can hand out (fault injection: run it dry).
    explicit table_rig(type1::iommu_mode m = type1::iommu_mode::v2, type1::container_options o = {},
                       std::size_t units = 2048, pgtable::map_over over = pgtable::map_over::refuse)
        : fx(units), domains(fx.arena, over), c(m, domains, pinner, o) {
        add_process_memory(pinner);
    }
    struct snapshot {
        type1::container_state state;
        std::vector<std::map<std::uint64_t, entry_info>> tables;
        std::uint64_t pinned = 0, table_units = 0;
        bool operator==(const snapshot& o) const {
            if (!(state == o.state) || pinned != o.pinned || table_units != o.table_units ||
                tables.size() != o.tables.size())
                return false;
            for (std::size_t i = 0; i < tables.size(); ++i) {
                if (tables[i].size() != o.tables[i].size()) return false;
                for (auto a = tables[i].begin(), b = o.tables[i].begin(); a != tables[i].end(); ++a, ++b)
                    if (a->first != b->first || a->second.pte != b->second.pte || a->second.size != b->second.size)
                        return false;
            }
            return true;
        }
    };
    snapshot snap() const {
        snapshot s{c.state(), {}, pinner.pinned_pages(), fx.arena.live_units()};
        for (std::size_t i = 0; i < c.domain_count(); ++i)
            s.tables.push_back(list_entries<format>(c.domain(i).dom.table(), fx.arena));
        return s;
    }
};

// The errno of a failed result, or 0.
template <class R>
int err(const R& r) {
    return r ? 0 : static_cast<int>(r.error().code);
}
inline constexpr int ok = 0;
inline constexpr int einval = static_cast<int>(errc::einval), eexist = static_cast<int>(errc::eexist),
                     enospc = static_cast<int>(errc::enospc), eperm = static_cast<int>(errc::eperm),
                     ebusy = static_cast<int>(errc::ebusy), enoent = static_cast<int>(errc::enoent),
                     eacces = static_cast<int>(errc::eacces), enomem = static_cast<int>(errc::enomem),
                     efault = static_cast<int>(errc::efault), eoverflow = static_cast<int>(errc::eoverflow),
                     eio = static_cast<int>(errc::eio);

// Runs `op` and checks that it fails with `e` and changes nothing the rig can see.
template <class Rig, class Op>
void refused(Rig& r, int e, Op op) {
    const auto before = r.snap();
    CHECK(err(op()) == e);
    CHECK(r.snap() == before);
}

} // namespace passthru::testing
