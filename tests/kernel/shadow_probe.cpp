// The guest's second program, built from passthru's headers (issue #8): the host check
// on the booted kernel, then a container driven through the Linux backend in shadow mode,
// every call answered by the kernel and by the model (the catalog platform the host check
// found, the profile of the running kernel, the group's regions from sysfs): first the
// byte-level sequence through the raw face (tests/support/shadow_raw_vectors.hpp), then
// the typed one, then a v1 container. It prints `PROBE shadow ...` lines; /init
// (guest_probe.c) runs it before its own sequence, with nothing of VFIO open.
// Usage: /shadow <group id>
#include <sys/mman.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <passthru/linux/host_check.hpp>
#include <passthru/linux/kernel_container.hpp>
#include <passthru/linux/shadow.hpp>
#include <passthru/linux/sysfs.hpp>
#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/type1/domain_factory.hpp>
#include <passthru/type1/map_unmap.hpp>
#include <passthru/type1/pinning.hpp>

#include "shadow_raw_vectors.hpp" // tests/support

namespace lv = passthru::linux_vfio;
namespace type1 = passthru::type1;
using passthru::iova;
using passthru::prot;

namespace {

constexpr std::uint64_t K4 = 0x1000;
constexpr std::size_t buf_pages = 1024; // 4 MiB of guest memory to map
const char* const param = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";

const char* errno_text(const std::optional<passthru::errc>& e) {
    return e ? passthru::describe(*e).name.data() : "0";
}
const char* const limit_param = "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit";
bool write_file(const char* path, const char* v) {
    FILE* f = std::fopen(path, "w");
    if (!f) return false;
    const bool ok = std::fputs(v, f) >= 0;
    return std::fclose(f) == 0 && ok;
}
bool write_param(const char* v) { return write_file(param, v); }

void report(const char* tag, const std::vector<lv::divergence>& ds, int ops) {
    for (const lv::divergence& d : ds)
        std::printf("PROBE %s_divergence op=%.*s iova=%#" PRIx64 " size=%#" PRIx64 " model=%s/%#" PRIx64
                    " kernel=%s/%#" PRIx64 " rule=%s what=%s values=%#" PRIx64 "/%#" PRIx64 "\n",
                    tag, static_cast<int>(d.operation.size()), d.operation.data(), d.iova, d.size,
                    errno_text(d.model.error), d.model.value, errno_text(d.kernel.error), d.kernel.value,
                    d.rule.c_str(), d.what.empty() ? "-" : d.what.c_str(), d.model_value, d.kernel_value);
    std::printf("PROBE %s ops=%d divergences=%zu\n", tag, ops, ds.size());
}

// Everything but the platform: the sequence, on model M and kernel container C.
template <class M, class C>
void run_vectors(M& model, C& kernel, std::uint64_t buf, bool x86, bool top_reachable) {
    lv::shadow s(model, kernel);
    int ops = 0;
    auto op = [&](auto&& r) { ++ops; return r; };
    const prot rw = prot::read | prot::write;
    op(s.info());
    for (auto e : {type1::abi::extension::type1, type1::abi::extension::type1v2, type1::abi::extension::dma_cc_iommu,
                   type1::abi::extension::unmap_all, type1::abi::extension::update_vaddr})
        op(s.check_extension(e));
    op(s.map(iova{0x1000}, K4, buf, rw));
    op(s.map(iova{0x1000}, K4, buf, rw));                 // B9 EEXIST
    op(s.map(iova{0x1800}, K4, buf, rw));                 // B7
    op(s.map(iova{0x2000}, 0, buf, rw));                  // B4/B7
    op(s.map(iova{0x2000}, K4, buf, prot::none));         // B5
    op(s.map(iova{x86 ? 0xFEE00000ull : 0x8000000ull}, K4, buf, rw)); // B11: the MSI window
    op(s.map(iova{0xFFFF'FFFF'FFFF'F000}, 2 * K4, buf, rw));          // B4/B8: wraps
    op(s.unmap(iova{0x1000}, 0x800));                     // C7
    op(s.unmap(iova{0}, 0x10000));                        // covers N1
    op(s.map(iova{0x10000}, 4 * K4, buf, rw));
    op(s.unmap(iova{0x11000}, K4));                       // C9
    op(s.info());
    op(s.unmap_all());
    // Dirty tracking with a bitmap the kernel and the model both write (D6).
    op(s.map(iova{0x200000}, 4 * K4, buf, rw));
    op(s.map(iova{0x221000}, K4, buf + 8 * K4, rw));
    op(s.dirty_start());
    std::vector<std::uint64_t> words(4, 0);
    op(s.dirty_get(iova{0x200000}, 0x40000, K4, words));
    words.assign(4, 0x1);
    op(s.unmap_with_bitmap(iova{0x21f000}, 3 * K4, K4, words)); // the residue bits (observed.md §5 item 6)
    op(s.dirty_stop());
    // VADDR invalidation and update.
    op(s.invalidate_vaddr(iova{0x200000}, 4 * K4));
    op(s.update_vaddr(iova{0x200000}, K4, buf));           // B9: not exactly one
    op(s.update_vaddr(iova{0x200000}, 4 * K4, buf));
    op(s.map(iova{0x400000}, buf_pages * K4, buf, rw));    // the whole buffer, one mapping
    op(s.info());
    op(s.unmap_all());
    if (top_reachable) { // the last page (SEMANTICS P5)
        op(s.map(iova{0xFFFF'FFFF'FFFF'F000}, K4, buf, rw));
        op(s.unmap(iova{0xFFFF'FFFF'FFFF'F000}, K4));
        op(s.map(iova{0xFFFF'FFFF'FFFF'F000}, K4, buf, rw));
        op(s.map(iova{0x10000}, 4 * K4, buf, rw));
        op(s.unmap_all());
        op(s.info());
    }
    report("shadow", s.divergences(), ops);
}

// The v1 container, opened with dma_entry_limit 4: the v1 unmap table of SEMANTICS C10,
// dirty tracking refused (D1), and the entry limit (B10).
template <class M, class C>
void run_v1_vectors(M& model, C& kernel, std::uint64_t buf) {
    lv::shadow s(model, kernel);
    int ops = 0;
    auto op = [&](auto&& r) { ++ops; return r; };
    const prot rw = prot::read | prot::write;
    op(s.info());
    op(s.map(iova{0x1000}, 4 * K4, buf, rw));
    op(s.unmap(iova{0x2000}, K4));      // starts inside: nothing, and no error
    op(s.unmap(iova{0}, 2 * K4));       // ends inside: the whole mapping
    op(s.map(iova{0x1000}, 4 * K4, buf, rw));
    op(s.unmap(iova{0x1000}, K4));      // its first page: the whole mapping
    op(s.map(iova{0x1000}, 4 * K4, buf, rw));
    op(s.map(iova{0x10000}, K4, buf, rw));
    op(s.unmap(iova{0x2000}, 0x10000)); // the walk stops at the one it starts inside
    op(s.unmap(iova{0}, 0x20000));
    op(s.dirty_start());                // D1: EACCES
    for (std::uint64_t i = 0; i < 5; ++i) op(s.map(iova{0x100000 + 2 * i * K4}, K4, buf, rw)); // the fifth: ENOSPC
    op(s.map(iova{0x100000}, K4, buf, rw)); // B9 before B10
    op(s.info());
    op(s.unmap_all());
    report("shadow_v1", s.divergences(), ops);
}

// The program is built for one guest architecture, so only that architecture's platforms,
// and for each kernel profile only the rule set that kernel applied, are instantiated: the
// other combinations can never be picked on this guest (a 4-10x shorter build).
#if defined(__aarch64__)
constexpr passthru::isa guest_isa = passthru::isa::arm;
#else
constexpr passthru::isa guest_isa = passthru::isa::x86;
#endif
template <class P, class K>
constexpr bool modelled = P::iommu::arch == guest_isa &&
    std::is_same_v<typename P::rule, passthru::rules::for_kernel_t<K::facts.version.major, K::facts.version.minor>>;

template <class K>
constexpr bool is_amd = false;
template <bool Ht, std::uint64_t S>
constexpr bool is_amd<passthru::platforms::amd_vi<Ht, S>> = true;

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    const unsigned group_id = static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10));
    lv::real_filesystem fs;
    const auto host = lv::read_host_facts(fs);
    if (!host) {
        std::printf("PROBE shadow host_error=%.*s\n", static_cast<int>(host.error().reason.size()), host.error().reason.data());
        return 1;
    }
    const auto msi_as = host->x86 ? passthru::resv_type::msi : passthru::resv_type::sw_msi;
    const auto g = lv::read_group(fs, group_id, msi_as);
    if (!g) return 1;
    const auto verdict = lv::predict_attach(*host, g->regions);
    if (!verdict) return 1;
    std::printf("PROBE shadow platform=\"%s\" host_verdict=%s\n", verdict->platform.c_str(), errno_text(verdict->error));

    void* mem = mmap(nullptr, buf_pages * K4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) return 1;
    std::memset(mem, 0x5a, buf_pages * K4);
    const auto buf = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(mem));

    const bool was_unsafe = host->allow_unsafe_interrupts;
    lv::real_syscalls sys;
    auto result = lv::with_host_platform(*host, [&]<class P>() -> int {
        auto run = [&]<class K>() -> int {
            if constexpr (!modelled<P, K>) {
                std::printf("PROBE shadow no_model=\"%s / %s\"\n", verdict->platform.c_str(), K::facts.name.data());
                return 1;
            } else {
                using I = typename P::iommu;
                using factory = type1::table_domains<I, passthru::pgtable::arena_allocator>;
                static std::vector<passthru::pte_t> arena_mem(512 * 4096);
                passthru::pgtable::arena_allocator arena(arena_mem, passthru::phys_addr{0x1'0000'0000});
                const auto over = is_amd<I> && K::facts.top_end_wraps ? passthru::pgtable::map_over::replace_leaves
                                                                      : passthru::pgtable::map_over::refuse;
                factory domains(arena, over);
                type1::memory_pinner pinner(~std::uint64_t{0}, true); // root: CAP_IPC_LOCK
                if (!pinner.add({buf, buf_pages, type1::memory_pinner::backing::contiguous, passthru::phys_addr{0x40'0000'0000}}))
                    return 1;
                const type1::group grp{.id = group_id, .firmware_regions = g->regions,
                                       .devices_have_msi_domain = host->x86 || host->msi != lv::host_msi::no_controller};
                auto kc = lv::kernel_container<>::open(sys);
                auto kg = lv::kernel_group<>::open(sys, group_id);
                if (!kc || !kg || !kg->set_container(*kc)) {
                    std::printf("PROBE shadow open_error=1\n");
                    return 1;
                }
                type1::container<P, factory, type1::memory_pinner, K> model(type1::iommu_mode::v2, domains, pinner,
                                                                            {.allow_unsafe_interrupts = was_unsafe});
                auto k = kc->set_iommu(type1::iommu_mode::v2);
                auto m = model.attach(grp);
                std::printf("PROBE shadow set_iommu kernel=%s model=%s\n", k ? "0" : passthru::describe(k.error().code).name.data(),
                            m ? "0" : passthru::describe(m.error().code).name.data());
                bool retried = false;
                if (!k && k.error().code == passthru::errc::eperm && write_param("1")) { // P8: read at each attach
                    retried = true;
                    model.set_allow_unsafe_interrupts(true);
                    k = kc->set_iommu(type1::iommu_mode::v2);
                    m = model.attach(grp);
                    std::printf("PROBE shadow set_iommu_retry_unsafe kernel=%s model=%s\n",
                                k ? "0" : passthru::describe(k.error().code).name.data(),
                                m ? "0" : passthru::describe(m.error().code).name.data());
                }
                if (k && m) {
                    lv::shadow raw(model, *kc); // the byte-level checks first, on an empty container
                    const int n = passthru::testing::run_raw_vectors(raw, buf);
                    report("shadow_raw", raw.divergences(), n);
                    run_vectors(model, *kc, buf, host->x86, is_amd<I>);
                }
                if (k && m && kg->unset_container()) {
                    // A fresh v1 container with the entry limit lowered, read when it opens.
                    const bool limited = write_file(limit_param, "4");
                    auto kc1 = lv::kernel_container<>::open(sys);
                    type1::container<P, factory, type1::memory_pinner, K> v1(
                        type1::iommu_mode::v1, domains, pinner,
                        {.dma_entry_limit = limited ? 4u : 65535u, .allow_unsafe_interrupts = was_unsafe || retried});
                    if (kc1 && kg->set_container(*kc1)) {
                        const auto k1 = kc1->set_iommu(type1::iommu_mode::v1);
                        const auto m1 = v1.attach(grp);
                        std::printf("PROBE shadow_v1 set_iommu kernel=%s model=%s\n",
                                    k1 ? "0" : passthru::describe(k1.error().code).name.data(),
                                    m1 ? "0" : passthru::describe(m1.error().code).name.data());
                        if (k1 && m1) run_v1_vectors(v1, *kc1, buf);
                        (void)kg->unset_container();
                    }
                    if (limited) write_file(limit_param, "65535");
                }
                if (!was_unsafe) write_param("0");
                return 0;
            }
        };
        if (host->kernel.major == 6 && host->kernel.minor == 1) return run.template operator()<type1::profiles::debian_6_1>();
        if (host->kernel.major == 6 && host->kernel.minor == 12) return run.template operator()<type1::profiles::debian_6_12>();
        return run.template operator()<type1::profiles::upstream>();
    });
    if (!result) return 1;
    return *result;
}
