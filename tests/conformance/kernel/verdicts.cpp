// Conformance with booted kernels. tests/kernel/record booted Debian's 6.1 and 6.12
// under QEMU with each emulated IOMMU and interrupt controller, and wrote the guest's
// PROBE lines to tests/kernel/transcripts/<kernel>-<config>[-e1000e].probe (see
// tests/kernel/README.md). This file asks passthru the same questions and fails
// wherever its answer differs from the kernel's. Nothing is booted here. Every expected
// transcript must exist: a missing one is a failure, never a skip.
//
// Each (kernel, config) is its own DYNAMIC_SECTION, so a failure names it. The platform
// a configuration corresponds to, and the kernel rule set of each kernel, are in
// `configs` and `model()` below. They come from tests/kernel/run (the QEMU command lines)
// and tests/kernel/README.md.
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>

#ifndef PASSTHRU_KERNEL_TRANSCRIPTS
#error "define PASSTHRU_KERNEL_TRANSCRIPTS as the tests/kernel/transcripts directory"
#endif

using namespace passthru;
using namespace passthru::platforms;

namespace {

// ---- transcripts ---------------------------------------------------------------------

// One `PROBE ...` line. "set_iommu type=TYPE1v2 errno=EPERM" has the head "set_iommu"
// and two fields; "uname_release=6.1.0-56-amd64" has the head "uname_release" and the
// value "6.1.0-56-amd64" (everything after the first '=', spaces included).
struct probe_line {
    std::string text; // without "PROBE "
    std::string head;
    std::string value;
    std::vector<std::pair<std::string, std::string>> fields;

    std::optional<std::string> get(std::string_view key) const {
        for (const auto& [k, v] : fields)
            if (k == key) return v;
        return std::nullopt;
    }
    // The field's value, or "<no KEY>": a plain string, so Catch prints both sides.
    std::string at(std::string_view key) const {
        return get(key).value_or("<no " + std::string(key) + ">");
    }
};

probe_line parse_line(std::string_view text) {
    probe_line l;
    l.text = std::string(text);
    const std::size_t space = text.find(' ');
    const std::string_view first = text.substr(0, space);
    if (const std::size_t eq = first.find('='); eq != std::string_view::npos) {
        l.head = std::string(first.substr(0, eq));
        l.value = std::string(text.substr(eq + 1));
    } else {
        l.head = std::string(first);
    }
    std::size_t pos = first.size();
    while (pos < text.size()) {
        while (pos < text.size() && text[pos] == ' ') ++pos;
        const std::size_t end = std::min(text.find(' ', pos), text.size());
        const std::string_view tok = text.substr(pos, end - pos);
        if (const std::size_t eq = tok.find('='); eq != std::string_view::npos)
            l.fields.emplace_back(std::string(tok.substr(0, eq)), std::string(tok.substr(eq + 1)));
        pos = end;
    }
    return l;
}

using where = std::initializer_list<std::pair<std::string_view, std::string_view>>;

struct transcript {
    std::string name;
    std::vector<probe_line> lines;

