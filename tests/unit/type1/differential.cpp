// The engine against a deliberately simple reference model (issue #7, "Failure
// behaviour"): a seeded, reproducible run of random operations over every catalog platform
// with page tables (and the mock geometry), v1 and v2, comparing the errno of every step,
// the full state after it, and, for every failure, that nothing changed: mappings, usable
// list, dma_avail, accounting, pinned pages and every domain's descriptors.
// PASSTHRU_DIFF_OPS sets the operations per configuration (scripts/differential runs 10^7).
#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "type1_rig.hpp"

using namespace passthru;
using namespace passthru::testing;
using type1::group;
using type1::iommu_mode;

namespace {
constexpr std::uint64_t P4 = 0x1000;

std::uint64_t ops_per_config() {
    if (const char* s = std::getenv("PASSTHRU_DIFF_OPS")) return std::strtoull(s, nullptr, 10);
    return 7000; // x 16 configurations: over 10^5 operations per test run
}

// The reference: plain maps and loops, written from SEMANTICS §B-§D without the engine's
// store, pinning or list code.
struct model {
    struct rec {
        std::uint64_t size, vaddr;
        prot perm;
        bool invalid = false;
        std::uint64_t charged = 0; // pages charged at map time (a VADDR update moves none)
        std::vector<bool> dirty;   // while tracking: one bit per page plus a spare word (D3)
        bool operator==(const rec&) const = default;
    };
    iommu_mode mode = iommu_mode::v2;
    bool eoverflow = true;
    // Before v6.18 (SEMANTICS P5): an unmap whose range ends at 2^64-1 stops before every
    // mapping. The runs never map the last page there: kernel_dma_tree's tests and the
    // kernel replay check what follows.
    bool top_wraps = false;
    std::uint32_t limit = 65535;
    std::map<std::uint64_t, rec> dmas;
    interval_list base_usable, usable;
    std::optional<interval> group2_region;
    bool group2_own_domain = false; // another IOMMU unit than group 1's: a domain of its own
    bool tracking = false;
    std::uint64_t locked = 0, memlock = ~std::uint64_t{0};

    static std::uint64_t last(std::uint64_t first, std::uint64_t size) { return first + size - 1; }
    bool overlaps(std::uint64_t first, std::uint64_t lst) const {
        for (auto& [a, r] : dmas)
            if (a <= lst && first <= last(a, r.size)) return true;
        return false;
    }
    const std::pair<const std::uint64_t, rec>* holding(std::uint64_t x) const {
        for (auto& kv : dmas)
            if (kv.first <= x && x <= last(kv.first, kv.second.size)) return &kv;
        return nullptr;
    }
    bool bisects(std::uint64_t first, std::uint64_t lst) const {
        auto a = holding(first);
        auto b = holding(lst);
        return (a && a->first != first) || (b && last(b->first, b->second.size) != lst);
    }
    int overflow() const { return eoverflow ? eoverflow_errno : einval; }
    static constexpr int eoverflow_errno = static_cast<int>(errc::eoverflow);

    // What the process looks like to the pinner (type1_rig.hpp's add_process_memory).
    struct page_kind {
        bool backed, writable, normal;
    };
    static page_kind page(std::uint64_t v) {
        auto in = [v](std::uint64_t start, std::uint64_t pages) { return v >= start && (v - start) / P4 < pages; };
        if (in(va::ram, va::ram_pages) || in(va::scattered, va::scattered_pages)) return {true, true, true};
        if (in(va::bar, va::bar_pages)) return {true, true, false};
        if (in(va::readonly, va::readonly_pages)) return {true, false, true};
        return {false, false, false};
    }

