#pragma once
// The buses of the catalog. They state mechanics only (DESIGN "The one idea").
#include <string_view>

#include <passthru/concepts/bus.hpp>

namespace passthru::platforms {

// PCI: the host emulates config space, so the VMM mediates MSI/MSI-X programming;
// requester IDs are BDFs; groups follow ACS isolation and DMA aliases.
struct pci_bus {
    static constexpr std::string_view name = "PCI";
    static constexpr bus_kind kind = bus_kind::pci;
    static constexpr msi_programming msi = msi_programming::mediated;
    static constexpr requester_id_source requester_id = requester_id_source::pci_rid;
    static constexpr grouping groups = grouping::acs_topology;
};

// Platform (DT/ACPI-described) devices: MSI address/data sit in the device's own
// registers; StreamIDs come from firmware; each device is its own group.
struct platform_bus {
    static constexpr std::string_view name = "platform";
    static constexpr bus_kind kind = bus_kind::platform;
    static constexpr msi_programming msi = msi_programming::device_registers;
    static constexpr requester_id_source requester_id = requester_id_source::firmware_stream_id;
    static constexpr grouping groups = grouping::per_device;
};

// Freescale fsl-mc (DPAA2): objects in a DPRC share one ICID, hence one group.
struct fsl_mc_bus {
    static constexpr std::string_view name = "fsl-mc";
    static constexpr bus_kind kind = bus_kind::fsl_mc;
    static constexpr msi_programming msi = msi_programming::device_registers;
    static constexpr requester_id_source requester_id = requester_id_source::icid;
    static constexpr grouping groups = grouping::container;
};

} // namespace passthru::platforms
