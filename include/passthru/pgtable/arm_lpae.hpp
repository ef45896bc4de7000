#pragma once
// ARM VMSAv8-64 long-descriptor ("LPAE") page tables, stage 1 and stage 2, 4K/16K/64K
// granules, as a `PageTableFormat` policy (PGTABLE §1). Bit-exact with Linux
// io-pgtable-arm as of v6.14+: same descriptors, same geometry, same register fields.
// Level numbers are generic_pt's: level 0 holds the smallest pages, so ARM architectural
// level L is our level 3 - L.
//
// Usage: arm_lpae<arm_lpae_config{.stage = arm_stage::s2, .granule = 16384, .ias = 40,
// .oas = 40}>. Name the config type: clang 14 rejects a bare braced list as the argument.
#include <cstdint>
#include <string_view>

#include <passthru/concepts/page_table_format.hpp>
#include <passthru/core/address.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>

namespace passthru::pgtable {

enum class arm_stage : std::uint8_t { s1, s2 };

// When a stage-2 top level is replaced by up to 16 concatenated tables one level down
// (PGTABLE §1.1).
enum class arm_s2_concat : std::uint8_t {
    // Linux >= 6.14 (commit 4dcac8407fe1): only where DDI0487 R_DXBSH / R_SRKBC require it,
    // which depends on the OAS: 4K top at L0 with OAS 40 or 42; 16K top at L0 with IAS or
    // OAS 48; 16K top at L1 with OAS 40.
    when_mandatory,
    // Linux <= 6.13, and PGTABLE §1.1 as written: whenever an L0 top has <= 16 slots.
    up_to_16,
};

// io-pgtable quirks that change descriptors or registers (PGTABLE §0.2).
struct arm_quirks {
    bool ns = false;         // ARM_NS, stage 1: NS on leaves, NSTable on tables
    bool hd = false;         // ARM_HD, stage 1: DBM on writable leaves, dirty tracking (§8)
    bool s2fwb = false;      // ARM_S2FWB, stage 2: cacheable MemAttr is "forced WB"
    bool outer_wbwa = false; // ARM_OUTER_WBWA, stage 1, non-coherent walk only: ORGN0=WBWA
    constexpr bool operator==(const arm_quirks&) const = default;
};

// A structural type: usable as the template argument of arm_lpae.
struct arm_lpae_config {
    arm_stage stage = arm_stage::s1;
    std::uint32_t granule = 4096; // bytes: 4096, 16384 or 65536
    unsigned ias = 48;            // input (IOVA / IPA) bits: 32..48, up to 52 with 64K
    unsigned oas = 48;            // output bits: 32, 36, 40, 42, 44, 48, or 52 with 64K
    bool coherent_walk = true;
    arm_quirks quirks = {};
    arm_s2_concat s2_concat = arm_s2_concat::when_mandatory;
    constexpr bool operator==(const arm_lpae_config&) const = default;
};

// --- Config rules (Linux arm_64_lpae_alloc_pgtable_s1/_s2, PGTABLE §0.2, §1.2, §1.7). ---
constexpr bool arm_granule_ok(const arm_lpae_config& c) noexcept {
    return c.granule == 4096 || c.granule == 16384 || c.granule == 65536;
}
constexpr unsigned arm_max_addr_bits(const arm_lpae_config& c) noexcept {
    return c.granule == 65536 ? 52 : 48; // only 64K packs PA[51:48] (§1.6)
}
constexpr bool arm_ias_ok(const arm_lpae_config& c) noexcept {
    return c.ias >= 32 && c.ias <= arm_max_addr_bits(c);
}
constexpr bool arm_oas_ok(const arm_lpae_config& c) noexcept { // encodable in IPS/PS
    return (c.oas == 32 || c.oas == 36 || c.oas == 40 || c.oas == 42 || c.oas == 44 ||
            c.oas == 48 || c.oas == 52) && c.oas <= arm_max_addr_bits(c);
}
constexpr bool arm_stage_quirks_ok(const arm_lpae_config& c) noexcept {
    return c.stage == arm_stage::s1 ? !c.quirks.s2fwb
                                    : !(c.quirks.ns || c.quirks.hd || c.quirks.outer_wbwa);
}
constexpr bool arm_outer_wbwa_ok(const arm_lpae_config& c) noexcept {
    return !(c.quirks.outer_wbwa && c.coherent_walk);
}

// --- Geometry (PGTABLE §1.1). start_level is architectural (0..3). ---
struct arm_lpae_geometry {
    unsigned pg_shift = 12;  // log2 granule
    unsigned bpl = 9;        // index bits per full table
    unsigned start_level = 0; // architectural level of the root, after concatenation
    unsigned pgd_bits = 9;   // index bits of the root (wider when concatenated)
    bool concatenated = false;
    bool concat_too_big = false; // concatenation mandatory but > 16 tables: Linux -EINVAL
};

constexpr arm_lpae_geometry arm_lpae_geometry_of(const arm_lpae_config& c) noexcept {
    arm_lpae_geometry g;
    g.pg_shift = c.granule == 65536 ? 16 : c.granule == 16384 ? 14 : 12;
    g.bpl = g.pg_shift - 3;
    const unsigned va = c.ias > g.pg_shift ? c.ias - g.pg_shift : 1;
    unsigned levels = (va + g.bpl - 1) / g.bpl;
    if (levels > 4) levels = 4; // only for configs the static_asserts reject
    g.start_level = 4 - levels;
    g.pgd_bits = va - g.bpl * (levels - 1);
    if (c.stage != arm_stage::s2) return g;
    const bool k4 = g.pg_shift == 12, k16 = g.pg_shift == 14;
    bool concat = false;
    if (c.s2_concat == arm_s2_concat::up_to_16) {
        concat = g.start_level == 0 && g.pgd_bits <= 4;
    } else {
        if (k16 && g.start_level == 0) concat = c.oas == 48 || c.ias == 48;
        else if (k4 && g.start_level == 0) concat = c.oas == 40 || c.oas == 42;
        else concat = k16 && g.start_level == 1 && c.oas == 40;
        g.concat_too_big = concat && g.pgd_bits > 4;
    }
    if (concat && !g.concat_too_big) {
        g.pgd_bits += g.bpl;
        g.start_level += 1;
        g.concatenated = true;
    }
    return g;
}

constexpr bool arm_lpae_valid(const arm_lpae_config& c) noexcept {
    return arm_granule_ok(c) && arm_ias_ok(c) && arm_oas_ok(c) && arm_stage_quirks_ok(c) &&
           arm_outer_wbwa_ok(c) && !arm_lpae_geometry_of(c).concat_too_big;
}

// --- Register values (PGTABLE §1.7). ---
inline constexpr std::uint64_t arm_lpae_mair = 0x00000000F404FF44; // NC, WBRWA, Dev-nGnRE, INC_OWBRWA

// Stage 1. `tcr` places the fields where TCR_EL1 has its TTBR0 fields: T0SZ [5:0],
// IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14], IPS [34:32]. An SMMUv3 context
// descriptor and an SMMUv2 context bank's TCR take the same field values at their own
// positions: build those from the individual fields, not from `tcr`.
struct arm_lpae_s1_regs {
    std::uint64_t ttbr = 0; // root table PA, unpacked (driver packs 52-bit PAs for TTBR)
    unsigned tsz = 0, tg = 0, ips = 0, sh = 0, irgn = 0, orgn = 0;
    std::uint64_t tcr = 0;
    std::uint64_t mair = arm_lpae_mair;
    constexpr bool operator==(const arm_lpae_s1_regs&) const = default;
};

// Stage 2. `vtcr` uses VTCR_EL2 positions: T0SZ [5:0], SL0 [7:6], IRGN0 [9:8],
// ORGN0 [11:10], SH0 [13:12], TG0 [15:14], PS [18:16].
struct arm_lpae_s2_regs {
    std::uint64_t vttbr = 0; // root table PA
    unsigned tsz = 0, sl = 0, tg = 0, ps = 0, sh = 0, irgn = 0, orgn = 0;
    std::uint64_t vtcr = 0;
    constexpr bool operator==(const arm_lpae_s2_regs&) const = default;
};

// --- Descriptor bits (PGTABLE §1.3-§1.6). ---
namespace arm_pte {
inline constexpr pte_t valid = 1, type_mask = 3, type_block = 1, type_table = 3, type_page = 3;
inline constexpr pte_t addr_mask = 0x0000FFFFFFFFF000; // GENMASK(47, 12)
inline constexpr pte_t ns = 1ull << 5, af = 1ull << 10, ng = 1ull << 11;
inline constexpr pte_t ap_unpriv = 1ull << 6, ap_rdonly = 1ull << 7;       // stage 1
inline constexpr pte_t hap_read = 1ull << 6, hap_write = 1ull << 7;        // stage 2
inline constexpr pte_t sh_mask = 3ull << 8, sh_os = 2ull << 8, sh_is = 3ull << 8;
inline constexpr pte_t attrindx_mask = 7ull << 2, attr_cache = 1ull << 2, attr_dev = 2ull << 2;
inline constexpr pte_t memattr_mask = 0xFull << 2, memattr_dev = 0x1ull << 2,
                       memattr_nc = 0x5ull << 2, memattr_fwb_wb = 0x6ull << 2,
                       memattr_oiwb = 0xFull << 2;
inline constexpr pte_t dbm = 1ull << 51, xn = 3ull << 53; // XN: UXN|PXN at stage 1
inline constexpr pte_t sw_sync = 1ull << 55, ns_table = 1ull << 63;
} // namespace arm_pte

template <arm_lpae_config C = arm_lpae_config{}>
struct arm_lpae {
    static_assert(arm_granule_ok(C), "arm_lpae: granule must be 4096, 16384 or 65536 bytes");
    static_assert(arm_ias_ok(C), "arm_lpae: ias must be 32..48 bits (52 only with the 64K "
                                 "granule; Linux would silently trim it to 48)");
    static_assert(arm_oas_ok(C), "arm_lpae: oas must be one of 32, 36, 40, 42, 44, 48 bits, or 52 "
                                 "with the 64K granule: Linux rejects OAS values IPS cannot encode");
    static_assert(arm_stage_quirks_ok(C), "arm_lpae: the NS, HD and OUTER_WBWA quirks are stage-1 "
                                          "only and S2FWB is stage-2 only");
    static_assert(arm_outer_wbwa_ok(C), "arm_lpae: the OUTER_WBWA quirk needs coherent_walk = false");
    static_assert(!arm_lpae_geometry_of(C).concat_too_big,
                  "arm_lpae: stage-2 concatenation is mandatory for this granule and OAS but would "
                  "need more than 16 tables; Linux rejects this IAS/OAS pair");

