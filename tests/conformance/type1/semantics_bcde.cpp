// SEMANTICS §B, §C, §D, §E: map, unmap, dirty tracking and GET_INFO, through the typed API
// and the ABI face, on the mock geometry and on real tables.
#include <algorithm>
#include <array>
#include <cstring>

#include <catch2/catch.hpp>

#include <passthru/type1/abi_face.hpp>
#include <passthru/type1/info.hpp>

#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::testing;
using type1::group;
using type1::iommu_mode;

namespace {
constexpr std::uint64_t K4 = 0x1000;
constexpr std::uint64_t base = type1::mock_domain::mock_aperture.first;


template <class T>
std::vector<std::byte> bytes_of(const T& v, std::size_t extra = 0) {
    std::vector<std::byte> out(sizeof(T) + extra);
    std::memcpy(out.data(), &v, sizeof(T));
    return out;
}

// User memory: one buffer of words at a fixed user address.
struct one_buffer {
    std::uint64_t addr = 0x5000'0000;
    std::vector<std::uint64_t> data;
    std::optional<std::span<std::uint64_t>> words(std::uint64_t a, std::uint64_t bytes) {
        if (a != addr || bytes > data.size() * 8) return std::nullopt;
        return std::span<std::uint64_t>(data.data(), (bytes + 7) / 8);
    }
};
static_assert(type1::UserMemory<one_buffer>);
} // namespace

TEST_CASE("SEMANTICS B1 B2 B5 B7 the ABI face checks argsz and flags first") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    {
        auto m = bytes_of(type1::abi::dma_map{31, 3, va::ram, base, K4});
        refused(r, einval, [&] { return type1::map_dma(r.c, m); }); // argsz < 32
        auto f = bytes_of(type1::abi::dma_map{32, 8, va::ram, base, K4});
        refused(r, einval, [&] { return type1::map_dma(r.c, f); }); // unknown flag
        std::vector<std::byte> shortarg(16);
        refused(r, efault, [&] { return type1::map_dma(r.c, shortarg); }); // B1
        auto ok_map = bytes_of(type1::abi::dma_map{32, 3, va::ram, base, K4});
        CHECK(type1::map_dma(r.c, ok_map));
    }
    refused(r, einval, [&] { return r.c.map(iova{base + K4}, K4, va::ram + 0x800, prot_rw); }); // B7 vaddr
}

TEST_CASE("SEMANTICS B6 B11 B13 without an IOMMU domain: the host page, any IOVA, nothing pinned") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 9, .emulated = true}));
    CHECK(r.c.iova_list().empty());
    refused(r, einval, [&] { return r.c.map(iova{0x800}, K4, va::ram, prot_rw); }); // B6: 4K, not smaller
    // B11 needs a non-empty list: far outside the mock aperture is fine here ...
    REQUIRE(r.c.map(iova{std::uint64_t{1} << 40}, 16 * K4, va::ram, prot_rw));
    // ... and B13: the mapping is recorded, no page is pinned or charged.
    CHECK(r.pinner.pinned_pages() == 0);
    CHECK(r.c.locked_vm() == 0);
    CHECK_FALSE(r.c.mappings().begin()->iommu_mapped);
    // With a domain the list is the aperture, and a map must sit inside one of its ranges.
    mock_rig<> d;
    REQUIRE(d.c.attach(group{.id = 1}));
    const std::uint64_t top = type1::mock_domain::mock_aperture.last + 1;
    refused(d, einval, [&] { return d.c.map(iova{std::uint64_t{1} << 40}, K4, va::ram, prot_rw); });
    refused(d, einval, [&] { return d.c.map(iova{top - K4}, 2 * K4, va::ram, prot_rw); }); // straddles the end
    REQUIRE(d.c.attach(group{.id = 2, .firmware_regions = {{{base + 4 * K4, base + 5 * K4 - 1}, resv_type::reserved}}}));
    refused(d, einval, [&] { return d.c.map(iova{base + 3 * K4}, 3 * K4, va::ram, prot_rw); }); // over the hole
    CHECK(d.c.map(iova{base}, 4 * K4, va::ram, prot_rw));
    CHECK(d.pinner.pinned_pages() == 4);
}