    std::vector<const probe_line*> all(std::string_view head, where w = {}) const {
        std::vector<const probe_line*> out;
        for (const probe_line& l : lines) {
            if (l.head != head) continue;
            bool match = true;
            for (const auto& [k, v] : w) match = match && l.get(k) == std::string(v);
            if (match) out.push_back(&l);
        }
        return out;
    }
    // The single line with that head (and fields), or nullptr when there is none or
    // more than one.
    const probe_line* one(std::string_view head, where w = {}) const {
        auto v = all(head, w);
        return v.size() == 1 ? v.front() : nullptr;
    }
};

const std::filesystem::path transcript_dir{PASSTHRU_KERNEL_TRANSCRIPTS};

std::filesystem::path path_of(const std::string& name) {
    return transcript_dir / (name + ".probe");
}

// Parsed once per process; nullptr when the file is missing or unreadable.
const transcript* load(const std::string& name) {
    static std::map<std::string, std::optional<transcript>> cache;
    auto it = cache.find(name);
    if (it == cache.end()) {
        std::optional<transcript> t;
        std::ifstream in(path_of(name));
        if (in) {
            t.emplace();
            t->name = name;
            for (std::string s; std::getline(in, s);) {
                if (s.rfind("PROBE ", 0) == 0) t->lines.push_back(parse_line(std::string_view(s).substr(6)));
            }
        }
        it = cache.emplace(name, std::move(t)).first;
    }
    return it->second ? &*it->second : nullptr;
}

std::uint64_t num(const std::optional<std::string>& s) {
    REQUIRE(s.has_value());
    REQUIRE_FALSE(s->empty());
    return std::stoull(*s, nullptr, 0); // "0x..." or decimal
}

std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

std::string range_text(std::uint64_t first, std::uint64_t last) {
    return "[" + hex(first) + ", " + hex(last) + "]";
}

// ---- the model for one configuration ------------------------------------------------

// What passthru says for one (kernel, config), in the form the transcripts use.
struct expectation {
    std::string platform;          // for messages
    std::string set_iommu;         // SET_IOMMU errno: "0" or the errno name
    std::string set_iommu_unsafe;  // the same attach with allow_unsafe_interrupts set
    std::vector<std::string> reserved; // "[start, end] sysfs-type", in list order
    std::vector<std::string> usable;   // "[start, end]"
    std::uint64_t pgsizes = 0;     // the IOMMU's pgsize_bitmap in the catalog
    bool dma_cc_iommu = false;     // platform::dma_cc_iommu
    bool plan_enforces_cc = false; // attach_plan::enforce_cache_coherency
    bool cache_coherent = false;   // platform::cache_coherent
    msi_isolation isolation = msi_isolation::none; // of the interrupt controller
    bool generic_msi_domains = true;
    bool amd_v1 = false;           // AMD-Vi v1 page table (the known 6.1 page-size difference)
    bool vtd = false;
    bool vtd_snoop_control = false;
};

std::string outcome(const result<attach_plan>& r) {
    return r ? std::string("0") : std::string(errno_name(r.error().code));
}

template <Platform P>
expectation expect(bool unsafe, bool msi_domain) {
    using I = typename P::iommu;
    using C = typename P::irq;
    attach_facts facts;
    facts.allow_unsafe_interrupts = unsafe;
    facts.devices_have_msi_domain = msi_domain;
    attach_facts with_unsafe = facts;
    with_unsafe.allow_unsafe_interrupts = true;

    expectation e;
    e.platform = std::string(I::name) + " + " + std::string(C::name) + " under " +
                 std::string(P::rule::facts.name) + (unsafe ? " with allow_unsafe_interrupts" : "");
    const result<attach_plan> plan = plan_attach<P>(facts);
    const result<attach_plan> retry = plan_attach<P>(with_unsafe);
    e.set_iommu = outcome(plan);
    e.set_iommu_unsafe = outcome(retry);
    // The group's regions, usable ranges and caps as the container has them once
    // attached: the refused configurations attach on the run-time retry.
    const result<attach_plan>& attached = plan ? plan : retry;
    if (attached) {
        for (const reserved_region& r : attached->reserved)
            e.reserved.push_back(range_text(r.range.first, r.range.last) + " " +
                                 std::string(sysfs_name(r.type)));
        for (const interval& i : attached->usable) e.usable.push_back(range_text(i.first, i.last));
        e.plan_enforces_cc = attached->enforce_cache_coherency;
    }
    e.pgsizes = I::pgsizes.bits;
    e.dma_cc_iommu = P::dma_cc_iommu;
    e.cache_coherent = P::cache_coherent;
    e.isolation = C::caps.isolation;
    e.generic_msi_domains = C::caps.generic_msi_domains;
    e.amd_v1 = I::name == amd_vi<>::name;
    e.vtd = I::name == intel_vtd<>::name;
    e.vtd_snoop_control = I::caps.enforce_cache_coherency; // read only for VT-d
    return e;
}

// What the model predicts for a catalog alias (with the IOMMU instance QEMU emulates) on
// each booted kernel, through the public API alone: rules::for_kernel_t names the rule.
// Debian 6.1 is the v6.0-v6.2 row of linux_v4_11 (global irq-domain check or
// INTR_REMAP); 6.12 is v6.3+.
template <template <class, class...> class Alias, class Iommu, bool MsiDomain = true>
expectation model(std::string_view kernel, bool unsafe) {
    static_assert(std::is_same_v<rules::for_kernel_t<6, 1>, rules::linux_v4_11> &&
                  std::is_same_v<rules::for_kernel_t<6, 12>, rules::linux_v6_3>);
    if (kernel == "6.1") return expect<Alias<pci_bus, Iommu, rules::for_kernel_t<6, 1>>>(unsafe, MsiDomain);
    return expect<Alias<pci_bus, Iommu, rules::for_kernel_t<6, 12>>>(unsafe, MsiDomain);
}

// QEMU 7.2's VT-d: aw-bits 39, no snoop control (ECAP.SC = 0), 2M and 1G superpages.
using qemu_vtd = intel_vtd<39, false>;

struct config {
    std::string_view name;      // as tests/kernel/run names it
    expectation (*model)(std::string_view kernel, bool unsafe);
    std::string_view default_device; // PCI id of the device `run` passes through
    bool e1000e_variant;        // also recorded with PROBE_DEVICE=e1000e
};

// The QEMU command lines are in tests/kernel/run. `x86-vtd-ir-kernel-off` has IR in
// the hardware, but the kernel runs with intremap=off, so nothing remaps. GICv3 without
// an ITS has no MSI irq domain at all (the kernel logs "No ITS available").
const std::vector<config> configs = {
    {"x86-vtd-ir", &model<x86_vtd_ir, qemu_vtd>, "1234:11e8", true},
    {"x86-vtd-noir", &model<x86_vtd_no_ir, qemu_vtd>, "1234:11e8", true},
    {"x86-vtd-noir-unsafe", &model<x86_vtd_no_ir, qemu_vtd>, "1234:11e8", false},
    {"x86-vtd-ir-kernel-off", &model<x86_vtd_no_ir, qemu_vtd>, "1234:11e8", false},
    // aw-bits=48,snoop-control=on: the catalog's default intel_vtd<> (x86_vtd_ir<>).
    {"x86-vtd48-sc-ir", &model<x86_vtd_ir, intel_vtd<>>, "1234:11e8", false},
    {"x86-amdvi-ir", &model<x86_amdvi_ir, amd_vi<>>, "1234:11e8", false},
    {"x86-amdvi-noir", &model<x86_amdvi_no_ir, amd_vi<>>, "1234:11e8", false},
    {"arm-smmuv3-its", &model<arm_smmuv3_its, arm_smmuv3<>>, "1234:11e8", true},
    {"arm-smmuv3-gicv2m", &model<arm_smmuv3_gicv2m, arm_smmuv3<>>, "1234:11e8", true},
    {"arm-smmuv3-gicv3-noits", &model<arm_smmuv3_gicv3_no_its, arm_smmuv3<>, false>, "8086:10d3", false},
    {"arm-smmuv3-gicv3-noits-unsafe", &model<arm_smmuv3_gicv3_no_its, arm_smmuv3<>, false>, "8086:10d3", false},
};

const std::vector<std::string_view> kernels = {"6.1", "6.12"};

// One recorded boot: <kernel>-<config>[-e1000e].
struct boot {
    std::string_view kernel;
    const config* cfg;
    bool e1000e;

