// SEMANTICS §1.3: IOMMU-core constants the core vocabulary encodes.
#include <catch2/catch.hpp>

#include <cstdint>
#include <type_traits>

#include <passthru/core/interval.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/core/reserved_region.hpp>

#include "../../unit/core/printers.hpp"

using passthru::resv_type;

namespace {
constexpr unsigned raw(resv_type t) { return static_cast<unsigned>(t); }
} // namespace

static_assert(raw(resv_type::direct) == 0 && raw(resv_type::sw_msi) == 4);
static_assert(static_cast<unsigned>(passthru::prot::priv) == 1u << 5);

TEST_CASE("SEMANTICS §1.3: reserved-region types are DIRECT 0, DIRECT_RELAXABLE 1, RESERVED 2, MSI 3, SW_MSI 4") {
    CHECK(raw(resv_type::direct) == 0);
    CHECK(raw(resv_type::direct_relaxable) == 1);
    CHECK(raw(resv_type::reserved) == 2);
    CHECK(raw(resv_type::msi) == 3);
    CHECK(raw(resv_type::sw_msi) == 4);
    // The order is the sort key of SEMANTICS G.2.
    CHECK(resv_type::direct < resv_type::direct_relaxable);
    CHECK(resv_type::direct_relaxable < resv_type::reserved);
    CHECK(resv_type::reserved < resv_type::msi);
    CHECK(resv_type::msi < resv_type::sw_msi);
}

TEST_CASE("SEMANTICS §1.3: IOMMU_READ..IOMMU_PRIV are bit0..bit5") {
    using passthru::prot;
    CHECK(static_cast<unsigned>(prot::read) == 1u << 0);
    CHECK(static_cast<unsigned>(prot::write) == 1u << 1);
    CHECK(static_cast<unsigned>(prot::cache) == 1u << 2);
    CHECK(static_cast<unsigned>(prot::noexec) == 1u << 3);
    CHECK(static_cast<unsigned>(prot::mmio) == 1u << 4);
    CHECK(static_cast<unsigned>(prot::priv) == 1u << 5);
    CHECK(static_cast<unsigned>(prot::none) == 0);
}

TEST_CASE("SEMANTICS §1.3: MSI_IOVA_BASE 0x8000000 and MSI_IOVA_LENGTH 0x100000 reserve 0x8000000 to 0x80FFFFF") {
    CHECK(passthru::interval::from_size(0x800'0000, 0x10'0000) ==
          passthru::interval{0x800'0000, 0x80F'FFFF});
    // Intel IOAPIC_RANGE / AMD MSI_RANGE: 0xFEE00000..0xFEEFFFFF is one MiB.
    CHECK(passthru::interval{0xFEE0'0000, 0xFEEF'FFFF}.size() == 0x10'0000);
}