TEST_CASE("SEMANTICS B4 B8 a range may end at 2^64-1, not past it: EOVERFLOW since v6.18, EINVAL before") {
    constexpr std::uint64_t last_page = 0xFFFF'FFFF'FFFF'F000;
    mock_rig<> r; // upstream: the v6.18 checks (B4)
    REQUIRE(r.c.attach(group{.id = 9, .emulated = true}));
    refused(r, einval, [&] { return r.c.map(iova{base}, 0, va::ram, prot_rw); });
    refused(r, eoverflow, [&] { return r.c.map(iova{last_page}, 2 * K4, va::ram, prot_rw); });
    refused(r, eoverflow, [&] { return r.c.map(iova{base}, 2 * K4, last_page, prot_rw); }); // the vaddr wraps
    CHECK(r.c.map(iova{last_page}, K4, va::ram, prot_rw));
    mock_rig<x86_vtd_ir<>, type1::profiles::debian_6_12> old; // B8 as 6.12 has it
    REQUIRE(old.c.attach(group{.id = 9, .emulated = true}));
    refused(old, einval, [&] { return old.c.map(iova{last_page}, 2 * K4, va::ram, prot_rw); });
    refused(old, einval, [&] { return old.c.map(iova{base}, 2 * K4, last_page, prot_rw); });
    CHECK(old.c.map(iova{last_page}, K4, va::ram, prot_rw));
}

TEST_CASE("SEMANTICS P5 on 6.1 and 6.12 a mapping that ends at 2^64-1 cannot be unmapped and hides the rest") {
    // The AMD-Vi transcripts' E1-E7 through the typed API: the kernel's tree, and tables
    // that rewrite a page mapped twice as that kernel's AMD-Vi driver did.
    constexpr std::uint64_t last_page = 0xFFFF'FFFF'FFFF'F000;
    table_rig<x86_amdvi_ir<>, type1::profiles::debian_6_12> old(iommu_mode::v2, {}, 2048,
                                                                pgtable::map_over::replace_leaves);
    REQUIRE(old.c.attach(group{.id = 1}));
    CHECK(old.c.map(iova{last_page}, K4, va::ram, prot_rw));                // E1
    CHECK(*old.c.unmap(iova{last_page}, K4) == 0);                         // E2: the walk stops at once
    CHECK(old.c.map(iova{last_page}, K4, va::ram, prot_rw));                // E3: not EEXIST, a second one
    CHECK(old.c.map(iova{0x10000}, 4 * K4, va::ram + 0x10000, prot_rw));    // E4
    CHECK(*old.c.unmap_all() == 0);                                        // E5
    CHECK(*old.c.unmap(iova{0x10000}, 4 * K4) == 0);                       // E6
    CHECK(*old.c.unmap(iova{last_page}, K4) == 0);                         // E7
    refused(old, eexist, [&] { return old.c.map(iova{0x12000}, K4, va::ram, prot_rw); }); // B9 still sees it
    CHECK(old.c.dma_avail() == 65532);
    CHECK(old.c.mappings().size() == 3);
    CHECK(old.c.domain(0).dom.iova_to_phys(iova{last_page}) == phys_addr{0x1'0000'0000});
    CHECK(old.c.domain(0).dom.iova_to_phys(iova{0x13000}) == phys_addr{0x1'0001'3000});

    // Upstream (the v6.18 series) keeps every mapping reachable: the probe's expectations.
    table_rig<x86_amdvi_ir<>> now;
    REQUIRE(now.c.attach(group{.id = 1}));
    CHECK(now.c.map(iova{last_page}, K4, va::ram, prot_rw));
    CHECK(*now.c.unmap(iova{last_page}, K4) == K4);
    CHECK(now.c.map(iova{last_page}, K4, va::ram, prot_rw));
    refused(now, eexist, [&] { return now.c.map(iova{last_page}, K4, va::ram, prot_rw); });
    CHECK(now.c.map(iova{0x10000}, 4 * K4, va::ram + 0x10000, prot_rw));
    CHECK(*now.c.unmap_all() == 5 * K4);
    CHECK(now.c.dma_avail() == 65535);
    CHECK(now.pinner.pinned_pages() == 0);
}

