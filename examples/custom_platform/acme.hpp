#pragma once
// A fictional vendor's IOMMU and MSI controller, added without touching passthru.
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/policy/platform.hpp>

namespace acme {
namespace pt = passthru;

// 40-bit IOVA, 4K and 2M pages, a software-managed MSI window like the Arm SMMUs'
// (SEMANTICS §I, H.5), and a mailbox range the hardware never translates.
struct iommu {
    static constexpr std::string_view name = "ACME IO-MMU";
    static constexpr pt::isa arch = pt::isa::arm;
    static constexpr pt::pgsize_bitmap pgsizes{4 * pt::KiB | 2 * pt::MiB};
    static constexpr pt::interval aperture{0, (std::uint64_t{1} << 40) - 1};
    static constexpr std::array reserved_regions{
        pt::reserved_region{{0x1000'0000, 0x100F'FFFF}, pt::resv_type::sw_msi,
                            pt::prot::write | pt::prot::noexec | pt::prot::mmio},
        pt::reserved_region{{0xF000'0000, 0xF00F'FFFF}, pt::resv_type::reserved}};
    static constexpr pt::iommu_caps caps{.cache_coherency = true,
                                         .enforce_cache_coherency = false,
                                         .noexec = true,
                                         .dirty_tracking = false,
                                         .intr_remap = pt::intr_remap_cap::never,
                                         .msi_table = false};
};

// Tags every MSI with the requester's hardware ID, as a GICv3 ITS does, and its irq
// domains carry the isolation flag (SEMANTICS H.1, H.2).
struct msi_controller {
    static constexpr std::string_view name = "ACME doorbell";
    static constexpr pt::isa arch = pt::isa::arm;
    static constexpr pt::irq_caps caps{
        .isolation = pt::msi_isolation::device_id_translated,
        .msi_through_iommu = true, // doorbell writes are translated
        .msi_remap_flag_pre_6_3 = true,
    };
};

static_assert(pt::Iommu<iommu> && pt::InterruptController<msi_controller>);

template <pt::Bus Bus, class... Options>
using board = pt::platform<iommu, msi_controller, Bus, Options...>;

} // namespace acme