    // Read the configuration through `config`, an ordinary object: clang 14 miscompiles
    // references to members of a class-type template parameter object
    // (llvm/llvm-project#146272), and a caller may bind one.
    static constexpr arm_lpae_config config = C;
    static constexpr arm_lpae_geometry geometry = arm_lpae_geometry_of(C);
    static constexpr bool s1 = config.stage == arm_stage::s1;
    static constexpr bool pa52 = config.granule == 65536; // PA[51:48] packed in [15:12]

    static constexpr std::string_view name = s1 ? "ARM LPAE stage 1" : "ARM LPAE stage 2";
    static constexpr unsigned top_level = 3 - geometry.start_level;
    static constexpr unsigned va_bits = config.ias;
    static constexpr unsigned oa_bits = config.oas;
    // Packing breaks linearity at 2^48 boundaries only (PGTABLE §1.6).
    static constexpr unsigned leaf_linear_lg2 = pa52 && config.oas > 48 ? 48 : config.oas;
    static constexpr partial_unmap partial_leaf_unmap = partial_unmap::refuse; // Linux 6.13+, §0.4
    // HD makes the leaves record writes (§1.5, §8): DirtyTrackingFormat.
    static constexpr bool tracks_dirty = s1 && config.quirks.hd;

    static constexpr unsigned item_lg2(unsigned level) noexcept {
        return geometry.pg_shift + geometry.bpl * level;
    }
    static constexpr unsigned table_lg2(unsigned level) noexcept {
        return level < top_level ? geometry.bpl : level == top_level ? geometry.pgd_bits : 0;
    }
    // §1.2: 4K 4K/2M/1G; 16K 16K/32M; 64K 64K/512M (+4T at L1 when OAS > 48); no L0 leaf.
    static constexpr std::uint64_t leaf_sizes(unsigned level) noexcept {
        const unsigned highest =
            config.granule == 4096 || (config.granule == 65536 && config.oas > 48) ? 2 : 1;
        return level <= top_level && level <= highest ? std::uint64_t{1} << item_lg2(level) : 0;
    }
    // (format_pgsizes collects them. Linux's pgsize_bitmap also lists 4T for a 64K/OAS-52
    // table whose IAS leaves no L1, a size no map call can use; it is left out.)

