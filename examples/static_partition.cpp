// static_partition: how a static-partitioning hypervisor (Jailhouse, Bao, a separation
// kernel) can prove its whole device and DMA layout at compile time. The board, the VM
// and its passthrough devices are types and constants; every check below is a
// static_assert, so a board that cannot isolate a device's MSIs, or a DMA window that
// overlaps a reserved region, is a build failure, not a boot-time surprise. Running the
// program only prints what was proven.
#include <array>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

#include <passthru/core/interval_set.hpp>
#include <passthru/platforms/catalog.hpp>
#include <passthru/policy/attach.hpp>
#include <passthru/policy/requirements.hpp>

#include "report/format.hpp"

namespace pt = passthru;
namespace cat = passthru::platforms;

// ---- The board: an Arm server SoC with an SMMUv3 and a GICv3 ITS. -------------------
using board_iommu = cat::arm_smmuv3<>;
using board_irqchip = cat::gicv3_its;

// A device's platform is the board seen through the device's bus: the bus decides MSI
// mechanics (config-space emulation vs. the device's own registers), never the verdict.
template <class Device>
using platform_of = pt::platform<board_iommu, board_irqchip, typename Device::bus>;

// ---- The VM's passthrough devices. -------------------------------------------------
struct nic {
    static constexpr std::string_view name = "eth0 (PCI 0000:01:00.0)";
    using bus = cat::pci_bus;
    static constexpr std::uint32_t stream_id = 0x0100; // the RID through the IORT ID mapping
};
struct nvme {
    static constexpr std::string_view name = "nvme0 (PCI 0000:02:00.0)";
    using bus = cat::pci_bus;
    static constexpr std::uint32_t stream_id = 0x0200;
};
struct dma_engine {
    static constexpr std::string_view name = "dma0 (platform, PL330)";
    using bus = cat::platform_bus;
    static constexpr std::uint32_t stream_id = 0x0020; // from the device tree's iommus property
};

// Each device must be assignable without any run-time fact: MSIs isolated (SEMANTICS
// A13, H.1) and the IOMMU cache coherent (A.3). On failure the message names the
// missing property and the option that would override it.
static_assert(pt::require_assignable<platform_of<nic>>());
static_assert(pt::require_assignable<platform_of<nvme>>());
static_assert(pt::require_assignable<platform_of<dma_engine>>());

// The same board with a GICv2m instead of an ITS does not build (make it `#if 1` to see):
#if 0
using gicv2m_board = pt::platform<board_iommu, cat::gicv2m, cat::pci_bus>;
static_assert(pt::require_assignable<gicv2m_board>());
// g++-12: error: static assertion failed: passthru: MSI isolation missing: the interrupt
//         controller neither remaps MSIs nor tags them with a hardware DeviceID; add the
//         option passthru::allow_unsafe_interrupts to attach anyway
#endif

// ---- The VM's DMA windows. ---------------------------------------------------------
// The devices DMA to guest-physical addresses, and the hypervisor maps IOVA = IPA, so
// every guest RAM bank a device may reach must be usable IOVA: inside the aperture and
// clear of every reserved region (SEMANTICS §A.1, B11).
struct dma_window {
    std::string_view name;
    pt::interval range;
};
inline constexpr std::array vm_dma_windows{
    dma_window{"ram0", {0x4000'0000, 0xBFFF'FFFF}},      // 2 GiB at 1 GiB
    dma_window{"ram1", {0x1'0000'0000, 0x2'FFFF'FFFF}},  // 8 GiB at 4 GiB
    dma_window{"shm (inter-VM)", {0x0900'0000, 0x09FF'FFFF}}, // 16 MiB
};

template <class P>
constexpr bool windows_usable() {
    const pt::interval_list usable = P::usable_iova_ranges();
    const std::uint64_t page = P::iommu::pgsizes.min_pgsize();
    for (const dma_window& w : vm_dma_windows) {
        if (!pt::contained_in_one(usable, w.range)) return false;
        if (w.range.first % page != 0 || w.range.size() % page != 0) return false; // G1.2
    }
    return true;
}
static_assert(windows_usable<platform_of<nic>>());
static_assert(windows_usable<platform_of<nvme>>());
static_assert(windows_usable<platform_of<dma_engine>>());

// What the check catches: guest RAM at 128 MiB would cover the SW_MSI window
// [0x8000000, 0x80FFFFF] where the host maps the ITS doorbell (SEMANTICS A12, G.4).
static_assert(!pt::contained_in_one(platform_of<nic>::usable_iova_ranges(),
                                    {0x0800'0000, 0x0FFF'FFFF}));

// MSIs: the host maps each doorbell page at the SW_MSI cookie, so that IOVA must stay
// free of guest RAM (it is, by the checks above).
static_assert(platform_of<nic>::msi.strategy == pt::msi_strategy::sw_msi_cookie);

// ---- Run time: print what was proven, and cross-check with plan_attach. -------------
template <class Device>
bool print_device() {
    using P = platform_of<Device>;
    // The run-time half (policy/attach.hpp) must agree with the compile-time one.
    const auto plan = pt::plan_attach<P>();
    const bool agrees = plan && !plan->unsafe_interrupts && plan->msi == P::msi &&
                        plan->usable == P::usable_iova_ranges();
    std::string name(Device::name), bus(Device::bus::name), sid = report::hex(Device::stream_id);
    name.resize(26, ' ');
    bus.resize(10, ' ');
    sid.resize(7, ' ');
    std::cout << "  " << name << bus << "StreamID " << sid
              << pt::to_string(P::decision) << ", " << report::msi_setup(P::msi)
              << (agrees ? "" : "  [plan_attach DISAGREES]") << "\n";
    return agrees;
}

int main() {
    using P = platform_of<nic>;
    std::cout << "board: " << board_iommu::name << " + " << board_irqchip::name << " ("
              << P::rule::facts.name << " rules)\n"
              << "VM guest0: 3 passthrough devices, all assignable (checked at compile time)\n";
    bool ok = print_device<nic>();
    ok = print_device<nvme>() && ok;
    ok = print_device<dma_engine>() && ok;

    std::cout << "DMA windows (IOVA = guest physical), each inside one usable IOVA range:\n";
    for (const dma_window& w : vm_dma_windows) {
        std::string name(w.name);
        name.resize(16, ' ');
        std::cout << "  " << name << report::range(w.range) << "\n";
    }
    std::cout << "usable IOVA: " << report::ranges(P::usable_iova_ranges()) << "\n";
    std::cout << (ok ? "OK" : "FAILED") << ": layout proven at compile time, plan_attach agrees\n";
    return ok ? 0 : 1;
}
