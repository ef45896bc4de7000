#pragma once
// Concept `Bus`: the mechanics of a bus. A bus never decides MSI safety (that is the
// IOMMU + interrupt controller's job, DESIGN "The one idea"); it only decides how MSI is
// programmed, how a requester becomes a stream or device ID, and how devices group.
#include <concepts>
#include <cstdint>
#include <string_view>

namespace passthru {

enum class bus_kind : std::uint8_t { pci, platform, fsl_mc, other };

enum class msi_programming : std::uint8_t {
    mediated,         // the host emulates the MSI/MSI-X capability (PCI config space)
    device_registers, // MSI address/data live in the device's own registers (platform, fsl-mc)
    none,             // the bus has no MSI at all
};

enum class requester_id_source : std::uint8_t {
    pci_rid,            // bus/device/function, translated through iommu-map / IORT / DMAR scope
    firmware_stream_id, // a StreamID/DeviceID stated per device by DT or ACPI
    icid,               // fsl-mc isolation context ID, shared by a DPRC's objects
};

enum class grouping : std::uint8_t {
    acs_topology,  // PCI: devices that can reach each other without the IOMMU share a group
    per_device,    // each device is its own group
    container,     // fsl-mc: a DPRC container and all its objects form one group
};

// A `Bus` type declares (all static):
//   name             display name
//   kind             bus_kind (the 2014 RFC rule keyed on this; nothing else may)
//   msi              msi_programming
//   requester_id     requester_id_source
//   groups           grouping
template <class T>
concept Bus = requires {
    { T::name } -> std::convertible_to<std::string_view>;
    { T::kind } -> std::convertible_to<bus_kind>;
    { T::msi } -> std::convertible_to<msi_programming>;
    { T::requester_id } -> std::convertible_to<requester_id_source>;
    { T::groups } -> std::convertible_to<grouping>;
};

} // namespace passthru