    int map(std::uint64_t io, std::uint64_t size, std::uint64_t vaddr, prot p) {
        if (eoverflow) {
            if (size == 0) return einval;
            if (io + (size - 1) < io || vaddr + (size - 1) < vaddr) return overflow();
        }
        if (size == 0 || ((size | io | vaddr) & (P4 - 1))) return einval;
        if (io + (size - 1) < io || vaddr + (size - 1) < vaddr) return overflow();
        if (overlaps(io, last(io, size))) return eexist;
        if (dmas.size() >= limit) return enospc;
        if (!usable.empty() && !contained_in_one(usable, {io, last(io, size)})) return einval;
        // Page by page in address order, as get_user_pages and the charge meet them.
        std::uint64_t charge = 0;
        for (std::uint64_t i = 0; i < size / P4; ++i) {
            auto k = page(vaddr + i * P4);
            if (!k.backed || (has(p, prot::write) && !k.writable)) return efault;
            if (k.normal && locked + ++charge > memlock) return enomem;
        }
        dmas.emplace(io, rec{size, vaddr, p, false, charge, tracking ? fresh_bitmap(size) : std::vector<bool>{}});
        locked += charge;
        return ok;
    }

    static std::vector<bool> fresh_bitmap(std::uint64_t size) { return std::vector<bool>(((size / P4 + 63) / 64 + 1) * 64); }
    int dirty(bool start) {
        if (mode != iommu_mode::v2) return eacces;
        if (start && !tracking)
            for (auto& [a, r] : dmas) r.dirty = fresh_bitmap(r.size);
        if (!start)
            for (auto& [a, r] : dmas) r.dirty.clear();
        tracking = start;
        return ok;
    }
    // One mapping's report at user bit `bit`, bit by bit as SEMANTICS D6 and D7 and the booted kernels (observed.md §5 item 6) say:
    // every page set, the bitmap shifted to bit % 64 over the words the report covers, the
    // user's first word OR-ed in, those words copied out, then only the pages cleared.
    static void report(rec& r, std::uint64_t bit, std::vector<std::uint64_t>& user) {
        const std::uint64_t n = r.size / P4, word = bit / 64, shift = bit % 64, span = (n + shift + 63) / 64 * 64;
        auto user_bit = [&](std::uint64_t k) { return ((user[k / 64] >> (k % 64)) & 1) != 0; };
        for (std::uint64_t i = 0; i < n; ++i) r.dirty[i] = true;
        if (shift) {
            for (std::uint64_t j = span; j-- > 0;) r.dirty[j] = j >= shift && r.dirty[j - shift];
            for (std::uint64_t j = 0; j < 64; ++j) r.dirty[j] = r.dirty[j] || user_bit(word * 64 + j);
        }
        for (std::uint64_t j = 0; j < span; ++j) {
            const std::uint64_t k = word * 64 + j, m = std::uint64_t{1} << (k % 64);
            user[k / 64] = r.dirty[j] ? user[k / 64] | m : user[k / 64] & ~m;
        }
        for (std::uint64_t i = 0; i < n; ++i) r.dirty[i] = false;
    }

    // UNMAP_DMA (plain, VADDR, or with a bitmap of `words` words); `out` the bytes.
    int unmap(std::uint64_t io, std::uint64_t size, bool all, bool vaddr_only, std::vector<std::uint64_t>* bits,
              std::uint64_t& out) {
        out = 0;
        if (bits && !type1::bitmap_size_ok(size / P4, bits->size() * 8)) return einval;
        if (io & (P4 - 1)) return einval;
        std::uint64_t first = 0, lst = ~std::uint64_t{0};
        if (all) {
            if (io || size) return einval;
        } else {
            if (size == 0 || (size & (P4 - 1))) return einval;
            if (io + (size - 1) < io) return overflow();
            first = io;
            lst = io + (size - 1);
        }
        if (bits && !tracking) return einval;
        if (mode == iommu_mode::v2 && !all && bisects(first, lst)) return einval;
        std::vector<std::uint64_t> hit;
        if (top_wraps && !all && lst == ~std::uint64_t{0}) return ok;
        for (auto& [a, r] : dmas) {
            if (last(a, r.size) < first) continue;
            if (a > lst) break;
            if (mode == iommu_mode::v1 && a < first) break;
            hit.push_back(a);
        }
        if (vaddr_only) {
            for (auto a : hit)
                if (dmas.at(a).invalid) return einval;
            for (auto a : hit) {
                dmas.at(a).invalid = true;
                out += dmas.at(a).size;
            }
            return ok;
        }
        for (auto a : hit) {
            rec& r = dmas.at(a);
            if (bits) report(r, (a - first) / P4, *bits);
            locked -= r.charged;
            out += r.size;
            dmas.erase(a);
        }
        return ok;
    }

