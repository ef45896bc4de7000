// type1/abi.hpp: the uapi numbers and the byte layout of each structure, as a VMM's bytes
// are read (SEMANTICS 1.1). The layouts are static_asserted in the header; here the
// structures round-trip through bytes in constant evaluation, field by field.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include <catch2/catch.hpp>

#include <passthru/type1/abi.hpp>

using namespace passthru::type1;

namespace {

template <std::size_t N>
constexpr std::uint64_t read_le(const std::array<std::byte, N>& b, std::size_t at, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v |= std::uint64_t(std::to_integer<unsigned>(b[at + i])) << (8 * i);
    return v;
}

static_assert(abi::get_api_version == 0x3B64 && abi::check_extension == 0x3B65 && abi::set_iommu == 0x3B66);
static_assert(abi::iommu_get_info == 0x3B70 && abi::iommu_unmap_dma == 0x3B72);
static_assert(static_cast<unsigned>(abi::extension::type1v2) == 3 &&
              static_cast<unsigned>(abi::extension::update_vaddr) == 10);
static_assert(abi::dirty_bitmap_bytes(1) == 8 && abi::dirty_bitmap_bytes(64) == 8 && abi::dirty_bitmap_bytes(65) == 16);

// MAP_DMA: argsz, flags, vaddr, iova, size at 0, 4, 8, 16, 24 (little-endian).
constexpr auto map_bytes = std::bit_cast<std::array<std::byte, 32>>(
    abi::dma_map{32, abi::map_flag::read | abi::map_flag::write, 0x7f00'0000'0000, 0x10'0000, 0x20'0000});
static_assert(read_le(map_bytes, 0, 4) == 32 && read_le(map_bytes, 4, 4) == 3);
static_assert(read_le(map_bytes, 8, 8) == 0x7f00'0000'0000 && read_le(map_bytes, 16, 8) == 0x10'0000 &&
              read_le(map_bytes, 24, 8) == 0x20'0000);

// UNMAP_DMA with its bitmap: the bitmap's pgsize, size, data at 24, 32, 40.
constexpr auto unmap_bytes = std::bit_cast<std::array<std::byte, 48>>(
    abi::dma_unmap_bitmap{{48, abi::unmap_flag::get_dirty_bitmap, 0x1000, 0x4000}, {4096, 8, 0xdead'b000}});
static_assert(read_le(unmap_bytes, 16, 8) == 0x4000 && read_le(unmap_bytes, 24, 8) == 4096 &&
              read_le(unmap_bytes, 32, 8) == 8 && read_le(unmap_bytes, 40, 8) == 0xdead'b000);

// MIGRATION: flags at 8, the alignment gap at 12, pgsize_bitmap at 16, max size at 24.
constexpr auto mig_bytes = std::bit_cast<std::array<std::byte, 32>>(
    abi::cap_migration{{abi::cap_id::migration, 1, 56}, 0, 0, 4096, abi::dirty_bitmap_size_max});
static_assert(read_le(mig_bytes, 0, 2) == 2 && read_le(mig_bytes, 2, 2) == 1 && read_le(mig_bytes, 4, 4) == 56);
static_assert(read_le(mig_bytes, 16, 8) == 4096 && read_le(mig_bytes, 24, 8) == 268435456);

// GET_INFO: cap_offset right after the 16 bytes the kernel always reads.
constexpr auto info_bytes = std::bit_cast<std::array<std::byte, 24>>(
    abi::iommu_info{88, abi::info_flag::pgsizes | abi::info_flag::caps, 0x40201000, 24, 0});
static_assert(read_le(info_bytes, 8, 8) == 0x40201000 && read_le(info_bytes, abi::info_minsz, 4) == 24);

} // namespace

TEST_CASE("SEMANTICS 1.1: the type1 uapi structures have the kernel's sizes and offsets", "[type1][abi]") {
    // Also at run time, so a failure names the structure in the test log.
    CHECK(sizeof(abi::iommu_info) == 24);
    CHECK(sizeof(abi::cap_iova_range) + 2 * sizeof(abi::iova_range) == 48);
    CHECK(sizeof(abi::cap_dma_avail) == 12);
    CHECK(sizeof(abi::dirty_pages_get) == 48);
    CHECK(read_le(info_bytes, 0, 4) == 88);
    CHECK(read_le(unmap_bytes, 4, 4) == abi::unmap_flag::get_dirty_bitmap);
}
