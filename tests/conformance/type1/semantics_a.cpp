// SEMANTICS §A: attach and detach of groups, in the kernel's order, on the mock geometry
// (§1.4) and on real tables. A failing attach leaves everything as it was.
#include <catch2/catch.hpp>

#include <passthru/type1/iova_list.hpp>

#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::testing;
using type1::group;
using type1::iommu_mode;

namespace {
constexpr std::uint64_t K4 = 0x1000;
constexpr interval mock_ap = type1::mock_domain::mock_aperture;

// Real VT-d tables that log the map and unmap calls a container makes of them.
struct call_log {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> maps, unmaps; // {iova, size}
};
template <class D>
class logged_domain {
public:
    static constexpr iommu_caps caps = D::caps;
    logged_domain(D d, call_log& log) : d_(std::move(d)), log_(&log) {}
    result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p) {
        log_->maps.emplace_back(io.value, size);
        return d_.map(io, pa, size, p);
    }
    std::uint64_t unmap(iova io, std::uint64_t size) {
        log_->unmaps.emplace_back(io.value, size);
        return d_.unmap(io, size);
    }
    std::optional<phys_addr> iova_to_phys(iova io) const { return d_.iova_to_phys(io); }
    std::optional<pgtable::leaf_info> leaf_at(iova io) const { return d_.leaf_at(io); }
    pgsize_bitmap pgsizes() const { return d_.pgsizes(); }
    interval aperture() const { return d_.aperture(); }
    reserved_region_list reserved_regions() const { return d_.reserved_regions(); }
    bool enforce_cache_coherency() const { return d_.enforce_cache_coherency(); }

private:
    D d_;
    call_log* log_;
};
struct logged_vtd_domains {
    using tables = type1::table_domains<x86_vtd_ir<>::iommu, pgtable::arena_allocator>;
    using domain_type = logged_domain<tables::domain_type>;
    tables inner;
    call_log* log;
    result<void> create(const group& g, std::optional<domain_type>& out) {
        std::optional<tables::domain_type> d;
        if (auto r = inner.create(g, d); !r) return r;
        out.emplace(std::move(*d), *log);
        return {};
    }
};
static_assert(type1::DomainWithLeaves<logged_vtd_domains::domain_type>);

} // namespace

TEST_CASE("SEMANTICS A1 attach while a vaddr is invalidated is EBUSY") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{mock_ap.first}, K4, va::ram, prot_rw));
    REQUIRE(r.c.invalidate_vaddr(iova{mock_ap.first}, K4));
    refused(r, ebusy, [&] { return r.c.attach(group{.id = 2}); });
    REQUIRE(r.c.update_vaddr(iova{mock_ap.first}, K4, va::ram + K4));
    CHECK(r.c.attach(group{.id = 2}));
}

TEST_CASE("SEMANTICS A2 a group already in the container is EINVAL") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.attach(group{.id = 2, .emulated = true}));
    refused(r, einval, [&] { return r.c.attach(group{.id = 1}); });
    refused(r, einval, [&] { return r.c.attach(group{.id = 2}); });
}

TEST_CASE("SEMANTICS A4 A.5 emulated groups: no domain, no IOVA list, every range valid, nothing pinned") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 7, .emulated = true}));
    CHECK(r.c.domain_count() == 0);
    CHECK(r.c.iova_list().empty());
    // Outside any aperture, and below the mock's: accepted, recorded, not pinned (B13).
    REQUIRE(r.c.map(iova{0}, 4 * K4, va::ram, prot_rw));
    CHECK(r.pinner.pinned_pages() == 0);
    CHECK(r.c.locked_vm() == 0);
    CHECK_FALSE(r.c.mappings().begin()->iommu_mapped);
    // Even an emulated-only platform without MSI isolation takes it (A4 skips A13).
    mock_rig<x86_vtd_no_ir<>> u;
    CHECK(u.c.attach(group{.id = 1, .emulated = true}));
}

TEST_CASE("SEMANTICS A5 a failed domain allocation: the allocator's errno since v6.11, EIO before") {
    mock_rig<> up;
    up.domains.fail_create_call(1);
    refused(up, enomem, [&] { return up.c.attach(group{.id = 1}); });
    mock_rig<x86_vtd_ir<>, type1::profiles::debian_6_1> old;
    old.domains.fail_create_call(1);
    refused(old, eio, [&] { return old.c.attach(group{.id = 1}); });
}

