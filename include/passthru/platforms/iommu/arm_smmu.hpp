#pragma once
// ARM SMMUv3 and SMMUv2 / MMU-500 (SEMANTICS §I, §1.3, A.3).
#include <array>
#include <cstdint>
#include <string_view>

#include <passthru/concepts/iommu.hpp>
#include <passthru/pgtable/arm_lpae.hpp>

namespace passthru::platforms {

// SEMANTICS §1.3: MSI_IOVA_BASE / MSI_IOVA_LENGTH, the SW_MSI window both SMMU drivers
// report (prot W|NOEXEC|MMIO, SEMANTICS §I).
inline constexpr reserved_region arm_smmu_sw_msi{
    {0x0800'0000, 0x0800'0000 + 0x10'0000 - 1}, resv_type::sw_msi,
    prot::write | prot::noexec | prot::mmio};

// Leaf sizes an LPAE granule gives a domain (SEMANTICS §I, PGTABLE §1.2).
constexpr pgsize_bitmap lpae_pgsizes(std::uint64_t granule) noexcept {
    return granule == 64 * KiB   ? pgsize_bitmap{64 * KiB | 512 * MiB}
           : granule == 16 * KiB ? pgsize_bitmap{16 * KiB | 32 * MiB}
                                 : pgsize_bitmap{4 * KiB | 2 * MiB | 1 * GiB};
}

// The stage-1 LPAE tables an SMMU domain of this granule uses; a walker that is not
// cache coherent (no COHACC) makes the driver clean PTE writes (PGTABLE §1.4, §1.7).
// `Dirty` sets the HD quirk (DBM on writable leaves), for domains that track DMA writes.
template <std::uint64_t Granule, unsigned Ias, unsigned Oas, bool Coherent, bool Dirty = false>
using smmu_stage1_tables = pgtable::arm_lpae<pgtable::arm_lpae_config{
    .stage = pgtable::arm_stage::s1, .granule = static_cast<std::uint32_t>(Granule),
    .ias = Ias, .oas = Oas, .coherent_walk = Coherent, .quirks = {.hd = Dirty}}>;

// SMMUv3, stage-1 domain. Granule is the CPU page size in practice; ias 48 bits (52 with
// VAX is capped by VA_BITS). `Coherent` is the IDR0.COHACC feature; `Canwbs` is the
// per-master ACPI flag that makes enforce_cache_coherency true since v6.13 (A.3). `Oas`
// is IDR5.OAS, the width of physical addresses the tables can hold.
template <std::uint64_t Granule = 4 * KiB, unsigned Ias = 48, bool Coherent = true,
          bool Canwbs = false, unsigned Oas = 48>
struct arm_smmuv3 {
    static constexpr std::string_view name = "ARM SMMUv3";
    static constexpr isa arch = isa::arm;
    static constexpr pgsize_bitmap pgsizes = lpae_pgsizes(Granule); // SEMANTICS §I
    static constexpr interval aperture{0, (std::uint64_t{1} << Ias) - 1}; // SEMANTICS §I
    static constexpr std::array reserved_regions{arm_smmu_sw_msi};        // SEMANTICS §I
    static constexpr iommu_caps caps{
        .cache_coherency = Coherent,        // §I: iff COHERENCY feature
        .enforce_cache_coherency = Canwbs,  // A.3: v6.13+, every master CANWBS
        .noexec = true,                     // §I
        .dirty_tracking = true,             // HTTU DBM (PGTABLE §1.5, §8)
        .intr_remap = intr_remap_cap::never, // H.3: SMMUs never reported INTR_REMAP
        .msi_table = false,
    };
    static constexpr std::uint64_t granule = Granule;
    static constexpr unsigned ias = Ias;
    using table_format = smmu_stage1_tables<Granule, Ias, Oas, Coherent>;
    // HTTU: the SMMU records writes through DBM (PGTABLE §8).
    using dirty_table_format = smmu_stage1_tables<Granule, Ias, Oas, Coherent, true>;
};

// SMMUv2 / MMU-500 with the AArch64 LPAE context format.
template <std::uint64_t Granule = 4 * KiB, unsigned Ias = 48, bool Coherent = true,
          unsigned Oas = 48>
struct arm_smmuv2 {
    static constexpr std::string_view name = "ARM SMMUv2/MMU-500";
    static constexpr isa arch = isa::arm;
    static constexpr pgsize_bitmap pgsizes = lpae_pgsizes(Granule); // SEMANTICS §I
    static constexpr interval aperture{0, (std::uint64_t{1} << Ias) - 1};
    static constexpr std::array reserved_regions{arm_smmu_sw_msi}; // SEMANTICS §I: same SW_MSI
    static constexpr iommu_caps caps{
        .cache_coherency = Coherent, // §I: coherent walk or coherent device
        .enforce_cache_coherency = false,
        .noexec = true,
        .dirty_tracking = false,
        .intr_remap = intr_remap_cap::never, // H.3
        .msi_table = false,
    };
    static constexpr std::uint64_t granule = Granule;
    static constexpr unsigned ias = Ias;
    using table_format = smmu_stage1_tables<Granule, Ias, Oas, Coherent>;
};

// Firmware reserved regions on ACPI systems (SEMANTICS G.5, iort_iommu_get_resv_regions),
// for attach_facts::firmware_regions.

// An IORT RMR descriptor: memory the firmware keeps a device using, identity-mapped R/W.
// `remap_permitted` (the RMR flag) makes it relaxable; `attrs` adds what the RMR's access
// attributes imply: MMIO for device memory, CACHE for normal write-back, PRIV.
constexpr reserved_region iort_rmr(interval range, bool remap_permitted,
                                   prot attrs = prot::none) noexcept {
    return {range, remap_permitted ? resv_type::direct_relaxable : resv_type::direct,
            prot::read | prot::write | attrs};
}

// An ITS doorbell page that bypasses the SMMU on this platform: a hardware MSI window,
// which then wins over the SW_MSI window (SEMANTICS A12, H.5).
constexpr reserved_region iort_its_hw_msi(interval range) noexcept {
    return {range, resv_type::msi, prot::write | prot::noexec | prot::mmio};
}

} // namespace passthru::platforms