    std::string name() const {
        return std::string(kernel) + "-" + std::string(cfg->name) + (e1000e ? "-e1000e" : "");
    }
    bool unsafe() const { return cfg->name.ends_with("-unsafe"); }
    bool x86() const { return cfg->name.starts_with("x86-"); }
    std::string_view device() const { return e1000e ? "8086:10d3" : cfg->default_device; }
    expectation expected() const { return cfg->model(kernel, unsafe()); }
};

std::vector<boot> all_boots() {
    std::vector<boot> out;
    for (std::string_view k : kernels) {
        for (const config& c : configs) out.push_back({k, &c, false});
        for (const config& c : configs)
            if (c.e1000e_variant) out.push_back({k, &c, true});
    }
    return out;
}

// The transcript of `b`; fails the current section when it is missing.
const transcript& transcript_of(const boot& b) {
    const transcript* t = load(b.name());
    INFO("missing transcript " << path_of(b.name()).string() << ": run tests/kernel/record");
    REQUIRE(t != nullptr);
    return *t;
}

// Runs `check` once per recorded boot, each in a section named after it.
template <class F>
void for_each_boot(F check) {
    for (const boot& b : all_boots()) {
        DYNAMIC_SECTION(b.name()) {
            const transcript& t = transcript_of(b);
            const expectation e = b.expected();
            INFO("transcript " << path_of(b.name()).string());
            INFO("model: " << e.platform);
            check(b, t, e);
        }
    }
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }

} // namespace