    int update_vaddr(std::uint64_t io, std::uint64_t size, std::uint64_t vaddr) {
        if (eoverflow) {
            if (size == 0) return einval;
            if (io + (size - 1) < io || vaddr + (size - 1) < vaddr) return overflow();
        }
        if (size == 0 || ((size | io | vaddr) & (P4 - 1))) return einval;
        if (io + (size - 1) < io || vaddr + (size - 1) < vaddr) return overflow();
        const std::uint64_t lst = io + (size - 1);
        const std::pair<const std::uint64_t, rec>* hitp = nullptr;
        for (auto& kv : dmas)
            if (kv.first <= lst && io <= last(kv.first, kv.second.size)) {
                hitp = &kv;
                break;
            }
        if (!hitp) return enoent;
        if (!hitp->second.invalid || hitp->first != io || hitp->second.size != size) return einval;
        auto& r = dmas.at(io);
        r.vaddr = vaddr; // the pages stay the ones pinned at map time
        r.invalid = false;
        return ok;
    }

    int dirty_get(std::uint64_t io, std::uint64_t size, std::uint64_t pgsize, std::vector<std::uint64_t>& bits) {
        if (mode != iommu_mode::v2) return eacces;
        if (eoverflow) {
            if (size == 0) return einval;
            if (io + (size - 1) < io) return overflow();
        } else if (io + size < io) {
            return einval;
        }
        if (!type1::bitmap_size_ok(type1::bitmap_pages(size, pgsize), bits.size() * 8)) return einval;
        if (pgsize != P4 || (io & (P4 - 1)) || size == 0 || (size & (P4 - 1)) || !tracking) return einval;
        const std::uint64_t lst = io + (size - 1);
        if (bisects(io, lst)) return einval;
        for (auto& [a, r] : dmas)
            if (a >= io && a <= lst) report(r, (a - io) / P4, bits);
        return ok;
    }

    bool any_invalid() const {
        for (auto& kv : dmas)
            if (kv.second.invalid) return true;
        return false;
    }
    int attach2(const interval& region, bool own_domain) {
        if (any_invalid()) return ebusy;
        if (overlaps(region.first, region.last)) return einval;
        usable = subtract(usable, std::vector<interval>{region}); // A.1 on a copy of the current list
        group2_region = region;
        group2_own_domain = own_domain;
        return ok;
    }
    // SEMANTICS A.2 D3-D4: the list is rebuilt over [first start, last end] minus the regions
    // of the groups that stay, so a hole group 2 cut at an edge stays cut, unless its own
    // domain goes and the window widens back to the remaining domain's aperture.
    void detach2() {
        const std::uint64_t from = group2_own_domain ? base_usable.front().first : usable.front().first;
        const std::uint64_t to = group2_own_domain ? base_usable.back().last : usable.back().last;
        usable.clear();
        for (const interval& i : base_usable)
            if (i.last >= from && i.first <= to) usable.push_back({std::max(i.first, from), std::min(i.last, to)});
        group2_region.reset();
        // D6: an unpinned IOMMU group left while tracking: every page set, the rest kept.
        if (tracking)
            for (auto& [a, r] : dmas)
                for (std::uint64_t i = 0; i < r.size / P4; ++i) r.dirty[i] = true;
    }
};

template <class Rig>
void run(Rig& r, iommu_mode mode, std::uint64_t window, std::uint64_t seed, std::uint64_t ops) {
    using K = typename std::remove_reference_t<decltype(r.c)>::profile;
    model m;
    m.mode = mode;
    m.eoverflow = K::facts.overflow_is_eoverflow;
    m.top_wraps = K::facts.top_end_wraps;
    REQUIRE(r.c.attach(group{.id = 1}));
    m.base_usable = m.usable = r.c.iova_list();
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t n) { return rng() % n; };
    auto rand_iova = [&]() -> std::uint64_t {
        switch (pick(40)) {
        case 0: return 0xFFFF'FFFF'FFFF'F000;
        case 1: return window + pick(16384) * P4 + 0x800;
        default: return window + pick(16384) * P4;
        }
    };
    auto rand_size = [&]() -> std::uint64_t {
        switch (pick(40)) {
        case 0: return 0;
        case 1: return 0x800;
        case 2: return 2 * P4;
        case 3: return 600 * P4; // more than one pin batch
        default: return (1 + pick(16)) * P4;
        }
    };
    auto rand_vaddr = [&]() -> std::uint64_t {
        switch (pick(20)) {
        case 0: return va::bar + pick(va::bar_pages) * P4;
        case 1: return va::readonly + pick(va::readonly_pages) * P4;
        case 2: return 0x1000 + pick(16) * P4; // nothing there
        case 3: return va::scattered + pick(va::scattered_pages) * P4;
        default: return va::ram + pick(va::ram_pages) * P4;
        }
    };
    auto same_state = [&]() {
        REQUIRE(r.c.mappings().size() == m.dmas.size());
        auto it = m.dmas.begin();
        for (const type1::dma& d : r.c.mappings()) {
            REQUIRE(d.iova.value == it->first);
            REQUIRE(d.size == it->second.size);
            REQUIRE(d.vaddr == it->second.vaddr);
            REQUIRE(d.perm == it->second.perm);
            REQUIRE(d.vaddr_invalid == it->second.invalid);
            ++it;
        }
        REQUIRE(r.c.dma_avail() == m.limit - m.dmas.size());
        REQUIRE(r.c.locked_vm() == m.locked);
        REQUIRE(r.pinner.pinned_pages() == m.locked);
        REQUIRE(r.c.iova_list() == m.usable);
        REQUIRE(r.c.dirty_tracking() == m.tracking);
    };

