#pragma once
// The VFIO type1 user-space ABI in passthru's own words (SEMANTICS 1.1): ioctl numbers,
// extension ids, flag bits and the structures an ioctl reads and writes, with their byte
// layout checked against the 64-bit uapi. No logic lives here, and no Linux header is
// included: a VMM hands the ABI face of the engine the same bytes it would hand the
// kernel. Every padding byte is a named member, so the structures std::bit_cast to and
// from bytes in constant evaluation.
#include <cstddef>
#include <cstdint>

namespace passthru::type1::abi {

// _IO(';', 100 + n): VFIO ioctls carry no size or direction bits.
constexpr std::uint32_t ioctl_number(std::uint32_t n) noexcept { return (std::uint32_t{';'} << 8) | (100 + n); }
constexpr std::uint32_t get_api_version = ioctl_number(0);
constexpr std::uint32_t check_extension = ioctl_number(1);
constexpr std::uint32_t set_iommu = ioctl_number(2);
constexpr std::uint32_t iommu_get_info = ioctl_number(12);
constexpr std::uint32_t iommu_map_dma = ioctl_number(13);
constexpr std::uint32_t iommu_unmap_dma = ioctl_number(14);
constexpr std::uint32_t iommu_dirty_pages = ioctl_number(17);

constexpr int api_version = 0;

// CHECK_EXTENSION / SET_IOMMU arguments.
enum class extension : std::uint32_t {
    type1 = 1,
    spapr_tce = 2,
    type1v2 = 3,
    dma_cc_iommu = 4,
    eeh = 5,
    type1_nesting = 6, // refused since v6.13; the value stays reserved
    spapr_tce_v2 = 7,
    noiommu = 8,
    unmap_all = 9,
    update_vaddr = 10,
};

namespace info_flag {
constexpr std::uint32_t pgsizes = 1u << 0;
constexpr std::uint32_t caps = 1u << 1;
} // namespace info_flag

namespace cap_id {
constexpr std::uint16_t iova_range = 1;
constexpr std::uint16_t migration = 2;
constexpr std::uint16_t dma_avail = 3;
} // namespace cap_id

namespace map_flag {
constexpr std::uint32_t read = 1u << 0;
constexpr std::uint32_t write = 1u << 1;
constexpr std::uint32_t vaddr = 1u << 2;
} // namespace map_flag

namespace unmap_flag {
constexpr std::uint32_t get_dirty_bitmap = 1u << 0;
constexpr std::uint32_t all = 1u << 1;
constexpr std::uint32_t vaddr = 1u << 2;
} // namespace unmap_flag

namespace dirty_flag {
constexpr std::uint32_t start = 1u << 0;
constexpr std::uint32_t stop = 1u << 1;
constexpr std::uint32_t get_bitmap = 1u << 2;
} // namespace dirty_flag

// VFIO_IOMMU_GET_INFO. The kernel reads and writes back the first `info_minsz` bytes
// only when argsz is smaller than the whole structure.
struct iommu_info {
    std::uint32_t argsz;
    std::uint32_t flags;
    std::uint64_t iova_pgsizes;
    std::uint32_t cap_offset;
    std::uint32_t pad;
};
constexpr std::uint32_t info_minsz = 16; // through iova_pgsizes

struct cap_header {
    std::uint16_t id;
    std::uint16_t version;
    std::uint32_t next; // offset of the next capability from the start of iommu_info; 0 ends
};

struct iova_range {
    std::uint64_t start;
    std::uint64_t end; // inclusive
};

// Followed by nr_iovas iova_range entries.
struct cap_iova_range {
    cap_header header;
    std::uint32_t nr_iovas;
    std::uint32_t reserved;
};

struct cap_migration {
    cap_header header;
    std::uint32_t flags;
    std::uint32_t pad; // the uapi's implicit alignment padding
    std::uint64_t pgsize_bitmap;
    std::uint64_t max_dirty_bitmap_size;
};

// 12 bytes; the capability chain rounds it to 16 since v6.6 (SEMANTICS E1).
struct cap_dma_avail {
    cap_header header;
    std::uint32_t avail;
};

// VFIO_IOMMU_MAP_DMA.
struct dma_map {
    std::uint32_t argsz;
    std::uint32_t flags;
    std::uint64_t vaddr;
    std::uint64_t iova;
    std::uint64_t size;
};
constexpr std::uint32_t dma_map_minsz = 32;

// A user bitmap: one bit per `pgsize` bytes, `size` bytes long, at user address `data`.
struct bitmap {
    std::uint64_t pgsize;
    std::uint64_t size;
    std::uint64_t data;
};

// VFIO_IOMMU_UNMAP_DMA; with unmap_flag::get_dirty_bitmap a `bitmap` follows.
struct dma_unmap {
    std::uint32_t argsz;
    std::uint32_t flags;
    std::uint64_t iova;
    std::uint64_t size;
};
constexpr std::uint32_t dma_unmap_minsz = 24;

struct dma_unmap_bitmap {
    dma_unmap head;
    bitmap bits;
};

// VFIO_IOMMU_DIRTY_PAGES; with dirty_flag::get_bitmap a `dirty_bitmap_get` follows.
struct dirty_bitmap {
    std::uint32_t argsz;
    std::uint32_t flags;
};
constexpr std::uint32_t dirty_bitmap_minsz = 8;

struct dirty_bitmap_get {
    std::uint64_t iova;
    std::uint64_t size;
    bitmap bits;
};

struct dirty_pages_get {
    dirty_bitmap head;
    dirty_bitmap_get range;
};

// Bytes of a bitmap of n pages: whole 64-bit words (SEMANTICS 1.2).
constexpr std::uint64_t dirty_bitmap_bytes(std::uint64_t pages) noexcept { return (pages + 63) / 64 * 8; }
constexpr std::uint64_t dirty_bitmap_pages_max = 2147483647; // INT_MAX
constexpr std::uint64_t dirty_bitmap_size_max = dirty_bitmap_bytes(dirty_bitmap_pages_max);

static_assert(ioctl_number(12) == 0x3B70 && iommu_map_dma == 0x3B71 && iommu_dirty_pages == 0x3B75);
static_assert(sizeof(iommu_info) == 24 && offsetof(iommu_info, cap_offset) == info_minsz);
static_assert(sizeof(cap_header) == 8 && offsetof(cap_header, next) == 4);
static_assert(sizeof(iova_range) == 16 && sizeof(cap_iova_range) == 16);
static_assert(sizeof(cap_migration) == 32 && offsetof(cap_migration, pgsize_bitmap) == 16);
static_assert(sizeof(cap_dma_avail) == 12);
static_assert(sizeof(dma_map) == dma_map_minsz && offsetof(dma_map, size) == 24);
static_assert(sizeof(bitmap) == 24 && sizeof(dma_unmap) == dma_unmap_minsz);
static_assert(sizeof(dma_unmap_bitmap) == 48 && offsetof(dma_unmap_bitmap, bits) == 24);
static_assert(sizeof(dirty_bitmap) == dirty_bitmap_minsz && sizeof(dirty_bitmap_get) == 40);
static_assert(sizeof(dirty_pages_get) == 48 && offsetof(dirty_pages_get, range) == 8);
static_assert(dirty_bitmap_size_max == 268435456);

} // namespace passthru::type1::abi