TEST_CASE("kernel transcripts: every recorded (kernel config) pair is present and no other") {
    std::set<std::string> expected, found;
    for (const boot& b : all_boots()) expected.insert(b.name() + ".probe");
    INFO("transcript directory " << transcript_dir.string());
    REQUIRE(std::filesystem::is_directory(transcript_dir));
    for (const auto& entry : std::filesystem::directory_iterator(transcript_dir))
        if (entry.path().extension() == ".probe") found.insert(entry.path().filename().string());
    std::vector<std::string> missing, unexpected;
    std::set_difference(expected.begin(), expected.end(), found.begin(), found.end(),
                        std::back_inserter(missing));
    std::set_difference(found.begin(), found.end(), expected.begin(), expected.end(),
                        std::back_inserter(unexpected));
    CHECK(missing == std::vector<std::string>{});    // run tests/kernel/record
    CHECK(unexpected == std::vector<std::string>{}); // a new config needs a row in `configs`
    CHECK(expected.size() == 30); // 11 configs + 4 e1000e cross-checks, on 6.1 and 6.12
}

TEST_CASE("kernel transcripts: each transcript is the complete boot its name says") {
    for_each_boot([](const boot& b, const transcript& t, const expectation&) {
        REQUIRE_FALSE(t.lines.empty());
        CHECK(t.lines.back().head == "done");
        const probe_line* rel = t.one("uname_release");
        REQUIRE(rel != nullptr);
        CHECK(rel->value.starts_with(std::string(b.kernel) + "."));
        CHECK(rel->value.ends_with(b.x86() ? "-amd64" : "-arm64"));
        const probe_line* machine = t.one("uname_machine");
        REQUIRE(machine != nullptr);
        CHECK(machine->value == (b.x86() ? "x86_64" : "aarch64"));

        const probe_line* cmd = t.one("cmdline");
        REQUIRE(cmd != nullptr);
        CHECK(contains(cmd->value, "probe.unsafe=1") == b.unsafe());
        CHECK(contains(cmd->value, "intremap=off") == (b.cfg->name == "x86-vtd-ir-kernel-off"));
        CHECK(contains(cmd->value, "intel_iommu=on") == b.cfg->name.starts_with("x86-vtd"));
        CHECK(contains(cmd->value, "probe.pciid=" + std::string(b.device())));

        const probe_line* dev = t.one("device");
        REQUIRE(dev != nullptr);
        CHECK(dev->at("id") == std::string(b.device()));
        CHECK(dev->at("found") == "1");
        CHECK(t.one("bind", {{"driver", "vfio-pci"}, {"errno", "0"}}) != nullptr);
        // The module parameter as type1 read it at the first attach (SEMANTICS 1.2).
        const probe_line* param = t.one("param");
        REQUIRE(param != nullptr);
        CHECK(param->at("allow_unsafe_interrupts") == (b.unsafe() ? "Y" : "N"));
        const probe_line* set = t.one("set_iommu", {{"type", "TYPE1v2"}});
        REQUIRE(set != nullptr);
        CHECK(set->at("allow_unsafe_interrupts") == (b.unsafe() ? "1" : "0"));
        // The device is alone in its group, so the group has no other device's
        // firmware regions and attach_facts::firmware_regions stays empty.
        CHECK(t.all("group_device").size() == 1);
    });
}