TEST_CASE("SEMANTICS A8 the new aperture must meet the list and leave every mapping inside") {
    // An emulated-only container maps anywhere; the first real domain then finds mappings
    // outside its aperture only if the list is non-empty, so the check starts with domain 2.
    table_rig<x86_vtd_ir<platforms::pci_bus, platforms::intel_vtd<39, false>>> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.iova_list().back().last == 0x7F'FFFF'FFFF);
    REQUIRE(r.c.map(iova{0x10000}, K4, va::ram, prot_rw));
    // A mock domain's aperture starts at 16 MiB: a mapping lies below it.
    mock_rig<> m;
    REQUIRE(m.c.attach(group{.id = 1}));
    REQUIRE(m.c.map(iova{mock_ap.first}, K4, va::ram, prot_rw));
    CHECK(m.c.attach(group{.id = 2, .iommu_unit = 1})); // same aperture: fine, a second domain
    CHECK(m.c.domain_count() == 2);
}

TEST_CASE("SEMANTICS A10 A11 reserved regions: over a mapping is EINVAL, leaving nothing is EINVAL") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{0x200'0000}, K4, va::ram, prot_rw));
    refused(r, einval, [&] {
        return r.c.attach(group{.id = 2, .firmware_regions = {{{0x200'0000, 0x200'0FFF}, resv_type::direct}}});
    });
    refused(r, einval, [&] {
        return r.c.attach(group{.id = 3, .firmware_regions = {{{0, ~std::uint64_t{0}}, resv_type::reserved}}});
    });
    // Relaxable regions never conflict and never cut the list.
    REQUIRE(r.c.attach(group{.id = 4, .firmware_regions = {{{0x200'0000, 0x2FF'FFFF}, resv_type::direct_relaxable}}}));
    CHECK(r.c.iova_list() == interval_list{mock_ap});
}

TEST_CASE("SEMANTICS A.1 aper_resize keeps the kernel's edges") {
    // A new start equal to a node's end drops the node instead of keeping one byte.
    interval_list l{{0x0, 0xFFF}, {0x2000, 0x2FFF}};
    type1::aper_resize(l, {0xFFF, 0xFFFF});
    CHECK(l == interval_list{{0x2000, 0x2FFF}});
    // A new end equal to a node's start drops the node too.
    interval_list m{{0x0, 0xFFF}, {0x2000, 0x2FFF}};
    type1::aper_resize(m, {0x0, 0x2000});
    CHECK(m == interval_list{{0x0, 0xFFF}});
    // Inside a node: shrink.
    interval_list n{{0x0, 0xFFFF}};
    type1::aper_resize(n, {0x1000, 0x8FFF});
    CHECK(n == interval_list{{0x1000, 0x8FFF}});
    interval_list e;
    type1::aper_resize(e, {5, 9});
    CHECK(e == interval_list{{5, 9}});
}