    static constexpr pte_t make_table(phys_addr child, unsigned /*level*/) noexcept {
        return pack(child.value) | arm_pte::type_table | (config.quirks.ns ? arm_pte::ns_table : 0) |
               (config.coherent_walk ? 0 : arm_pte::sw_sync); // §1.4: Linux's "synced" mark
    }
    // Linux arm_lpae_prot_to_pte + __arm_lpae_init_pte. The walker has checked R|W.
    static constexpr pte_t make_leaf(phys_addr pa, unsigned level, unsigned /*size_lg2*/,
                                     prot p) noexcept {
        return attrs(p) | (level == 0 ? arm_pte::type_page : arm_pte::type_block) | pack(pa.value);
    }
    static constexpr pte_kind classify(pte_t pte, unsigned level) noexcept {
        if (!(pte & arm_pte::valid)) return pte_kind::empty;
        const bool type3 = (pte & arm_pte::type_mask) == 3;
        // At level 0 type 0b01 is reserved, which the hardware reads as invalid [arch].
        if (level == 0) return type3 ? pte_kind::leaf : pte_kind::empty;
        return type3 ? pte_kind::table : pte_kind::leaf;
    }
    static constexpr phys_addr table_pa(pte_t pte) noexcept { return phys_addr{unpack(pte)}; }
    static constexpr phys_addr leaf_pa(pte_t pte, unsigned /*level*/) noexcept {
        return phys_addr{unpack(pte)};
    }
    static constexpr unsigned leaf_size_lg2(pte_t, unsigned level) noexcept {
        return item_lg2(level);
    }
    // The same decodes as bit tests, for the walker's vector loops (PageTableSlotTests).
    static constexpr slot_test empty_test(unsigned level) noexcept {
        using namespace arm_pte;
        if (level == 0) return {{type_mask, type_page, true}}; // all but a page is invalid
        return {{valid, 0}};
    }
    static constexpr slot_test item_leaf_test(unsigned level) noexcept {
        using namespace arm_pte;
        return {{type_mask, level == 0 ? type_page : type_block}};
    }
    // The attributes make_leaf needs to rebuild `pte`: stage-1 WRITE-only was encoded as
    // RW (no AP[2]) and reads back as RW; a DBM leaf is writable even when cleaned; stage 2
    // has no PRIV; MMIO|CACHE keeps both (Device attribute, inner-shareable).
    static constexpr prot leaf_prot(pte_t pte, unsigned /*level*/) noexcept {
        using namespace arm_pte;
        prot p = prot::none;
        if constexpr (s1) {
            p |= (pte & ap_rdonly) && !(pte & dbm) ? prot::read : prot_rw;
            if (!(pte & ap_unpriv)) p |= prot::priv;
            if ((pte & attrindx_mask) == attr_dev) p |= prot::mmio;
        } else {
            if (pte & hap_read) p |= prot::read;
            if (pte & hap_write) p |= prot::write;
            if ((pte & memattr_mask) == memattr_dev) p |= prot::mmio;
        }
        if ((pte & sh_mask) == sh_is) p |= prot::cache;
        if (pte & xn) p |= prot::noexec;
        return p;
    }