TEST_CASE("SEMANTICS H.3 kernel transcripts: the SET_IOMMU errno is what plan_attach decides under the kernel's rule set") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        const probe_line* set = t.one("set_iommu", {{"type", "TYPE1v2"}});
        REQUIRE(set != nullptr);
        CHECK(set->at("errno") == e.set_iommu);
    });
}

TEST_CASE("SEMANTICS A13 kernel transcripts: setting allow_unsafe_interrupts at run time lets every refused attach through") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        const probe_line* set = t.one("set_iommu", {{"type", "TYPE1v2"}});
        REQUIRE(set != nullptr);
        const probe_line* retry = t.one("set_iommu_retry_unsafe");
        if (set->at("errno") == "EPERM") {
            REQUIRE(retry != nullptr);
            CHECK(retry->at("param_write_errno") == "0");
            CHECK(retry->at("errno") == e.set_iommu_unsafe);
        } else {
            CHECK(retry == nullptr);
        }
        // Only a refusal logs type1's warning.
        bool warned = false;
        for (const probe_line* l : t.all("klog"))
            warned = warned || contains(l->value, "No interrupt remapping support");
        CHECK(warned == (set->at("errno") == "EPERM"));
    });
}

TEST_CASE("SEMANTICS G.3 kernel transcripts: the group's sysfs reserved_regions are the plan's merged reserved list") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        std::vector<std::string> kernel;
        for (const probe_line* l : t.all("resv_region"))
            kernel.push_back(range_text(num(l->get("start")), num(l->get("end"))) + " " +
                             l->at("type"));
        CHECK(kernel == e.reserved);
        const probe_line* count = t.one("resv_region_count");
        REQUIRE(count != nullptr);
        CHECK(num(count->value) == kernel.size());
    });
}

TEST_CASE("SEMANTICS A.1 kernel transcripts: the IOVA_RANGE cap of GET_INFO is the plan's usable list") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        std::vector<std::string> kernel;
        for (const probe_line* l : t.all("iova_range", {{"tag", "initial"}}))
            kernel.push_back(range_text(num(l->get("start")), num(l->get("end"))));
        CHECK(kernel == e.usable);
        const probe_line* nr = t.one("iova_ranges", {{"tag", "initial"}});
        REQUIRE(nr != nullptr);
        CHECK(num(nr->get("nr")) == kernel.size());
    });
}

TEST_CASE("SEMANTICS I kernel transcripts: iova_pgsizes is the catalog's pgsizes except AMD-Vi on 6.1") {
    for_each_boot([](const boot& b, const transcript& t, const expectation& e) {
        const probe_line* info = t.one("get_info", {{"tag", "initial"}});
        REQUIRE(info != nullptr);
        CHECK(info->at("errno") == "0");
        const std::uint64_t kernel = num(info->get("iova_pgsizes"));
        if (e.amd_v1 && b.kernel == "6.1") {
            // Known difference: the catalog has GENMASK(51,12) ^ 512G, as 6.12 reports it.
            // Debian 6.1 still claims every power of two from 2^52 to 2^63 as well
            // (tests/kernel/observed.md). Fails if either side changes.
            constexpr std::uint64_t bits_52_to_63 = 0xFFF0'0000'0000'0000;
            CHECK(hex(kernel) == hex(0xFFFF'FF7F'FFFF'F000));
            CHECK(hex(kernel) == hex(e.pgsizes | bits_52_to_63));
            CHECK(hex(kernel) != hex(e.pgsizes));
        } else {
            CHECK(hex(kernel) == hex(e.pgsizes));
        }
    });
}

TEST_CASE("SEMANTICS D8 kernel transcripts: the MIGRATION cap reports the catalog's smallest page") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        const probe_line* mig = t.one("cap_migration", {{"tag", "initial"}});
        REQUIRE(mig != nullptr);
        CHECK(hex(num(mig->get("pgsize_bitmap"))) == hex(pgsize_bitmap{e.pgsizes}.min_pgsize()));
        CHECK(num(mig->get("flags")) == 0);
        CHECK(num(mig->get("max_dirty_bitmap_size")) == 256 * MiB); // DIRTY_BITMAP_SIZE_MAX
    });
}

