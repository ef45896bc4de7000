// pgtable_setup: what a hypervisor's IOMMU driver does with passthru's page tables, for
// each table configuration a driver would realistically use. For each one it
//   1. carves the table memory out of a fixed physical range (an arena_allocator, as a
//      static-partitioning hypervisor would),
//   2. creates an empty table, through pgtable::domain when a catalog IOMMU names the
//      format (its `table_format`), else directly as a page_table,
//   3. prints the register values that point the IOMMU at the root (TTBR/TCR/MAIR,
//      VTTBR/VTCR, SLPTPTR/AW, DTE) and the table geometry,
//   4. maps a small region, a large leaf plus a page, and prints every descriptor written,
//   5. looks the mapping up and unmaps it, showing the format's partial-unmap rule and
//      what the driver must invalidate before the freed tables can be reused.
// The output is deterministic; the docs/pgtable-*.md pages embed it (docs_update).
//
//   pgtable_setup                       every configuration, as text
//   pgtable_setup arm|vtd|amd ...       only those formats
//   pgtable_setup --markdown arm        a "####" heading and a text block per configuration
#include <array>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/pgtable/amd_v1.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/pgtable/arm_lpae.hpp>
#include <passthru/pgtable/domain.hpp>
#include <passthru/pgtable/page_table.hpp>
#include <passthru/pgtable/vtd_ss.hpp>
#include <passthru/platforms/iommu/amd_vi.hpp>
#include <passthru/platforms/iommu/arm_smmu.hpp>
#include <passthru/platforms/iommu/intel_vtd.hpp>

#include "pgtable_setup/amd_v1_text.hpp"
#include "pgtable_setup/arm_lpae_text.hpp"
#include "pgtable_setup/table_dump.hpp"
#include "pgtable_setup/text.hpp"
#include "pgtable_setup/vtd_ss_text.hpp"

