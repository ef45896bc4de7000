// A whole container sequence in constant evaluation (issue #7): attach two groups, map,
// unmap, read the usable ranges and the GET_INFO bytes, and refuse an unsafe attach, all
// inside static_asserts, so a static-partitioning hypervisor can prove its DMA layout at
// build time.
#include <array>
#include <cstddef>

#include <catch2/catch.hpp>

#include <passthru/platforms/catalog.hpp>
#include <passthru/type1/container.hpp>
#include <passthru/type1/info.hpp>
#include <passthru/type1/mock_domain.hpp>

using namespace passthru;
using namespace passthru::type1;

namespace {
constexpr std::uint64_t ram = 0x4000'0000, base = mock_domain::mock_aperture.first;

template <class P>
using mock_container = container<P, mock_domains, memory_pinner>;

struct outcome {
    bool attached = false, mapped = false;
    std::uint64_t unmapped = 0, pinned_after = 0, locked_after = 0;
    std::size_t domains = 0, ranges = 0;
    std::uint32_t argsz = 0, dma_avail = 0;
    int unsafe_errno = 0;
};

constexpr outcome run() {
    outcome o;
    mock_domains f;
    memory_pinner pin;
    if (!pin.add({ram, 256, memory_pinner::backing::contiguous, phys_addr{0x8000'0000}})) return o;
    mock_container<arm_smmuv3_its<>> c(iommu_mode::v2, f, pin);
    o.attached = c.attach(group{.id = 1}).has_value() &&
                 c.attach(group{.id = 2, .iommu_unit = 1,
                                .firmware_regions = {{{0x200'0000, 0x2FF'FFFF}, resv_type::direct}}})
                     .has_value();
    o.domains = c.domain_count();
    o.ranges = c.iova_list().size();
    o.mapped = c.map(iova{base}, 0x10000, ram, prot_rw).has_value() &&
               c.map(iova{0x300'0000}, 0x4000, ram + 0x10000, prot::read).has_value();
    const auto bytes = info_caps<profiles::upstream>(c.info());
    o.argsz = static_cast<std::uint32_t>(24 + bytes.size());
    o.dma_avail = c.info().dma_avail;
    if (auto u = c.unmap(iova{0}, 0x400'0000)) o.unmapped = *u;
    o.pinned_after = pin.pinned_pages();
    o.locked_after = c.locked_vm();

    mock_container<arm_smmuv3_gicv2m<>> unsafe(iommu_mode::v2, f, pin);
    o.unsafe_errno = static_cast<int>(unsafe.attach(group{.id = 3}).error().code);
    return o;
}

constexpr outcome o = run();
static_assert(o.attached && o.mapped);
static_assert(o.domains == 2);            // two IOMMU units: two domains (A15)
static_assert(o.ranges == 2);             // the second group's RMRR cuts the mock aperture
static_assert(o.argsz == 24 + 32 + 16 + 16 + 2 * 16); // E1: two IOVA ranges, v6.6+ padding
static_assert(o.dma_avail == 65533);
static_assert(o.unmapped == 0x14000 && o.pinned_after == 0 && o.locked_after == 0);
static_assert(o.unsafe_errno == static_cast<int>(errc::eperm)); // GICv2m: A13 refuses
} // namespace

TEST_CASE("type1::container runs in constant evaluation (static_asserts above), and the same at run time") {
    const outcome r = run();
    CHECK(r.attached);
    CHECK(r.unmapped == o.unmapped);
    CHECK(r.argsz == o.argsz);
    CHECK(r.unsafe_errno == o.unsafe_errno);
}