    // HTTU dirty state (§8): DBM set and AP[2] clear is writable-dirty; cleaning sets AP[2].
    static constexpr bit_test dirty_test() noexcept
        requires tracks_dirty
    {
        return {arm_pte::ap_rdonly | arm_pte::dbm, arm_pte::dbm};
    }
    static constexpr bool is_dirty(pte_t pte) noexcept
        requires tracks_dirty
    {
        return (pte & (arm_pte::ap_rdonly | arm_pte::dbm)) == arm_pte::dbm;
    }
    static constexpr pte_t make_clean(pte_t pte) noexcept
        requires tracks_dirty
    {
        return pte | arm_pte::ap_rdonly;
    }

    static constexpr auto registers(phys_addr root) noexcept {
        const unsigned sh = config.coherent_walk ? 3 : 2; // IS : OS
        const unsigned irgn = config.coherent_walk ? 1 : 0; // WBWA : NC
        const unsigned orgn = config.coherent_walk || config.quirks.outer_wbwa ? 1 : 0;
        const unsigned tg = config.granule == 4096 ? 0 : config.granule == 65536 ? 1 : 2;
        const unsigned oas = config.oas;
        const unsigned ps = oas == 32 ? 0 : oas == 36 ? 1 : oas == 40 ? 2 : oas == 42 ? 3
                          : oas == 44 ? 4 : oas == 48 ? 5 : 6;
        const unsigned tsz = 64 - config.ias;
        const std::uint64_t common = tsz | irgn << 8 | orgn << 10 | sh << 12 | tg << 14;
        if constexpr (s1) {
            return arm_lpae_s1_regs{root.value, tsz, tg, ps, sh, irgn, orgn,
                                    common | std::uint64_t{ps} << 32, arm_lpae_mair};
        } else {
            // SL0 counts down from the root's level, shifted by one for 4K (§1.7).
            const unsigned sl = ~(geometry.start_level + (config.granule == 4096 ? 1 : 0)) & 3;
            return arm_lpae_s2_regs{root.value, tsz, sl, tg, ps, sh, irgn, orgn,
                                    common | sl << 6 | std::uint64_t{ps} << 16};
        }
    }

private:
    // §1.6 / Linux paddr_to_iopte and iopte_to_paddr: PA[51:48] <-> descriptor [15:12]
    // for the 64K granule; for 4K/16K the high half is zero and drops out.
    static constexpr pte_t pack(std::uint64_t pa) noexcept {
        return (pa | pa >> 36) & arm_pte::addr_mask;
    }
    static constexpr std::uint64_t unpack(pte_t pte) noexcept {
        const std::uint64_t f = pte & arm_pte::addr_mask;
        return pa52 ? (f | f << 36) & (arm_pte::addr_mask << 4) : f;
    }
    static constexpr pte_t attrs(prot p) noexcept {
        using namespace arm_pte;
        pte_t a = af | (config.quirks.ns ? ns : 0) | (has(p, prot::noexec) ? xn : 0) |
                  (has(p, prot::cache) ? sh_is : sh_os);
        if constexpr (s1) {
            a |= ng | (has(p, prot::priv) ? 0 : ap_unpriv);
            if (has(p, prot::read) && !has(p, prot::write)) a |= ap_rdonly;
            else if (config.quirks.hd) a |= dbm;
            a |= has(p, prot::mmio) ? attr_dev : has(p, prot::cache) ? attr_cache : 0;
        } else {
            a |= (has(p, prot::read) ? hap_read : 0) | (has(p, prot::write) ? hap_write : 0);
            a |= has(p, prot::mmio)    ? memattr_dev
                 : has(p, prot::cache) ? (config.quirks.s2fwb ? memattr_fwb_wb : memattr_oiwb)
                                       : memattr_nc;
        }
        return a;
    }
};

} // namespace passthru::pgtable