    for (std::uint64_t step = 0; step < ops; ++step) {
        const auto before = r.snap();
        int got = ok, want = ok;
        std::uint64_t got_bytes = 0, want_bytes = 0;
        const unsigned op = static_cast<unsigned>(pick(100));
        if (op < 40) {
            auto io = rand_iova();
            const auto size = rand_size(), vaddr = rand_vaddr();
            if (m.top_wraps && io + size == 0) io = window; // not the last page (P5)
            const prot p = pick(4) ? prot_rw : prot::read;
            want = m.map(io, size, vaddr, p);
            got = err(r.c.map(iova{io}, size, vaddr, p));
        } else if (op < 62) {
            const auto io = pick(3) ? window + pick(16384) * P4 : rand_iova();
            const auto size = pick(4) ? (1 + pick(64)) * P4 : rand_size();
            want = m.unmap(io, size, false, false, nullptr, want_bytes);
            auto u = r.c.unmap(iova{io}, size);
            got = err(u);
            got_bytes = u ? *u : 0;
        } else if (op < 63) {
            want = m.unmap(0, 0, true, false, nullptr, want_bytes);
            auto u = r.c.unmap_all();
            got = err(u);
            got_bytes = u ? *u : 0;
        } else if (op < 70) {
            const auto io = window + pick(16384) * P4, size = (1 + pick(32)) * P4;
            want = m.unmap(io, size, false, true, nullptr, want_bytes);
            auto u = r.c.invalidate_vaddr(iova{io}, size);
            got = err(u);
            got_bytes = u ? *u : 0;
        } else if (op < 77) {
            // Revalidate one invalidated mapping (or a near miss).
            std::uint64_t io = window, size = P4;
            for (auto& [a, rec] : m.dmas)
                if (rec.invalid && pick(2)) {
                    io = a;
                    size = rec.size;
                    break;
                }
            if (pick(8) == 0) size += P4;
            const auto vaddr = rand_vaddr();
            want = m.update_vaddr(io, size, vaddr);
            got = err(r.c.update_vaddr(iova{io}, size, vaddr));
        } else if (op < 80) {
            const bool start = pick(2);
            want = m.dirty(start);
            got = err(start ? r.c.dirty_start() : r.c.dirty_stop());
        } else if (op < 86) {
            const auto io = pick(6) ? window + pick(16384) * P4 : rand_iova();
            const auto size = pick(6) ? (1 + pick(256)) * P4 : rand_size();
            const std::uint64_t pg = pick(10) ? P4 : 2 * P4;
            const std::size_t words = pick(10) ? type1::abi::dirty_bitmap_bytes(size / P4) / 8 : 1;
            std::vector<std::uint64_t> a(words, 0);
            if (pick(4) == 0) std::generate(a.begin(), a.end(), [&] { return rng(); }); // not zeroed (D6)
            std::vector<std::uint64_t> b = a;
            want = m.dirty_get(io, size, pg, a);
            got = err(r.c.dirty_get(iova{io}, size, {pg, b}));
            if (got == ok && want == ok) REQUIRE(a == b);
        } else if (op < 91) {
            const auto io = window + pick(16384) * P4, size = (1 + pick(256)) * P4;
            const std::size_t words = pick(10) ? type1::abi::dirty_bitmap_bytes(size / P4) / 8 : 0;
            std::vector<std::uint64_t> a(words, 0);
            if (pick(4) == 0) std::generate(a.begin(), a.end(), [&] { return rng(); }); // not zeroed (D6)
            std::vector<std::uint64_t> b = a;
            want = m.unmap(io, size, false, false, &a, want_bytes);
            if (want == ok && !m.tracking) want = einval; // not reached: the model checks tracking
            auto u = r.c.unmap_with_bitmap(iova{io}, size, {P4, b});
            got = err(u);
            got_bytes = u ? *u : 0;
            if (got == ok && want == ok) REQUIRE(a == b);
        } else if (op < 96) {
            if (m.group2_region) {
                m.detach2();
                got = err(r.c.detach(2));
            } else {
                const std::uint64_t first = window + pick(16384) * P4;
                const interval region{first, first + (1 + pick(8)) * P4 - 1};
                const auto unit = static_cast<std::uint32_t>(pick(2));
                want = m.attach2(region, unit != 0);
                got = err(r.c.attach(group{.id = 2, .iommu_unit = unit, .firmware_regions = {{region, resv_type::reserved}}}));
            }
        } else {
            m.memlock = pick(3) ? ~std::uint64_t{0} : m.locked + pick(64);
            r.pinner.set_memlock_limit_pages(m.memlock);
        }
        INFO("seed " << seed << " step " << step << " op " << op);
        REQUIRE(got == want);
        REQUIRE(got_bytes == want_bytes);
        if (got != ok) REQUIRE(r.snap() == before);
        same_state();
    }
    REQUIRE(r.c.unmap_all());
    REQUIRE(r.pinner.pinned_pages() == 0);
    REQUIRE(r.pinner.misuse() == 0);
}