TEST_CASE("SEMANTICS A.3 kernel transcripts: DMA_CC_IOMMU is the catalog's enforce_cache_coherency") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        // VFIO registered the device (bind, device fd): the IOMMU is cache coherent.
        CHECK(e.cache_coherent);
        CHECK(t.one("get_device_fd", {{"errno", "0"}}) != nullptr);
        // No IOMMU set yet: type1 answers for a NULL container, 0.
        const probe_line* before =
            t.one("check_extension", {{"when", "before_set_iommu"}, {"ext", "DMA_CC_IOMMU"}});
        REQUIRE(before != nullptr);
        CHECK(before->at("ret") == "0");
        const probe_line* after =
            t.one("check_extension", {{"when", "after_set_iommu"}, {"ext", "DMA_CC_IOMMU"}});
        REQUIRE(after != nullptr);
        CHECK(after->at("ret") == (e.dma_cc_iommu ? "1" : "0"));
        CHECK(e.plan_enforces_cc == e.dma_cc_iommu);
        if (e.vtd) {
            // VT-d enforces coherency iff ECAP.SC (bit 7), which the kernel logs.
            bool found = false;
            for (const probe_line* l : t.all("klog")) {
                const std::size_t at = l->value.find(" ecap ");
                if (at == std::string::npos) continue;
                found = true;
                const std::uint64_t ecap = std::stoull(l->value.substr(at + 6), nullptr, 16);
                CHECK(((ecap >> 7) & 1) == (e.vtd_snoop_control ? 1u : 0u));
            }
            CHECK(found);
        }
    });
}

TEST_CASE("SEMANTICS H.2 kernel transcripts: the device's MSI irq chip is the catalog controller's kind") {
    for_each_boot([](const boot&, const transcript& t, const expectation& e) {
        // /proc/interrupts after VFIO_DEVICE_SET_IRQS enabled one MSI: "<irq>: <count> <chip> ...".
        std::string chip;
        if (const probe_line* l = t.one("interrupts", {{"tag", "MSI"}})) {
            const std::string rest = l->text.substr(l->text.find("line=") + 5);
            std::vector<std::string> tok;
            for (std::size_t p = 0; p < rest.size();) {
                while (p < rest.size() && rest[p] == ' ') ++p;
                const std::size_t end = std::min(rest.find(' ', p), rest.size());
                if (end > p) tok.push_back(rest.substr(p, end - p));
                p = end;
            }
            REQUIRE(tok.size() >= 3);
            chip = tok[2];
        }
        INFO("MSI irq chip: '" << chip << "'");
        if (!e.generic_msi_domains) {
            // No MSI controller at all: the device comes up without MSI or MSI-X.
            CHECK(chip.empty());
            CHECK(t.one("irq_info", {{"index", "MSI"}, {"count", "0"}}) != nullptr);
            CHECK(t.one("irq_info", {{"index", "MSIX"}, {"count", "0"}}) != nullptr);
            bool no_its = false;
            for (const probe_line* l : t.all("klog")) no_its = no_its || contains(l->value, "No ITS available");
            CHECK(no_its);
            return;
        }
        REQUIRE_FALSE(chip.empty());
        CHECK(chip.starts_with("IR-") == (e.isolation == msi_isolation::remapped));
        CHECK(chip.starts_with("ITS-") == (e.isolation == msi_isolation::device_id_translated));
    });
}