namespace {

namespace pt = passthru;
namespace pg = passthru::pgtable;
namespace cat = passthru::platforms;
using pt::iova;
using pt::phys_addr;
using pt::prot;
using pt::KiB;
using pt::MiB;
using pgtable_setup::line;

constexpr prot rw_cache = prot::read | prot::write | prot::cache; // type1's map_prot, coherent

struct mapping {
    iova io;
    phys_addr pa;
    std::uint64_t size;
    prot p;
};

struct scenario {
    std::string_view title;
    std::string_view cxx; // how the driver names the format
    phys_addr carveout;   // where the table memory lives
    std::size_t units;    // its size, in 4 KiB units
    std::vector<mapping> maps;
};

// The table memory: `units` pages at physical address `base`, handed out by an arena.
class carveout {
public:
    carveout(phys_addr base, std::size_t units) : memory_(units * 512), arena(memory_, base) {}
    carveout(const carveout&) = delete;
    carveout& operator=(const carveout&) = delete;

private:
    std::vector<pt::pte_t> memory_; // before `arena`, which keeps a span of it

public:
    pg::arena_allocator arena;
};

struct options {
    bool markdown = false;
};

// Steps 3-5 for a table that exists (step 2 done by the caller).
template <class F, class H>
bool setup_report(std::ostream& out, const scenario& s, pg::arena_allocator& arena,
                  pg::page_table<F, pg::arena_allocator, H>& t, pt::pgsize_bitmap sizes) {
    using text = pgtable_setup::format_text<F>;
    bool ok = true;
    line(out, "format", std::string(F::name));
    line(out, "config", text::config());
    line(out, "C++", std::string(s.cxx));
    const std::uint64_t bytes = s.units * 4 * KiB;
    line(out, "memory", "arena_allocator over " +
                            report::range({s.carveout.value, s.carveout.value + bytes - 1}) + " (" +
                            pgtable_setup::kib(bytes) + ")");
    pgtable_setup::geometry<F>(out, sizes);

    // Step 3: the registers depend only on the root, so a driver programs them when the
    // domain is attached, before anything is mapped.
    if (!text::registers(out, t.root())) {
        line(out, "", "FAILED: the register fields do not decode to the configuration");
        ok = false;
    }

    // Step 4.
    for (const mapping& m : s.maps) {
        const auto r = t.map(m.io, m.pa, m.size, m.p, sizes);
        line(out, "map", report::hex(m.io.value) + " -> " + report::hex(m.pa.value) + ", " +
                             report::hex(m.size) + " bytes, " + pgtable_setup::prot_text(m.p) +
                             (r ? "" : ": FAILED " + std::string(pt::errno_name(r.error().code))));
        ok = ok && r.has_value();
    }
    const pgtable_setup::table_census mapped = pgtable_setup::descriptors(out, t, arena);
    line(out, "", std::to_string(mapped.tables) + " tables, " + pgtable_setup::kib(mapped.bytes));
    if (!mapped.replicas_ok) {
        line(out, "", "FAILED: the slots of a contiguous entry differ");
        ok = false;
    }

    // Step 5: look up the last byte of each mapping, then unmap it the way a guest might,
    // first the smallest page at its start, then the rest.
    for (const mapping& m : s.maps) {
        const std::uint64_t last = m.io.value + m.size - 1;
        const auto pa = t.iova_to_phys(iova{last});
        const bool good = pa && pa->value == m.pa.value + m.size - 1;
        line(out, "lookup", "iova_to_phys(" + report::hex(last) + ") = " +
                                (pa ? report::hex(pa->value) : std::string("none")) +
                                (good ? "" : "  FAILED"));
        ok = ok && good;
    }
    pg::iotlb_gather g;
    const std::uint64_t page = sizes.min_pgsize();
    const bool refuse = F::partial_leaf_unmap == pt::partial_unmap::refuse;
    for (const mapping& m : s.maps) {
        const auto leaf = t.leaf_at(m.io);
        const std::string mapped_by =
            leaf ? report::byte_size(std::uint64_t{1} << leaf->size_lg2) : std::string("no");
        const std::uint64_t first = t.unmap(m.io, page, g);
        std::string why;
        if (first == 0 && refuse) why = " (refused: part of a " + mapped_by + " leaf)";
        else if (first > page) why = " (the whole " + mapped_by + " leaf)";
        line(out, "unmap", "unmap(" + report::hex(m.io.value) + ", " + report::hex(page) + ") = " +
                               report::hex(first) + why);
        std::uint64_t rest = 0;
        if (first < m.size) {
            rest = t.unmap(iova{m.io.value + first}, m.size - first, g);
            line(out, "", "unmap(" + report::hex(m.io.value + first) + ", " +
                              report::hex(m.size - first) + ") = " + report::hex(rest));
        }
        if (first + rest != m.size) {
            line(out, "", "FAILED: not everything was unmapped");
            ok = false;
        }
    }
    // What the driver invalidates before the freed tables may be reused (Linux's
    // iotlb_sync); a coherent walk needs no other hook.
    line(out, "invalidate", (g.range ? report::range(*g.range) : std::string("nothing")) +
                                (g.walk_cache ? " and walk caches" : "") + "; then free " +
                                std::to_string(g.freed.size()) + " tables");
    t.release(g);
    const std::size_t root_units = (pgtable_setup::slots_at<F>(F::top_level) * 8 + 4095) / 4096;
    const bool clean = arena.live_units() == root_units && arena.misuse() == 0 &&
                       !t.iova_to_phys(s.maps.front().io);
    const std::string units = std::to_string(arena.live_units()) +
                              (arena.live_units() == 1 ? " unit" : " units");
    line(out, "after", clean ? "only the root is left (arena: " + units + " in use)"
                             : "FAILED: arena: " + units + " in use");
    return ok && clean;
}

void begin(std::ostream& out, const options& o, std::string_view title) {
    if (o.markdown)
        out << "#### " << title << "\n\n```text\n";
    else
        out << "== " << title << " ==\n";
}
void end(std::ostream& out, const options& o) { out << (o.markdown ? "```\n\n" : "\n"); }

// A catalog IOMMU's domain: the format is I::table_format, the page sizes the domain's.
template <class I>
bool with_domain(std::ostream& out, const options& o, const scenario& s) {
    begin(out, o, s.title);
    carveout mem(s.carveout, s.units);
    auto d = pg::domain<I, pg::arena_allocator>::create(mem.arena);
    const bool ok = d && setup_report(out, s, mem.arena, d->table(), d->pgsizes());
    if (!d) line(out, "create", "FAILED: " + std::string(pt::errno_name(d.error().code)));
    end(out, o);
    return ok;
}

// A format no catalog IOMMU uses by default: a page_table of it, every page size it has.
template <class F>
bool with_format(std::ostream& out, const options& o, const scenario& s) {
    using table = pg::page_table<F, pg::arena_allocator>;
    begin(out, o, s.title);
    carveout mem(s.carveout, s.units);
    auto t = table::create(mem.arena);
    const bool ok = t && setup_report(out, s, mem.arena, *t, pg::format_pgsizes<F>());
    if (!t) line(out, "create", "FAILED: " + std::string(pt::errno_name(t.error().code)));
    end(out, o);
    return ok;
}

// Table memory: an Arm server's second DRAM bank, and on x86 the first page above 4 GiB.
constexpr phys_addr arm_tables{0x8'8000'0000};
constexpr phys_addr x86_tables{0x1'0000'0000};

// Each mapping is PGTABLE's worked example where there is one (§1.11 examples 1, 2, 5
// and 6, §3.3, §4.2), plus a page after it so that a second level of leaves appears.
bool arm(std::ostream& out, const options& o) {
    using cfg = pg::arm_lpae_config;
    bool ok = with_domain<cat::arm_smmuv3<>>(
        out, o,
        {"ARM SMMUv3 stage 1: 4K granule, 48-bit IAS and OAS",
         "platforms::arm_smmuv3<>::table_format, through pgtable::domain",
         arm_tables, 16,
         {{iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB + 4 * KiB, rw_cache}}});
    ok = with_format<pg::arm_lpae<cfg{.stage = pg::arm_stage::s2, .ias = 40, .oas = 40}>>(
             out, o,
             {"ARM SMMU stage 2: 4K granule, IAS 40, OAS 40, concatenated root",
              "pgtable::arm_lpae<pgtable::arm_lpae_config{.stage = pgtable::arm_stage::s2, "
              ".ias = 40, .oas = 40}>",
              arm_tables, 16,
              {{iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB + 4 * KiB, rw_cache}}}) &&
         ok;
    ok = with_domain<cat::arm_smmuv3<64 * KiB, 52, true, false, 52>>(
             out, o,
             {"ARM SMMUv3 stage 1: 64K granule, 52-bit IAS and OAS",
              "platforms::arm_smmuv3<64 * KiB, 52, true, false, 52>::table_format, "
              "through pgtable::domain",
              arm_tables, 128,
              {{iova{0x2000'0000}, phys_addr{0x6000'0000}, 512 * MiB + 64 * KiB, rw_cache},
               {iova{0x4001'0000}, phys_addr{0x000F'0000'0001'0000}, 64 * KiB, rw_cache}}}) &&
         ok;
    return ok;
}

bool vtd(std::ostream& out, const options& o) {
    bool ok = with_domain<cat::intel_vtd<48, true>>(
        out, o,
        {"Intel VT-d second stage: 4 levels, snoop control",
         "platforms::intel_vtd<48, true>::table_format, through pgtable::domain", x86_tables, 16,
         {{iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB + 4 * KiB, rw_cache}}});
    ok = with_format<pg::vtd_ss<pg::vtd_ss_config{.levels = 5, .dirty_tracking = true}>>(
             out, o,
             {"Intel VT-d second stage: 5 levels, dirty tracking, no snoop control",
              "pgtable::vtd_ss<pgtable::vtd_ss_config{.levels = 5, .dirty_tracking = true}>",
              x86_tables, 16,
              {{iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB + 4 * KiB, rw_cache}}}) &&
         ok;
    return ok;
}

bool amd(std::ostream& out, const options& o) {
    bool ok = with_format<pg::amd_v1<pg::amd_v1_config{.mode = 4, .dirty_tracking = true}>>(
        out, o,
        {"AMD-Vi v1: mode 4 (48-bit IOVA), host dirty tracking",
         "pgtable::amd_v1<pgtable::amd_v1_config{.mode = 4, .dirty_tracking = true}>", x86_tables,
         16, {{iova{0x4000'0000}, phys_addr{0x4000'0000}, 2 * MiB + 4 * KiB, rw_cache}}});
    ok = with_domain<cat::amd_vi<>>(
             out, o,
             {"AMD-Vi v1: mode 6 (64-bit IOVA), a 64K NextLevel=7 page",
              "platforms::amd_vi<>::table_format, through pgtable::domain", x86_tables, 16,
              {{iova{0x4000'0000}, phys_addr{0x4000'0000}, 2 * MiB + 64 * KiB, rw_cache}}}) &&
         ok;
    return ok;
}

// The same walker in constant evaluation: a static-partitioning hypervisor can build its
// tables at compile time and check the words the IOMMU will read. (An arena over a
// std::array; the page_table constructor that takes the root, because result<> cannot
// hold a page_table in a constant expression.)
constexpr pt::pte_t vtd_superpage_at_compile_time() {
    using F = cat::intel_vtd<48, true>::table_format;
    std::array<pt::pte_t, 8 * 512> memory{};
    pg::arena_allocator arena(memory, x86_tables);
    const auto root = arena.alloc_table(512);
    if (!root) return 0;
    pg::page_table<F, pg::arena_allocator> t(arena, *root);
    if (!t.map(iova{0x4000'0000}, phys_addr{0x8000'0000}, 2 * MiB, prot::read | prot::write))
        return 0;
    const pt::pte_t* pml4 = arena.table_at(t.root());
    const pt::pte_t* pdpt = arena.table_at(F::table_pa(pml4[0]));
    return arena.table_at(F::table_pa(pdpt[1]))[0]; // the PDE of IOVA 0x40000000
}
static_assert(vtd_superpage_at_compile_time() == 0x0000000080000883); // PGTABLE §3.3 + SNP

struct family {
    std::string_view name;
    bool (*run)(std::ostream&, const options&);
};
constexpr family families[] = {{"arm", arm}, {"vtd", vtd}, {"amd", amd}};

int usage() {
    std::cerr << "usage: pgtable_setup [--markdown] [arm|vtd|amd]...\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    std::vector<std::string_view> wanted;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--markdown") {
            o.markdown = true;
            continue;
        }
        bool known = false;
        for (const family& f : families) known = known || f.name == arg;
        if (!known) return usage();
        wanted.push_back(arg);
    }
    bool ok = true;
    for (const family& f : families) {
        bool run = wanted.empty();
        for (std::string_view w : wanted) run = run || w == f.name;
        if (run) ok = f.run(std::cout, o) && ok;
    }
    if (!o.markdown) std::cout << (ok ? "every check passed\n" : "FAILED\n");
    return ok ? 0 : 1;
}
