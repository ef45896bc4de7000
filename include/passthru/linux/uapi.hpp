#pragma once
// The one place passthru sees Linux's own <linux/vfio.h>: the engine's ABI (type1/abi.hpp,
// written without it) is checked here against the uapi the running system was built
// with, number by number and offset by offset, and the group ioctls, which the engine has
// no use for, are named.
#include <linux/vfio.h>

#include <cstddef>
#include <cstdint>

#include <passthru/type1/abi.hpp>

namespace passthru::linux_vfio {

namespace abi = type1::abi;

// The group fd's ioctls and GROUP_GET_STATUS's flags.
constexpr unsigned long group_get_status = VFIO_GROUP_GET_STATUS;
constexpr unsigned long group_set_container = VFIO_GROUP_SET_CONTAINER;
constexpr unsigned long group_unset_container = VFIO_GROUP_UNSET_CONTAINER;
namespace group_flag {
constexpr std::uint32_t viable = VFIO_GROUP_FLAGS_VIABLE;
constexpr std::uint32_t container_set = VFIO_GROUP_FLAGS_CONTAINER_SET;
} // namespace group_flag
using group_status = vfio_group_status;

// The container ioctls.
static_assert(abi::get_api_version == VFIO_GET_API_VERSION && abi::check_extension == VFIO_CHECK_EXTENSION);
static_assert(abi::set_iommu == VFIO_SET_IOMMU && abi::iommu_get_info == VFIO_IOMMU_GET_INFO);
static_assert(abi::iommu_map_dma == VFIO_IOMMU_MAP_DMA && abi::iommu_unmap_dma == VFIO_IOMMU_UNMAP_DMA);
static_assert(abi::iommu_dirty_pages == VFIO_IOMMU_DIRTY_PAGES && abi::api_version == VFIO_API_VERSION);
// Extension ids and flags.
static_assert(static_cast<unsigned>(abi::extension::type1) == VFIO_TYPE1_IOMMU);
static_assert(static_cast<unsigned>(abi::extension::type1v2) == VFIO_TYPE1v2_IOMMU);
static_assert(static_cast<unsigned>(abi::extension::dma_cc_iommu) == VFIO_DMA_CC_IOMMU);
static_assert(static_cast<unsigned>(abi::extension::type1_nesting) == VFIO_TYPE1_NESTING_IOMMU);
static_assert(static_cast<unsigned>(abi::extension::noiommu) == VFIO_NOIOMMU_IOMMU);
static_assert(static_cast<unsigned>(abi::extension::unmap_all) == VFIO_UNMAP_ALL);
static_assert(static_cast<unsigned>(abi::extension::update_vaddr) == VFIO_UPDATE_VADDR);
static_assert(abi::info_flag::pgsizes == VFIO_IOMMU_INFO_PGSIZES && abi::info_flag::caps == VFIO_IOMMU_INFO_CAPS);
static_assert(abi::cap_id::iova_range == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
static_assert(abi::cap_id::migration == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
static_assert(abi::cap_id::dma_avail == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
static_assert(abi::map_flag::read == VFIO_DMA_MAP_FLAG_READ && abi::map_flag::write == VFIO_DMA_MAP_FLAG_WRITE);
static_assert(abi::map_flag::vaddr == VFIO_DMA_MAP_FLAG_VADDR);
static_assert(abi::unmap_flag::get_dirty_bitmap == VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP);
static_assert(abi::unmap_flag::all == VFIO_DMA_UNMAP_FLAG_ALL && abi::unmap_flag::vaddr == VFIO_DMA_UNMAP_FLAG_VADDR);
static_assert(abi::dirty_flag::start == VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
static_assert(abi::dirty_flag::stop == VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
static_assert(abi::dirty_flag::get_bitmap == VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP);
// Layouts.
static_assert(sizeof(abi::iommu_info) == sizeof(vfio_iommu_type1_info));
static_assert(offsetof(abi::iommu_info, iova_pgsizes) == offsetof(vfio_iommu_type1_info, iova_pgsizes));
static_assert(offsetof(abi::iommu_info, cap_offset) == offsetof(vfio_iommu_type1_info, cap_offset));
static_assert(sizeof(abi::cap_header) == sizeof(vfio_info_cap_header));
static_assert(offsetof(abi::cap_header, next) == offsetof(vfio_info_cap_header, next));
static_assert(sizeof(abi::cap_iova_range) == sizeof(vfio_iommu_type1_info_cap_iova_range));
static_assert(sizeof(abi::iova_range) == sizeof(vfio_iova_range));
static_assert(sizeof(abi::cap_migration) == sizeof(vfio_iommu_type1_info_cap_migration));
static_assert(offsetof(abi::cap_migration, pgsize_bitmap) ==
              offsetof(vfio_iommu_type1_info_cap_migration, pgsize_bitmap));
static_assert(sizeof(abi::cap_dma_avail) == sizeof(vfio_iommu_type1_info_dma_avail));
static_assert(sizeof(abi::dma_map) == sizeof(vfio_iommu_type1_dma_map));
static_assert(offsetof(abi::dma_map, vaddr) == offsetof(vfio_iommu_type1_dma_map, vaddr));
static_assert(offsetof(abi::dma_map, iova) == offsetof(vfio_iommu_type1_dma_map, iova));
static_assert(sizeof(abi::dma_unmap) == offsetof(vfio_iommu_type1_dma_unmap, data));
static_assert(offsetof(abi::dma_unmap, iova) == offsetof(vfio_iommu_type1_dma_unmap, iova));
static_assert(sizeof(abi::bitmap) == sizeof(vfio_bitmap) && offsetof(abi::bitmap, data) == offsetof(vfio_bitmap, data));
static_assert(sizeof(abi::dirty_bitmap) == offsetof(vfio_iommu_type1_dirty_bitmap, data));
static_assert(sizeof(abi::dirty_bitmap_get) == sizeof(vfio_iommu_type1_dirty_bitmap_get));
static_assert(offsetof(abi::dirty_bitmap_get, bits) == offsetof(vfio_iommu_type1_dirty_bitmap_get, bitmap));

} // namespace passthru::linux_vfio
