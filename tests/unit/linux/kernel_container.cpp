// The Linux backend (issue #8) over the Syscalls seam: against the type1 engine standing in
// for the kernel (fake_vfio.hpp), every call's bytes and answers, errno included; the file
// descriptors it owns; and real system calls where the answer is fixed (/dev/null has no
// VFIO ioctls).
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/linux/kernel_container.hpp>

#include "fake_vfio.hpp"

using namespace passthru;
using namespace passthru::testing;
using passthru::linux_vfio::group_state;
using passthru::linux_vfio::kernel_container;
using passthru::linux_vfio::kernel_group;
using type1::iommu_mode;
namespace abi = passthru::type1::abi;

namespace {
using fake = fake_vfio<>;
constexpr std::uint64_t K4 = 0x1000;
} // namespace

TEST_CASE("linux backend: a container and a group through the seam answer as the engine does") {
    fake k;
    {
        auto c = kernel_container<fake>::open(k);
        REQUIRE(c);
        CHECK(*c->api_version() == abi::api_version);
        CHECK(*c->check_extension(abi::extension::type1v2) == 1);
        CHECK(*c->check_extension(abi::extension::update_vaddr) == 0); // SEMANTICS E2 before SET_IOMMU
        CHECK(err(c->set_iommu(iommu_mode::v2)) == einval);           // no group yet
        auto g = kernel_group<fake>::open(k, 7);
        REQUIRE(g);
        CHECK(*g->status() == group_state{true, false});
        REQUIRE(g->set_container(*c));
        CHECK(*g->status() == group_state{true, true});
        REQUIRE(c->set_iommu(iommu_mode::v2));
        auto& engine = k.engine(c->fd())->c;

        // GET_INFO read back through the capability chain: the engine's values.
        auto info = c->info();
        REQUIRE(info);
        CHECK(*info == engine.info());
        CHECK(info->iova_ranges.size() == 2); // VT-d: below and above the MSI window

        REQUIRE(c->map(iova{0x100000}, 4 * K4, va::ram, prot_rw));
        const auto refused = c->map(iova{0x101000}, K4, va::ram, prot_rw);
        CHECK(err(refused) == eexist);
        CHECK(refused.error().reason == "VFIO_IOMMU_MAP_DMA");
        CHECK(c->info()->dma_avail == 65534);
        CHECK(engine.mappings().size() == 1);

        // Dirty tracking: the kernel writes the bitmap at the address the backend passes.
        REQUIRE(c->dirty_start());
        std::vector<std::uint64_t> words(2, 0);
        REQUIRE(c->dirty_get(iova{0x100000}, 4 * K4, {K4, words}));
        CHECK(words[0] == 0xf);
        words[0] = 0;
        CHECK(*c->unmap_with_bitmap(iova{0x100000}, 4 * K4, {K4, words}) == 4 * K4); // C11 read back
        CHECK(words[0] == 0xf);
        REQUIRE(c->dirty_stop());

        // VADDR invalidation and update, and UNMAP_ALL's count.
        REQUIRE(c->map(iova{0x200000}, 2 * K4, va::ram, prot_rw));
        CHECK(*c->invalidate_vaddr(iova{0x200000}, 2 * K4) == 2 * K4);
        CHECK(err(c->update_vaddr(iova{0x200000}, K4, va::ram)) == einval); // B9: not exactly one
        REQUIRE(c->update_vaddr(iova{0x200000}, 2 * K4, va::ram));
        CHECK(*c->unmap_all() == 2 * K4);
        CHECK(engine.mappings().empty());

        REQUIRE(g->unset_container());
        CHECK(*g->status() == group_state{true, false});
        CHECK(k.open_fds() == 2);
    }
    CHECK(k.open_fds() == 0); // both fds closed with their owners
    CHECK(k.closes == 2);
}

TEST_CASE("linux backend: groups that are missing, busy or not viable, and fds that move") {
    fake k;
    k.groups[8] = false;
    CHECK(err(kernel_group<fake>::open(k, 9)) == enoent);
    auto g = kernel_group<fake>::open(k, 7);
    REQUIRE(g);
    CHECK(err(kernel_group<fake>::open(k, 7)) == ebusy);
    auto c = kernel_container<fake>::open(k);
    REQUIRE(c);
    auto bad = kernel_group<fake>::open(k, 8);
    REQUIRE(bad);
    CHECK(*bad->status() == group_state{false, false});
    CHECK(err(bad->set_container(*c)) == eperm);
    CHECK(err(g->unset_container()) == einval); // not in a container
    // A moved-from owner closes nothing; the new owner closes once.
    auto moved = std::move(*c);
    CHECK(k.open_fds() == 3);
    { auto gone = std::move(moved); }
    CHECK(k.open_fds() == 2);
    CHECK(k.closes == 1);
}

TEST_CASE("linux backend: real system calls, where the kernel's answer is fixed") {
    linux_vfio::real_syscalls sys;
    CHECK(err(kernel_container<>::open(sys, "/nonexistent/vfio")) == enoent);
    auto c = kernel_container<>::open(sys, "/dev/null");
    REQUIRE(c);
    const auto v = c->api_version();
    CHECK(err(v) == static_cast<int>(errc::enotty)); // /dev/null has no VFIO ioctls
    CHECK(v.error().reason == "VFIO_GET_API_VERSION");
}
