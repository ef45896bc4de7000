// vmm_flow: what a user-space VMM does with a VFIO type1 container, on passthru's engine
// instead of the kernel, for x86 VT-d and ARM SMMUv3 + GICv3 ITS:
//   1. open a container: CHECK_EXTENSION, then attach the device's group (SET_IOMMU),
//   2. read GET_INFO's bytes and lay guest RAM around the reserved windows it reports,
//   3. map guest RAM (hugepage-backed, so 2M at a time) and show the first descriptors
//      the IOMMU will walk,
//   4. start dirty tracking and harvest a bitmap, as a migration would,
//   5. unmap everything; and show the refusal a GICv2m platform gets.
// The output is deterministic (tests: example.vmm_flow.run).
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <passthru/pgtable/arena_allocator.hpp>
#include <passthru/platforms/catalog.hpp>
#include <passthru/type1/abi_face.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/info.hpp>
#include <passthru/type1/mock_domain.hpp>

namespace pt = passthru;
namespace t1 = passthru::type1;

namespace {

constexpr std::uint64_t MiB = 1 << 20, GiB = std::uint64_t{1} << 30;
constexpr std::uint64_t guest_ram_va = 0x7f00'0000'0000; // where the VMM mmap'd guest RAM

// The VMM process: 3 GiB of guest RAM backed by 2M hugepages.
t1::memory_pinner vmm_process() {
    t1::memory_pinner p;
    (void)p.add({guest_ram_va, 3 * GiB / 4096, t1::memory_pinner::backing::huge_2m, pt::phys_addr{0x40'0000'0000}, true, 5});
    return p;
}

// GET_INFO through the ABI face: the usable ranges a VMM lays guest RAM out from.
template <class C>
std::vector<t1::abi::iova_range> usable_ranges(const C& c) {
    std::vector<std::byte> buf(256);
    const t1::abi::iommu_info ask{256, 0, 0, 0, 0};
    std::memcpy(buf.data(), &ask, sizeof ask);
    std::vector<t1::abi::iova_range> out;
    if (!t1::get_info(c, buf)) return out;
    t1::abi::iommu_info info{};
    std::memcpy(&info, buf.data(), sizeof info);
    std::printf("  GET_INFO       argsz %u, flags 0x%x, page sizes 0x%llx\n", info.argsz, info.flags,
                static_cast<unsigned long long>(info.iova_pgsizes));
    for (std::uint32_t at = info.cap_offset; at != 0;) {
        t1::abi::cap_header h{};
        std::memcpy(&h, buf.data() + at, sizeof h);
        if (h.id == t1::abi::cap_id::iova_range) {
            t1::abi::cap_iova_range cap{};
            std::memcpy(&cap, buf.data() + at, sizeof cap);
            for (std::uint32_t i = 0; i < cap.nr_iovas; ++i) {
                t1::abi::iova_range r{};
                std::memcpy(&r, buf.data() + at + sizeof cap + i * sizeof r, sizeof r);
                out.push_back(r);
                std::printf("  usable IOVA    [0x%llx, 0x%llx]\n", static_cast<unsigned long long>(r.start),
                            static_cast<unsigned long long>(r.end));
            }
        }
        at = h.next;
    }
    return out;
}

template <class C>
void print_leaf(const C& c, std::uint64_t io) {
    const auto leaf = c.domain(0).dom.table().leaf_at(pt::iova{io});
    if (!leaf) return;
    std::printf("  descriptor     IOVA 0x%-10llx level %u  0x%016llx  %s -> 0x%llx\n",
                static_cast<unsigned long long>(leaf->first.value), leaf->level,
                static_cast<unsigned long long>(leaf->pte), leaf->size_lg2 == 21 ? "2M" : leaf->size_lg2 == 30 ? "1G" : "4K",
                static_cast<unsigned long long>(leaf->pa.value));
}

template <class P>
int vmm(const char* title) {
    using iommu = typename P::iommu;
    std::printf("%s\n", title);
    std::vector<pt::pte_t> table_memory(4096 * 512);
    pt::pgtable::arena_allocator arena(table_memory, pt::phys_addr{0x1'0000'0000});
    t1::table_domains<iommu, pt::pgtable::arena_allocator> domains(arena);
    t1::memory_pinner process = vmm_process();
    using container = t1::container<P, decltype(domains), t1::memory_pinner>;

    std::printf("  CHECK_EXTENSION TYPE1v2 %d, UNMAP_ALL %d, DMA_CC_IOMMU %d (no IOMMU set yet)\n",
                t1::check_extension_unset<typename container::profile>(t1::abi::extension::type1v2),
                t1::check_extension_unset<typename container::profile>(t1::abi::extension::unmap_all),
                t1::check_extension_unset<typename container::profile>(t1::abi::extension::dma_cc_iommu));
    container c(t1::iommu_mode::v2, domains, process);
    const auto attached = c.attach(t1::group{.id = 12});
    std::printf("  attach group 12: %s\n", attached ? "ok" : pt::message(attached.error()).c_str());
    if (!attached) return 1;
    if (c.domain(0).msi_cookie)
        std::printf("  MSI cookie     doorbells mapped on demand from IOVA 0x%llx\n",
                    static_cast<unsigned long long>(*c.domain(0).msi_cookie));

    // Guest RAM: 3 GiB from guest physical 1 GiB, split around whatever reserved window
    // lies in the way (the usable ranges from GET_INFO).
    std::uint64_t left = 3 * GiB, gpa = GiB, va = guest_ram_va;
    for (const auto& r : usable_ranges(c)) {
        if (left == 0 || r.end < gpa) continue;
        const std::uint64_t from = r.start > gpa ? (r.start + 2 * MiB - 1) / (2 * MiB) * (2 * MiB) : gpa;
        const std::uint64_t room = (r.end - from + 1) / (2 * MiB) * (2 * MiB);
        const std::uint64_t n = room < left ? room : left;
        if (n == 0) continue;
        const auto m = c.map(pt::iova{from}, n, va, pt::prot_rw);
        std::printf("  MAP_DMA        IOVA 0x%llx size 0x%llx: %s\n", static_cast<unsigned long long>(from),
                    static_cast<unsigned long long>(n), m ? "ok" : pt::message(m.error()).c_str());
        if (!m) return 1;
        left -= n;
        va += n;
        gpa = from + n;
    }
    std::printf("  mappings %zu, locked %llu pages, dma_avail %u\n", c.mappings().size(),
                static_cast<unsigned long long>(c.locked_vm()), c.dma_avail());
    print_leaf(c, GiB);
    print_leaf(c, GiB + 2 * MiB);

    // Migration: start tracking and harvest the first mapping (GET_BITMAP takes whole
    // mappings, SEMANTICS D5).
    (void)c.dirty_start();
    const t1::dma& first = *c.mappings().begin();
    const std::uint64_t pages = first.size / 4096;
    std::vector<std::uint64_t> bits((pages + 63) / 64, 0);
    const auto got = c.dirty_get(first.iova, first.size, {4096, bits});
    std::uint64_t dirty = 0;
    for (std::uint64_t w : bits) dirty += static_cast<std::uint64_t>(__builtin_popcountll(w));
    std::printf("  GET_BITMAP     %s: %llu of %llu pages dirty (type1 sees no device writes: all, D7)\n",
                got ? "ok" : pt::message(got.error()).c_str(), static_cast<unsigned long long>(dirty),
                static_cast<unsigned long long>(pages));
    const auto gone = c.unmap_all();
    std::printf("  UNMAP_ALL      0x%llx bytes, %llu pages still pinned\n",
                static_cast<unsigned long long>(gone ? *gone : 0),
                static_cast<unsigned long long>(process.pinned_pages()));
    return 0;
}

} // namespace

int main() {
    int rc = vmm<pt::x86_vtd_ir<>>("x86: Intel VT-d (48-bit, snoop control) + interrupt remapping");
    rc |= vmm<pt::x86_vtd_ir<pt::platforms::pci_bus, pt::platforms::intel_vtd<39, false>>>(
        "x86: QEMU's default VT-d (39-bit, no snoop control) + interrupt remapping");
    rc |= vmm<pt::arm_smmuv3_its<>>("ARM: SMMUv3 + GICv3 ITS");
    std::printf("ARM: SMMUv3 + GICv2m\n");
    t1::memory_pinner p;
    t1::mock_domains mocks;
    t1::container<pt::arm_smmuv3_gicv2m<>, t1::mock_domains, t1::memory_pinner> unsafe(t1::iommu_mode::v2, mocks, p);
    const auto refused = unsafe.attach(t1::group{.id = 3});
    std::printf("  attach group 3: %s\n", refused ? "ok" : pt::message(refused.error()).c_str());
    return rc | (refused ? 1 : 0);
}