TEST_CASE("SEMANTICS A12 A18 the SW_MSI window becomes the new domain's MSI cookie") {
    table_rig<arm_smmuv3_its<>> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    CHECK(r.c.domain(0).msi_cookie == std::optional<std::uint64_t>{0x800'0000});
    CHECK(r.c.iova_list() == interval_list{{0, 0x7FF'FFFF}, {0x810'0000, 0xFFFF'FFFF'FFFF}});
    // A hardware MSI window means no cookie (x86).
    table_rig<> x;
    REQUIRE(x.c.attach(group{.id = 1}));
    CHECK_FALSE(x.c.domain(0).msi_cookie);
}

TEST_CASE("SEMANTICS A13 the MSI check runs after the IOVA checks, reading the parameter per attach") {
    mock_rig<x86_vtd_no_ir<>> r;
    // A11 fails first even though the platform is not isolated.
    refused(r, einval, [&] {
        return r.c.attach(group{.id = 1, .firmware_regions = {{{0, ~std::uint64_t{0}}, resv_type::reserved}}});
    });
    refused(r, eperm, [&] { return r.c.attach(group{.id = 1}); });
    r.c.set_allow_unsafe_interrupts(true);
    REQUIRE(r.c.attach(group{.id = 1}));
    r.c.set_allow_unsafe_interrupts(false);
    refused(r, eperm, [&] { return r.c.attach(group{.id = 2}); });
    // GICv3 without an ITS: a v6.3+ device without an MSI domain falls back to the arch
    // answer (false on arm64), SEMANTICS P (6.12 refuses).
    mock_rig<arm_smmuv3_its<>> its;
    refused(its, eperm, [&] { return its.c.attach(group{.id = 1, .devices_have_msi_domain = false}); });
}

TEST_CASE("SEMANTICS A15 A17 A19 reuse within one unit, a second unit gets a domain with every mapping replayed") {
    table_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{0x40'0000}, 0x20'0000, va::ram, prot_rw));       // 2M contiguous
    REQUIRE(r.c.map(iova{0x100'0000}, 4 * K4, va::scattered, prot::read)); // scattered frames
    REQUIRE(r.c.attach(group{.id = 2}));
    CHECK(r.c.domain_count() == 1);
    REQUIRE(r.c.attach(group{.id = 3, .iommu_unit = 1}));
    REQUIRE(r.c.domain_count() == 2);
    CHECK(r.c.domain(0).groups.front().id == 3); // A19: the new domain goes to the head
    const auto a = list_entries<table_rig<>::format>(r.c.domain(0).dom.table(), r.fx.arena);
    const auto b = list_entries<table_rig<>::format>(r.c.domain(1).dom.table(), r.fx.arena);
    REQUIRE(a.size() == b.size());
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
        CHECK(i->first == j->first);
        CHECK(i->second.pte == j->second.pte); // the same descriptors, bit for bit
    }
    CHECK(a.at(0x40'0000).size == 0x20'0000); // one 2M leaf
    CHECK(r.pinner.pinned_pages() == 512 + 4); // replay pins nothing more
}

TEST_CASE("SEMANTICS A17 A.4 a replay maps, and an unmap unmaps, whole physically contiguous runs") {
    table_fixture<table_rig<>::format> fx(2048);
    call_log log;
    logged_vtd_domains domains{logged_vtd_domains::tables(fx.arena), &log};
    type1::memory_pinner pinner;
    add_process_memory(pinner);
    type1::container<x86_vtd_ir<>, logged_vtd_domains, type1::memory_pinner, type1::profiles::upstream> c(
        iommu_mode::v2, domains, pinner);
    REQUIRE(c.attach(group{.id = 1}));
    // 8 MiB of contiguous RAM: four 2M leaves, one physical run; then 8 scattered frames.
    const std::uint64_t ram_io = 0x4000'0000, ram_size = 0x80'0000, sc_io = 0x5000'0000, sc_size = 8 * K4;
    REQUIRE(c.map(iova{ram_io}, ram_size, va::ram, prot_rw));
    REQUIRE(c.map(iova{sc_io}, sc_size, va::scattered, prot_rw));
    REQUIRE(c.domain(0).dom.leaf_at(iova{ram_io + 0x20'0000})->size_lg2 == 21);
    // The scattered frames' maximal runs, as the first domain translates them.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> sc_runs;
    for (std::uint64_t off = 0; off < sc_size; off += K4) {
        const std::uint64_t pa = c.domain(0).dom.iova_to_phys(iova{sc_io + off})->value;
        if (off > 0 && c.domain(0).dom.iova_to_phys(iova{sc_io + off - K4})->value + K4 == pa)
            sc_runs.back().second += K4;
        else
            sc_runs.emplace_back(sc_io + off, K4);
    }
    REQUIRE(sc_runs.size() > 1);

    log = {};
    REQUIRE(c.attach(group{.id = 2, .iommu_unit = 1})); // A17: replayed into a new domain
    auto expect = sc_runs;
    expect.insert(expect.begin(), {ram_io, ram_size});
    CHECK(log.maps == expect);

    // vfio_unmap_unpin: every domain but the first whole, the first run by run.
    log = {};
    REQUIRE(c.unmap(iova{ram_io}, ram_size));
    REQUIRE(c.unmap(iova{sc_io}, sc_size));
    expect = {{ram_io, ram_size}, {ram_io, ram_size}, {sc_io, sc_size}};
    expect.insert(expect.end(), sc_runs.begin(), sc_runs.end());
    CHECK(log.unmaps == expect);
    CHECK(pinner.pinned_pages() == 0);
}

TEST_CASE("SEMANTICS A17 A.4 the same runs, read a host page at a time from a domain without leaves (mock)") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{mock_ap.first}, 16 * K4, va::ram, prot_rw)); // contiguous frames
    REQUIRE(r.c.attach(group{.id = 2, .iommu_unit = 1}));
    REQUIRE(r.c.domain_count() == 2);
    const auto& replayed = r.c.domain(0).dom; // A19: the new domain is the head
    CHECK(replayed.map_calls() == 1);
    REQUIRE(replayed.entries().size() == 1);
    CHECK(replayed.entries()[0].size == 16 * K4);
}

TEST_CASE("SEMANTICS A17 attaching a domain to an emulated-only container pins and maps every mapping") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1, .emulated = true}));
    REQUIRE(r.c.map(iova{mock_ap.first}, 8 * K4, va::ram, prot_rw));
    CHECK(r.pinner.pinned_pages() == 0);
    REQUIRE(r.c.attach(group{.id = 2}));
    CHECK(r.pinner.pinned_pages() == 8);
    CHECK(r.c.locked_vm() == 8);
    CHECK(r.c.mappings().begin()->iommu_mapped);
    CHECK(r.c.domain(0).dom.iova_to_phys(iova{mock_ap.first + K4}) == phys_addr{0x1'0000'0000 + K4});
}