template <class Rig>
void both_modes(std::uint64_t window, std::uint64_t seed) {
    for (auto mode : {iommu_mode::v2, iommu_mode::v1}) {
        Rig r(mode);
        run(r, mode, window, seed + (mode == iommu_mode::v1 ? 1000 : 0), ops_per_config());
    }
}
constexpr std::uint64_t gib = std::uint64_t{1} << 30;
} // namespace

TEST_CASE("type1 differential: VT-d tables, upstream and Debian 6.1") {
    both_modes<table_rig<x86_vtd_ir<>>>(gib, 1);
    both_modes<table_rig<x86_vtd_ir<>, type1::profiles::debian_6_1>>(gib, 2);
}
TEST_CASE("type1 differential: AMD-Vi v1 tables, upstream and Debian 6.12") {
    both_modes<table_rig<x86_amdvi_ir<>>>(gib, 3);
    both_modes<table_rig<x86_amdvi_ir<>, type1::profiles::debian_6_12>>(gib, 4);
}
TEST_CASE("type1 differential: SMMUv3 and SMMUv2 LPAE tables") {
    both_modes<table_rig<arm_smmuv3_its<>>>(gib, 5);
    both_modes<table_rig<arm_smmuv2_its<>>>(gib, 6);
}
TEST_CASE("type1 differential: the mock geometry (SEMANTICS §1.4)") {
    both_modes<mock_rig<x86_vtd_ir<>>>(type1::mock_domain::mock_aperture.first, 7);
    both_modes<mock_rig<arm_smmuv3_its<>, type1::profiles::debian_6_12>>(type1::mock_domain::mock_aperture.first, 8);
}