TEST_CASE("SEMANTICS P5 PGTABLE §4 a map over mapped pages: EEXIST, or rewritten leaves of the same size") {
    table_rig<x86_amdvi_ir<>> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    auto& t = r.c.domain(0).dom.table();
    CHECK(t.map_over_mode() == pgtable::map_over::refuse);
    REQUIRE(t.map(iova{0x200000}, phys_addr{0x4000'0000}, 0x200000, prot_rw)); // one 2M leaf
    REQUIRE(t.map(iova{0x400000}, phys_addr{0x5000'0000}, K4, prot_rw));      // one 4K leaf
    CHECK(err(t.map(iova{0x400000}, phys_addr{0x6000'0000}, K4, prot_rw)) == eexist);
    t.set_map_over(pgtable::map_over::replace_leaves);
    CHECK(t.map(iova{0x400000}, phys_addr{0x6000'0000}, K4, prot_rw));
    CHECK(t.iova_to_phys(iova{0x400000}) == phys_addr{0x6000'0000});
    // Only leaves of the new page's size are rewritten: a 4K page inside the 2M leaf, or a
    // 2M page over the 4K leaf's table, is still EEXIST.
    CHECK(err(t.map(iova{0x201000}, phys_addr{0x7000'0000}, K4, prot_rw)) == eexist);
    CHECK(err(t.map(iova{0x400000}, phys_addr{0x8000'0000}, 0x200000, prot_rw)) == eexist);
    CHECK(t.iova_to_phys(iova{0x201000}) == phys_addr{0x4000'1000});
}

TEST_CASE("SEMANTICS B9 VADDR updates name exactly one invalidated mapping") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base}, 4 * K4, va::ram, prot_rw));
    refused(r, enoent, [&] { return r.c.update_vaddr(iova{base + 0x10'0000}, K4, va::ram); });
    refused(r, einval, [&] { return r.c.update_vaddr(iova{base}, 4 * K4, va::ram); }); // not invalidated
    REQUIRE(r.c.invalidate_vaddr(iova{base}, 4 * K4));
    refused(r, einval, [&] { return r.c.update_vaddr(iova{base}, 2 * K4, va::ram); }); // not the whole one
    REQUIRE(r.c.update_vaddr(iova{base}, 4 * K4, va::ram + 0x10'0000));
    CHECK(r.c.mappings().begin()->vaddr == va::ram + 0x10'0000);
    CHECK(r.c.mappings().begin()->perm == prot_rw); // VADDR never changes protection
}

TEST_CASE("SEMANTICS B10 dma_entry_limit is sampled at open") {
    mock_rig<> r(iommu_mode::v2, {.dma_entry_limit = 2});
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base}, K4, va::ram, prot_rw));
    REQUIRE(r.c.map(iova{base + K4}, K4, va::ram, prot_rw));
    refused(r, enospc, [&] { return r.c.map(iova{base + 2 * K4}, K4, va::ram, prot_rw); });
    REQUIRE(r.c.unmap(iova{base}, K4));
    CHECK(r.c.map(iova{base + 2 * K4}, K4, va::ram, prot_rw));
}

TEST_CASE("SEMANTICS B14 runs of frames: contiguous, scattered, reserved, locked memory, faults") {
    table_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    // 2M-contiguous RAM at a 2M IOVA: one 2M leaf; 2 MiB charged.
    REQUIRE(r.c.map(iova{0x4000'0000}, 0x20'0000, va::ram, prot_rw));
    auto e = list_entries<table_rig<>::format>(r.c.domain(0).dom.table(), r.fx.arena);
    CHECK(e.at(0x4000'0000).size == 0x20'0000);
    CHECK(r.c.locked_vm() == 512);
    // A BAR: mapped, never charged.
    REQUIRE(r.c.map(iova{0x5000'0000}, 16 * K4, va::bar, prot_rw));
    CHECK(r.c.locked_vm() == 512);
    CHECK(r.c.domain(0).dom.iova_to_phys(iova{0x5000'0000 + K4}) == phys_addr{0xF000'0000 + K4});
    // Scattered frames: each page where the pinner put it.
    REQUIRE(r.c.map(iova{0x6000'0000}, 8 * K4, va::scattered, prot::read));
    for (std::uint64_t i = 0; i < 8; ++i) {
        auto pa = r.c.domain(0).dom.iova_to_phys(iova{0x6000'0000 + i * K4});
        REQUIRE(pa);
        CHECK(pa->value >= 0x2'0000'0000);
    }
    // A write mapping of read-only memory, an unbacked vaddr, the memlock limit, a fault.
    refused(r, efault, [&] { return r.c.map(iova{0x7000'0000}, K4, va::readonly, prot_rw); });
    CHECK(r.c.map(iova{0x7000'0000}, K4, va::readonly, prot::read));
    refused(r, efault, [&] { return r.c.map(iova{0x7100'0000}, K4, 0x1000, prot_rw); });
    r.pinner.set_memlock_limit_pages(r.c.locked_vm() + 3);
    refused(r, enomem, [&] { return r.c.map(iova{0x7200'0000}, 4 * K4, va::ram, prot_rw); });
    r.pinner.set_lock_cap(true); // CAP_IPC_LOCK: no limit
    CHECK(r.c.map(iova{0x7200'0000}, 4 * K4, va::ram, prot_rw));
    r.pinner.set_lock_cap(false);
    // A map of more runs than one pin call returns (256), failing at its second call.
    r.pinner.set_memlock_limit_pages(~std::uint64_t{0});
    r.pinner.fail_pin_call(2);
    refused(r, efault, [&] { return r.c.map(iova{0x8000'0000}, 300 * K4, va::scattered + 0x10'0000, prot_rw); });
    r.pinner.clear_faults();
    CHECK(r.c.unmap_all());
    CHECK(r.pinner.pinned_pages() == 0);
    CHECK(r.c.locked_vm() == 0);
}

TEST_CASE("SEMANTICS B14 a mapping crossing a 2M boundary in one run gets the page sizes of G1.3") {
    table_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    // 4K before a 2M boundary, a whole 2M, 4K after: the run continues across pin batches.
    REQUIRE(r.c.map(iova{0x1F'F000}, 0x20'2000, va::ram + 0x1F'F000, prot_rw));
    auto e = list_entries<table_rig<>::format>(r.c.domain(0).dom.table(), r.fx.arena);
    CHECK(e.size() == 3);
    CHECK(e.at(0x1F'F000).size == K4);
    CHECK(e.at(0x20'0000).size == 0x20'0000);
    CHECK(e.at(0x40'0000).size == K4);
    // disable_hugepages: one page per run, so only 4K leaves.
    table_rig<> s(iommu_mode::v2, {.disable_hugepages = true});
    REQUIRE(s.c.attach(group{.id = 1}));
    REQUIRE(s.c.map(iova{0x20'0000}, 0x20'0000, va::ram, prot_rw));
    CHECK(list_entries<table_rig<>::format>(s.c.domain(0).dom.table(), s.fx.arena).size() == 512);
}

TEST_CASE("SEMANTICS B14 a domain that fails a map leaves every other domain as it was") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    r.domains.fail_map_call(3);
    REQUIRE(r.c.attach(group{.id = 2, .iommu_unit = 1})); // a second domain that fails its 3rd map
    REQUIRE(r.c.map(iova{base}, K4, va::ram, prot_rw));   // map call 1
    REQUIRE(r.c.map(iova{base + 0x10'0000}, K4, va::ram, prot_rw)); // 2
    refused(r, enomem, [&] { return r.c.map(iova{base + 0x20'0000}, 4 * K4, va::scattered, prot_rw); });
}

TEST_CASE("SEMANTICS C1 C2 C3 C11 the ABI face of UNMAP_DMA") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base}, 4 * K4, va::ram, prot_rw));
    type1::no_user_memory none;
    auto bad = bytes_of(type1::abi::dma_unmap{24, 8, base, 4 * K4});
    refused(r, einval, [&] { return type1::unmap_dma(r.c, bad, none); });
    auto both = bytes_of(type1::abi::dma_unmap{24, 1 | 2, 0, 0});
    refused(r, einval, [&] { return type1::unmap_dma(r.c, both, none); });
    auto nobitmap = bytes_of(type1::abi::dma_unmap{24, 1, base, 4 * K4});
    refused(r, einval, [&] { return type1::unmap_dma(r.c, nobitmap, none); }); // argsz < 48
    auto u = bytes_of(type1::abi::dma_unmap{24, 0, base, 4 * K4});
    REQUIRE(type1::unmap_dma(r.c, u, none));
    type1::abi::dma_unmap back{};
    std::memcpy(&back, u.data(), sizeof back);
    CHECK(back.size == 4 * K4); // C11: the bytes unmapped are written back
}

TEST_CASE("SEMANTICS C4 C10 VADDR invalidation: refused with emulated groups, all or nothing") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base}, K4, va::ram, prot_rw));
    REQUIRE(r.c.map(iova{base + K4}, K4, va::ram, prot_rw));
    REQUIRE(r.c.invalidate_vaddr(iova{base + K4}, K4));
    refused(r, einval, [&] { return r.c.invalidate_vaddr(iova{base}, 2 * K4); }); // the second is invalid already
    CHECK_FALSE(r.c.mappings().begin()->vaddr_invalid);
    auto all = r.c.invalidate_vaddr(iova{0}, 0, true);
    CHECK(err(all) == einval); // ALL with VADDR flags the invalid one again: rolled back
    CHECK_FALSE(r.c.mappings().begin()->vaddr_invalid);
    REQUIRE(r.c.update_vaddr(iova{base + K4}, K4, va::ram));
    REQUIRE(r.c.attach(group{.id = 2, .emulated = true}));
    refused(r, ebusy, [&] { return r.c.invalidate_vaddr(iova{base}, K4); });
    CHECK(r.c.check_extension(type1::abi::extension::update_vaddr) == 0);
}

TEST_CASE("SEMANTICS C6 C7 C9 alignment, wrap and bisection of UNMAP_DMA") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base}, 4 * K4, va::ram, prot_rw));
    refused(r, einval, [&] { return r.c.unmap(iova{base + 0x800}, K4); });                 // C6
    refused(r, einval, [&] { return r.c.unmap(iova{base}, 0); });                          // C7
    refused(r, eoverflow, [&] { return r.c.unmap(iova{0xFFFF'FFFF'FFFF'F000}, 2 * K4); }); // C7, v6.18
    refused(r, einval, [&] { return r.c.unmap(iova{base}, 2 * K4); });                     // C9 end
    refused(r, einval, [&] { return r.c.unmap(iova{base + K4}, 3 * K4); });                // C9 start
    mock_rig<x86_vtd_ir<>, type1::profiles::debian_6_12> old;
    REQUIRE(old.c.attach(group{.id = 1}));
    refused(old, einval, [&] { return old.c.unmap(iova{0xFFFF'FFFF'FFFF'F000}, 2 * K4); });
}

TEST_CASE("SEMANTICS D2 D3 D4 D5 D6 D7 dirty tracking through the ABI face") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base + 2 * K4}, 3 * K4, va::ram, prot_rw));
    one_buffer mem{0x5000'0000, std::vector<std::uint64_t>(2, 0)};
    auto both = bytes_of(type1::abi::dirty_bitmap{8, 1 | 2});
    refused(r, einval, [&] { return type1::dirty_pages(r.c, both, mem); }); // D2 (SEMANTICS N22)
    auto none = bytes_of(type1::abi::dirty_bitmap{8, 0});
    refused(r, einval, [&] { return type1::dirty_pages(r.c, none, mem); });
    auto start = bytes_of(type1::abi::dirty_bitmap{8, 1});
    REQUIRE(type1::dirty_pages(r.c, start, mem));
    REQUIRE(type1::dirty_pages(r.c, start, mem)); // D3: already on is a no-op
    // GET_BITMAP over [base, base+128K): every page of the mapping is dirty (D7), at bit 2.
    type1::abi::dirty_pages_get g{{48, 4}, {base, 32 * K4, {K4, 8, mem.addr}}};
    mem.data[0] = 0x1; // the user's word is OR-merged (D6)
    auto get = bytes_of(g);
    REQUIRE(type1::dirty_pages(r.c, get, mem));
    CHECK(mem.data[0] == (0x1 | 0b11100));
    // Misaligned, wrong page size, a bisected mapping.
    type1::abi::dirty_pages_get bis{{48, 4}, {base, 3 * K4, {K4, 8, mem.addr}}};
    auto cut = bytes_of(bis);
    refused(r, einval, [&] { return type1::dirty_pages(r.c, cut, mem); });
    type1::abi::dirty_pages_get pg{{48, 4}, {base, 32 * K4, {2 * K4, 8, mem.addr}}};
    auto wrongpg = bytes_of(pg);
    refused(r, einval, [&] { return type1::dirty_pages(r.c, wrongpg, mem); });
    type1::abi::dirty_pages_get small{{48, 4}, {base, 128 * K4, {K4, 8, mem.addr}}};
    auto toosmall = bytes_of(small);
    refused(r, einval, [&] { return type1::dirty_pages(r.c, toosmall, mem); }); // 128 bits in 8 bytes
    // Unmap with the bitmap: the mapping's bits land at its offset from the unmap's iova,
    // bit 1, and so do the two bits the first report at bit 2 left in the mapping's bitmap
    // above its 3 pages (the user's 0x1 OR-ed in at bit 0, shifted to 3 and 4), as the booted kernels do (tests/kernel/observed.md §5 item 6).
    std::vector<std::uint64_t> out(1, 0);
    auto un = r.c.unmap_with_bitmap(iova{base + K4}, 8 * K4, {K4, out});
    REQUIRE(un);
    CHECK(*un == 3 * K4);
    CHECK(out[0] == 0b111110);
    auto stop = bytes_of(type1::abi::dirty_bitmap{8, 2});
    REQUIRE(type1::dirty_pages(r.c, stop, mem));
    CHECK_FALSE(r.c.dirty_tracking());
}

TEST_CASE("SEMANTICS D1 dirty tracking needs v2: EACCES on v1") {
    mock_rig<> r(iommu_mode::v1);
    REQUIRE(r.c.attach(group{.id = 1}));
    refused(r, eacces, [&] { return r.c.dirty_start(); });
    type1::no_user_memory none;
    auto start = bytes_of(type1::abi::dirty_bitmap{8, 1});
    refused(r, eacces, [&] { return type1::dirty_pages(r.c, start, none); });
}

TEST_CASE("SEMANTICS B15 a map while tracking gets a bitmap, too many pages for one is EINVAL") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 9, .emulated = true})); // no pinning: the size is free
    REQUIRE(r.c.dirty_start());
    refused(r, einval, [&] { return r.c.map(iova{0}, std::uint64_t{1} << 43, va::ram, prot_rw); }); // 2^31 pages
    REQUIRE(r.c.map(iova{0}, 64 * K4, va::ram, prot_rw));
    CHECK(r.c.mappings().begin()->bitmap.size() == 2);
}

TEST_CASE("SEMANTICS C8 an unmap with a bitmap needs tracking on and the smallest page size") {
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 1}));
    REQUIRE(r.c.map(iova{base}, 4 * K4, va::ram, prot_rw));
    std::vector<std::uint64_t> bits(1, 0);
    refused(r, einval, [&] { return r.c.unmap_with_bitmap(iova{base}, 4 * K4, {K4, bits}); }); // tracking off
    REQUIRE(r.c.dirty_start());
    refused(r, einval, [&] { return r.c.unmap_with_bitmap(iova{base}, 4 * K4, {2 * K4, bits}); });
    CHECK(bits[0] == 0);
    auto u = r.c.unmap_with_bitmap(iova{base}, 4 * K4, {K4, bits});
    REQUIRE(u);
    CHECK(*u == 4 * K4);
    CHECK(bits[0] == 0xf);
}

TEST_CASE("SEMANTICS A20 D7 only IOMMU groups outside pinned-page scope make every page dirty") {
    // Emulated groups start in scope (D7): with no other group nothing pins, nothing is dirty.
    mock_rig<> r;
    REQUIRE(r.c.attach(group{.id = 9, .emulated = true}));
    REQUIRE(r.c.map(iova{base}, 4 * K4, va::ram, prot_rw));
    REQUIRE(r.c.dirty_start());
    std::vector<std::uint64_t> bits(1, 0);
    REQUIRE(r.c.dirty_get(iova{base}, 4 * K4, {K4, bits}));
    CHECK(bits[0] == 0);
    CHECK(r.c.state().non_pinned_groups == 0);
    // An IOMMU group counts as outside the scope from its attach on (A20): every page of every
    // mapping it made iommu_mapped is dirty at each query.
    REQUIRE(r.c.attach(group{.id = 1}));
    CHECK(r.c.state().non_pinned_groups == 1);
    REQUIRE(r.c.dirty_get(iova{base}, 4 * K4, {K4, bits}));
    CHECK(bits[0] == 0xf);
    bits[0] = 0;
    REQUIRE(r.c.dirty_get(iova{base}, 4 * K4, {K4, bits}));
    CHECK(bits[0] == 0xf);
}

TEST_CASE("SEMANTICS D8 the MIGRATION cap: the smallest page size only, 256 MiB, on every format") {
    table_rig<arm_smmuv3_its<>> arm; // 4K | 2M | 1G
    REQUIRE(arm.c.attach(group{.id = 1}));
    CHECK(arm.c.pgsize_bitmap() == (K4 | 0x20'0000 | 0x4000'0000));
    CHECK(arm.c.info().migration_pgsize == K4);
    CHECK(arm.c.info().max_dirty_bitmap_size == 0x1000'0000);
    table_rig<x86_amdvi_ir<>> amd;
    REQUIRE(amd.c.attach(group{.id = 1}));
    CHECK(amd.c.info().migration_pgsize == K4);
    CHECK(amd.c.info().max_dirty_bitmap_size == 0x1000'0000);
}

TEST_CASE("SEMANTICS E1 GET_INFO bytes: the layouts booted 6.1 and 6.12 kernels returned") {
    // 6.1, SMMUv3 + GICv2m (transcripts/6.1-arm-smmuv3-gicv2m.probe): argsz 116, caps at
    // 24 -> 56 -> 68, two ranges around the SW_MSI window.
    table_rig<arm_smmuv3_its<>, type1::profiles::debian_6_1> a;
    REQUIRE(a.c.attach(group{.id = 0}));
    std::vector<std::byte> buf(200);
    type1::abi::iommu_info in{200, 0, 0, 0, 0};
    std::memcpy(buf.data(), &in, sizeof in);
    REQUIRE(type1::get_info(a.c, buf));
    type1::abi::iommu_info out{};
    std::memcpy(&out, buf.data(), sizeof out);
    CHECK(out.argsz == 200);
    CHECK(out.flags == 3);
    CHECK(out.iova_pgsizes == 0x40201000);
    CHECK(out.cap_offset == 24);
    auto next_at = [&](std::size_t off) {
        type1::abi::cap_header h{};
        std::memcpy(&h, buf.data() + off, sizeof h);
        return h;
    };
    CHECK(next_at(24).id == 2);
    CHECK(next_at(24).next == 56);
    CHECK(next_at(56).id == 3);
    CHECK(next_at(56).next == 68);
    CHECK(next_at(68).id == 1);
    CHECK(next_at(68).next == 0);
    // argsz 16 and 24: only the size is reported, caps not copied (transcript argsz_out=116).
    std::vector<std::byte> small(24);
    type1::abi::iommu_info s{24, 0, 0, 0, 0};
    std::memcpy(small.data(), &s, sizeof s);
    REQUIRE(type1::get_info(a.c, small));
    std::memcpy(&s, small.data(), sizeof s);
    CHECK(s.argsz == 116);
    CHECK(s.cap_offset == 0);
    type1::abi::iommu_info tiny{15, 0, 0, 0, 0};
    std::memcpy(small.data(), &tiny, sizeof tiny);
    CHECK(err(type1::get_info(a.c, small)) == einval);
    // 6.12, AMD-Vi: padded DMA_AVAIL, three ranges: argsz 136, caps 24 -> 56 -> 72.
    table_rig<x86_amdvi_ir<>, type1::profiles::debian_6_12> b;
    REQUIRE(b.c.attach(group{.id = 0}));
    std::vector<std::byte> bb(24);
    type1::abi::iommu_info q{24, 0, 0, 0, 0};
    std::memcpy(bb.data(), &q, sizeof q);
    REQUIRE(type1::get_info(b.c, bb));
    std::memcpy(&q, bb.data(), sizeof q);
    CHECK(q.argsz == 136);
    CHECK(q.iova_pgsizes == 0xfff7ffffff000);
    // Emulated groups only: no IOVA cap (A.5), 72 bytes on v6.6+.
    mock_rig<> m;
    REQUIRE(m.c.attach(group{.id = 1, .emulated = true}));
    CHECK(type1::info_caps<type1::profiles::upstream>(m.c.info()).size() + 24 == 72);
    CHECK(type1::info_caps<type1::profiles::debian_6_1>(m.c.info()).size() + 24 == 68);
}

TEST_CASE("SEMANTICS E1 K.4 GET_INFO at every argsz from 16 past the full size writes nothing beyond argsz") {
    table_rig<> r; // VT-d: two usable ranges around the MSI window
    REQUIRE(r.c.attach(group{.id = 1}));
    const std::uint32_t total = 24 + static_cast<std::uint32_t>(type1::info_caps<type1::profiles::upstream>(r.c.info()).size());
    CHECK(total == 88 + 16 * 2);
    for (std::uint32_t argsz = 16; argsz <= total + 16; ++argsz) {
        INFO("argsz " << argsz);
        std::vector<std::byte> buf(argsz + 32, std::byte{0xAB});
        std::memcpy(buf.data(), &argsz, sizeof argsz);
        REQUIRE(type1::get_info(r.c, buf));
        CHECK(std::all_of(buf.begin() + argsz, buf.end(), [](std::byte b) { return b == std::byte{0xAB}; }));
        type1::abi::iommu_info out{};
        std::memcpy(&out, buf.data(), std::min<std::size_t>(argsz, sizeof out));
        CHECK(out.argsz == std::max(argsz, total)); // too small: the size it needs
        CHECK(out.flags == (type1::abi::info_flag::pgsizes | type1::abi::info_flag::caps));
        if (argsz >= 24) CHECK(out.cap_offset == (argsz >= total ? 24u : 0u));
    }
}

TEST_CASE("SEMANTICS E1 the header written back: min(argsz, 24) bytes since v6.6, 16 or 20 before (the pad never)") {
    // What the booted kernels did with a 0xa5-filled buffer (tests/kernel shadow_raw lines,
    // observed.md §5 item 8): 6.12 wrote min(argsz, 24) bytes; 6.1 wrote 16, or 20 from
    // argsz 20 on, and left the pad (bytes 20-23) as it was.
    auto header = [](auto& rig, std::uint32_t argsz) {
        std::vector<std::byte> buf(256, std::byte{0xa5});
        std::memcpy(buf.data(), &argsz, sizeof argsz);
        REQUIRE(type1::get_info(rig.c, buf));
        std::size_t written = 0; // the last byte that is no longer 0xa5, within the header
        for (std::size_t i = 4; i < 24; ++i)
            if (buf[i] != std::byte{0xa5}) written = i + 1;
        return written;
    };
    table_rig<x86_vtd_ir<>, type1::profiles::debian_6_12> padded;
    table_rig<x86_vtd_ir<>, type1::profiles::debian_6_1> unpadded;
    REQUIRE(padded.c.attach(group{.id = 1}));
    REQUIRE(unpadded.c.attach(group{.id = 1}));
    for (std::uint32_t argsz : {16u, 17u, 19u, 20u, 21u, 23u, 24u, 40u, 200u}) {
        INFO("argsz " << argsz);
        CHECK(header(padded, argsz) == std::min<std::size_t>(argsz, 24));
        CHECK(header(unpadded, argsz) == (argsz >= 20 ? 20u : 16u));
    }
    CHECK(type1::info_header_bytes<type1::profiles::upstream>(17) == 17);
}

TEST_CASE("SEMANTICS E1 read_info reads back every value get_info wrote, and refuses a broken chain") {
    auto round_trip = [](auto& rig) {
        REQUIRE(rig.c.attach(group{.id = 0}));
        REQUIRE(rig.c.map(iova{0x100000}, 4 * K4, va::ram, prot_rw));
        std::vector<std::byte> buf(256);
        const type1::abi::iommu_info in{256, 0, 0, 0, 0};
        std::memcpy(buf.data(), &in, sizeof in);
        REQUIRE(type1::get_info(rig.c, buf));
        const auto v = type1::read_info(buf);
        REQUIRE(v);
        CHECK(*v == rig.c.info());
        return buf;
    };
    table_rig<arm_smmuv3_its<>, type1::profiles::debian_6_1> unpadded; // DMA_AVAIL in 12 bytes
    round_trip(unpadded);
    table_rig<x86_amdvi_ir<>> padded;
    auto buf = round_trip(padded);
    CHECK(type1::read_info(buf)->iova_ranges.size() == 3);

    auto broken = [&](std::size_t at, std::uint32_t value) {
        auto b = buf;
        std::memcpy(b.data() + at, &value, sizeof value);
        return err(type1::read_info(b));
    };
    CHECK(broken(16, 250) == einval);  // cap_offset: no room for a header
    CHECK(broken(16, 8) == einval);    // cap_offset inside the GET_INFO header
    CHECK(broken(28, 24) == einval);   // MIGRATION's next points back at itself
    CHECK(broken(80, 1000) == einval); // nr_iovas past the buffer
    CHECK(err(type1::read_info(std::span<const std::byte>(buf).first(20))) == einval);
    auto no_caps = buf;
    no_caps[4] = std::byte{1}; // flags: page sizes only
    CHECK(type1::read_info(no_caps)->dma_avail == 0);
}

TEST_CASE("SEMANTICS E2 A14 CHECK_EXTENSION before and after SET_IOMMU, per kernel") {
    using type1::abi::extension;
    CHECK(type1::check_extension_unset<type1::profiles::debian_6_1>(extension::update_vaddr) == 0); // P4
    CHECK(type1::check_extension_unset<type1::profiles::debian_6_1>(extension::type1_nesting) == 1);
    CHECK(type1::check_extension_unset<type1::profiles::upstream>(extension::type1_nesting) == 0);
    CHECK(type1::check_extension_unset<type1::profiles::upstream>(extension::dma_cc_iommu) == 0);
    // P9: DMA_CC_IOMMU follows snoop control; QEMU's default VT-d has none.
    table_rig<x86_vtd_ir<platforms::pci_bus, platforms::intel_vtd<39, false>>> q;
    REQUIRE(q.c.attach(group{.id = 1}));
    CHECK(q.c.check_extension(extension::dma_cc_iommu) == 0);
    table_rig<> sc;
    CHECK(sc.c.check_extension(extension::dma_cc_iommu) == 1); // no domain yet: vacuously 1
    REQUIRE(sc.c.attach(group{.id = 1}));
    CHECK(sc.c.check_extension(extension::dma_cc_iommu) == 1);
    CHECK(sc.c.check_extension(extension::update_vaddr) == 1);
    CHECK(sc.c.check_extension(extension::noiommu) == 0);
    type1::no_user_memory none;
    std::vector<std::byte> nothing;
    CHECK(err(type1::ioctl(sc.c, 0x3B99, nothing, 0, none)) == static_cast<int>(errc::enotty));
    CHECK(*type1::ioctl(sc.c, type1::abi::check_extension, nothing, 9, none) == 1);
    CHECK(err(type1::iommu_mode_of<type1::profiles::upstream>(6)) == einval);
    CHECK(*type1::iommu_mode_of<type1::profiles::debian_6_12>(6) == iommu_mode::v2);
}

TEST_CASE("SEMANTICS E3 the page-size bitmap: the domains' intersection, nothing below the host page") {
    mock_rig<> r;
    CHECK(r.c.pgsize_bitmap() == ~(type1::host_page - 1));
    REQUIRE(r.c.attach(group{.id = 1}));
    CHECK(r.c.pgsize_bitmap() == type1::host_page); // the mock's 2K rounds up to 4K
    table_rig<x86_amdvi_ir<>> a;
    REQUIRE(a.c.attach(group{.id = 1}));
    CHECK(a.c.pgsize_bitmap() == 0xfff7ffffff000);
}