TEST_CASE("SEMANTICS A17 a replay that fails leaves the container as it was") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1, .emulated = true}));
    REQUIRE(r.c.map(iova{mock_ap.first}, 8 * K4, va::ram, prot_rw));
    REQUIRE(r.c.map(iova{mock_ap.first + 0x10'0000}, 8 * K4, va::scattered, prot_rw));
    r.domains.fail_map_call(2); // the second mapping's first run fails
    refused(r, enomem, [&] { return r.c.attach(group{.id = 2}); });
    CHECK(r.pinner.pinned_pages() == 0);
    r.domains.clear_faults();
    r.pinner.fail_pin_call(2);
    refused(r, efault, [&] { return r.c.attach(group{.id = 2}); });
    r.pinner.clear_faults();
    r.pinner.set_memlock_limit_pages(10);
    refused(r, enomem, [&] { return r.c.attach(group{.id = 2}); });
}

TEST_CASE("SEMANTICS D1-D6 detach: mappings go with the last group, ranges re-expand, dirty scope") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.attach(group{.id = 2, .firmware_regions = {{{0x200'0000, 0x2FF'FFFF}, resv_type::reserved}}}));
    CHECK(r.c.iova_list() == interval_list{{mock_ap.first, 0x1FF'FFFF}, {0x300'0000, mock_ap.last}});
    REQUIRE(r.c.map(iova{mock_ap.first}, K4, va::ram, prot_rw));
    REQUIRE(r.c.dirty_start());
    REQUIRE(r.c.attach(group{.id = 3, .firmware_regions = {{{0x400'0000, 0x4FF'FFFF}, resv_type::direct}}}));
    REQUIRE(r.c.detach(2)); // D4: the hole of the departed group closes, the others' stay
    CHECK(r.c.iova_list() == interval_list{{mock_ap.first, 0x3FF'FFFF}, {0x500'0000, mock_ap.last}});
    REQUIRE(r.c.detach(3));
    CHECK(r.c.iova_list() == interval_list{mock_ap});
    CHECK(r.c.mappings().size() == 1);
    REQUIRE(r.c.detach(1)); // D3: the only domain, no emulated groups: every mapping goes
    CHECK(r.c.domain_count() == 0);
    CHECK(r.c.mappings().empty());
    CHECK(r.pinner.pinned_pages() == 0);
    CHECK(r.c.pgsize_bitmap() == ~(type1::host_page - 1));
    CHECK(r.c.iova_list() == interval_list{whole_space}); // D3 aper_expand, D4 refresh
    CHECK(err(r.c.detach(9)) == einval);
}

TEST_CASE("SEMANTICS D3 D4 a hole a departing group cut at the list's edge stays cut until a domain goes") {
    // D4 rebuilds over [first start, last end]: the front that group 2 trimmed is not
    // given back while its domain stays (the same IOMMU unit: A15 reuse) ...
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.attach(group{.id = 2, .firmware_regions = {{{mock_ap.first, mock_ap.first + 4 * K4 - 1}, resv_type::reserved}}}));
    CHECK(r.c.domain_count() == 1);
    REQUIRE(r.c.detach(2));
    CHECK(r.c.iova_list() == interval_list{{mock_ap.first + 4 * K4, mock_ap.last}});
    // ... a later group's hole is cut from that list, not from the aperture (A.1 on a copy) ...
    REQUIRE(r.c.attach(group{.id = 3, .firmware_regions = {{{0x200'0000, 0x200'0FFF}, resv_type::reserved}}}));
    CHECK(r.c.iova_list() == interval_list{{mock_ap.first + 4 * K4, 0x1FF'FFFF}, {0x200'1000, mock_ap.last}});
    REQUIRE(r.c.detach(3));
    CHECK(r.c.iova_list() == interval_list{{mock_ap.first + 4 * K4, mock_ap.last}});
    // ... and when a group with a domain of its own leaves, D3's aper_expand widens the
    // window back to the remaining domain's aperture.
    REQUIRE(r.c.attach(group{.id = 4, .iommu_unit = 1}));
    CHECK(r.c.domain_count() == 2);
    REQUIRE(r.c.detach(4));
    CHECK(r.c.iova_list() == interval_list{mock_ap});
}

TEST_CASE("SEMANTICS D3 the last domain goes while emulated groups stay: mappings kept, pages returned") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1, .emulated = true}));
    REQUIRE(r.c.attach(group{.id = 2}));
    REQUIRE(r.c.map(iova{mock_ap.first}, 4 * K4, va::ram, prot_rw));
    CHECK(r.c.locked_vm() == 4);
    REQUIRE(r.c.detach(2));
    CHECK(r.c.mappings().size() == 1);
    CHECK_FALSE(r.c.mappings().begin()->iommu_mapped);
    CHECK(r.pinner.pinned_pages() == 0);
    CHECK(r.c.locked_vm() == 0);
    REQUIRE(r.c.detach(1)); // D1: the last emulated group takes the mappings
    CHECK(r.c.mappings().empty());
    CHECK(r.c.dma_avail() == 65535);
}
