// Shadow mode (issue #8): the model and a kernel side by side. With the kernel played by
// the engine under the same profile, a long random run of every operation (errors
// included) must give no divergence; with the model on upstream and the kernel on
// Debian 6.12, the differences SEMANTICS P5 and B4 describe must come out as values,
// each naming its rule; and against the real kernels tests/kernel booted, none.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/linux/kernel_container.hpp>
#include <passthru/linux/shadow.hpp>

#include "fake_vfio.hpp"
#include "shadow_raw_vectors.hpp"
#include "vfio_args.hpp"

using namespace passthru;
using namespace passthru::testing;
using passthru::linux_vfio::kernel_container;
using passthru::linux_vfio::kernel_group;
using passthru::linux_vfio::shadow;
using type1::iommu_mode;
namespace abi = passthru::type1::abi;

namespace {
constexpr std::uint64_t K4 = 0x1000;

// A kernel container with group 7 attached in `mode`, on the fake kernel `k`.
template <class Fake>
kernel_container<Fake> attached(Fake& k, kernel_group<Fake>& g, iommu_mode mode) {
    auto c = kernel_container<Fake>::open(k);
    REQUIRE(c);
    REQUIRE(g.set_container(*c));
    REQUIRE(c->set_iommu(mode));
    return std::move(*c);
}

// What every test here drives through shadow: a fake kernel (the engine under kernel
// profile K) with group 7 in a container of `mode`, and a model with group 7 attached.
template <class P, class K = type1::profiles::upstream, class Model = table_rig<P>>
struct side_by_side {
    using fake = fake_vfio<P, K>;
    fake kernel;
    kernel_group<fake> group;
    kernel_container<fake> container;
    Model model;
    template <class... ModelArgs>
    explicit side_by_side(iommu_mode mode, ModelArgs&&... args)
        : group(kernel_group<fake>::open(kernel, 7).value()), container(attached(kernel, group, mode)),
          model(mode, std::forward<ModelArgs>(args)...) {
        REQUIRE(model.c.attach(type1::group{.id = 7}));
    }
};
using dirty_tracking_rig = table_rig<x86_vtd_ir<>, type1::profiles::upstream, pgtable::domain_tables::dirty_tracking>;
} // namespace

TEST_CASE("linux shadow: the model and a kernel that behaves as the model never diverge") {
    for (auto mode : {iommu_mode::v2, iommu_mode::v1}) {
        side_by_side<x86_amdvi_ir<>> r(mode);
        shadow s(r.model.c, r.container);

        std::mt19937_64 rng(mode == iommu_mode::v2 ? 1 : 2);
        int refused = 0;
        for (int step = 0; step < 3000; ++step) {
            const std::uint64_t io = 0x100000 + (rng() % 512) * K4, size = (1 + rng() % 8) * K4;
            std::vector<std::uint64_t> words(2, rng() % 4 == 0 ? rng() : 0);
            bool ok_step = true;
            switch (rng() % 9) {
            case 0: case 1: case 2: ok_step = bool(s.map(iova{io}, size, va::ram + (rng() % 64) * K4, prot_rw)); break;
            case 3: ok_step = bool(s.unmap(iova{io}, size)); break;
            case 4: ok_step = bool(s.invalidate_vaddr(iova{io}, size)); break;
            case 5: ok_step = bool(s.update_vaddr(iova{io}, size, va::ram)); break;
            case 6: ok_step = bool(rng() % 2 ? s.dirty_start() : s.dirty_stop()); break;
            case 7: ok_step = bool(s.dirty_get(iova{io}, size, K4, words)); break;
            default: ok_step = bool(s.unmap_with_bitmap(iova{io}, size, K4, words)); break;
            }
            refused += ok_step ? 0 : 1;
            if (step % 500 == 0) REQUIRE(s.info());
        }
        REQUIRE(s.unmap_all());
        for (auto e : {abi::extension::type1v2, abi::extension::dma_cc_iommu, abi::extension::update_vaddr})
            REQUIRE(s.check_extension(e));
        INFO(s.divergences().size() << " divergences, first: "
                                    << (s.divergences().empty() ? "" : s.divergences().front().rule));
        CHECK(s.divergences().empty());
        CHECK(refused > 300); // the run reaches the error paths too
    }
}

TEST_CASE("linux shadow: bitmap words that differ are divergences, word by word") {
    // The model reads the IOMMU's own dirty bits (container_options::iommu_dirty, nothing
    // written yet); the kernel reports every page dirty, as type1 does (SEMANTICS D7).
    side_by_side<x86_vtd_ir<>, type1::profiles::upstream, dirty_tracking_rig> r(iommu_mode::v2,
                                                                                type1::container_options{.iommu_dirty = true});
    shadow s(r.model.c, r.container);
    REQUIRE(s.map(iova{0x100000}, 4 * K4, va::scattered, prot_rw));
    REQUIRE(s.dirty_start());
    std::vector<std::uint64_t> words(2, 0);
    REQUIRE(s.dirty_get(iova{0x100000}, 4 * K4, K4, words));
    CHECK(words[0] == 0xf); // the caller gets the kernel's words
    REQUIRE(s.divergences().size() == 1);
    CHECK(s.divergences()[0].operation == "DIRTY_PAGES");
    CHECK(s.divergences()[0].what == "bitmap word 0");
    CHECK(s.divergences()[0].model_value == 0);
    CHECK(s.divergences()[0].kernel_value == 0xf);
    words.assign(2, 0);
    CHECK(*s.unmap_with_bitmap(iova{0x100000}, 4 * K4, K4, words) == 4 * K4);
    REQUIRE(s.divergences().size() == 2);
    CHECK(s.divergences()[1].operation == "UNMAP_DMA");
    CHECK(s.divergences()[1].kernel_value == 0xf);
}

TEST_CASE("linux shadow: an upstream model against a 6.12 kernel reports SEMANTICS P5 and B4 as values") {
    side_by_side<x86_amdvi_ir<>, type1::profiles::debian_6_12> r(iommu_mode::v2); // the model: upstream
    shadow s(r.model.c, r.container);
    constexpr std::uint64_t last_page = 0xFFFF'FFFF'FFFF'F000;

    REQUIRE(s.map(iova{last_page}, K4, va::ram, prot_rw)); // both accept it
    CHECK(s.divergences().empty());
    const auto u = s.unmap(iova{last_page}, K4); // the kernel's answer comes back
    REQUIRE(u);
    CHECK(*u == 0);
    REQUIRE(s.divergences().size() == 1);
    const auto& d = s.divergences()[0];
    CHECK(d.operation == "UNMAP_DMA");
    CHECK(d.iova == last_page);
    CHECK(d.model == linux_vfio::answer{std::nullopt, K4});
    CHECK(d.kernel == linux_vfio::answer{std::nullopt, 0});
    CHECK(d.rule == "SEMANTICS §C");

    // Wrapping past 2^64-1: EOVERFLOW since v6.18, EINVAL on 6.12 (B4).
    CHECK(err(s.map(iova{last_page}, 2 * K4, va::ram, prot_rw)) == einval);
    REQUIRE(s.divergences().size() == 2);
    CHECK(s.divergences()[1].model.error == errc::eoverflow);
    CHECK(s.divergences()[1].kernel.error == errc::einval);
    CHECK(s.divergences()[1].rule == "SEMANTICS B4");

    // GET_INFO: the model has freed the entry, the kernel has not.
    REQUIRE(s.info());
    REQUIRE(s.divergences().size() == 3);
    CHECK(s.divergences()[2].what == "dma_avail");
    CHECK(s.divergences()[2].model_value == 65535);
    CHECK(s.divergences()[2].kernel_value == 65534);
}

TEST_CASE("linux shadow: the raw face (SEMANTICS E1 B2 C1 C2 C3 D1-D7 in bytes) agrees with a kernel that behaves as the model") {
    side_by_side<x86_amdvi_ir<>> r(iommu_mode::v2);
    shadow s(r.model.c, r.container);
    const int ops = run_raw_vectors(s, va::ram);
    CHECK(ops > 80);
    for (const auto& d : s.divergences())
        UNSCOPED_INFO(d.operation << " iova " << d.iova << " size " << d.size << " flags " << d.flags << " model "
                                  << (d.model.error ? static_cast<int>(*d.model.error) : 0) << " kernel "
                                  << (d.kernel.error ? static_cast<int>(*d.kernel.error) : 0) << " " << d.what);
    CHECK(s.divergences().empty());
    CHECK(r.model.c.mappings().empty()); // the sequence leaves nothing mapped
    CHECK(!r.model.c.dirty_tracking());
}

TEST_CASE("linux shadow: the raw face reports the errno, each argument word and each bitmap word that differ") {
    // An upstream model against a Debian 6.1 kernel: GET_INFO's capabilities are not padded
    // there (SEMANTICS E1, v6.6), and a wrapping range is EINVAL, not EOVERFLOW (B4, D5).
    side_by_side<x86_amdvi_ir<>, type1::profiles::debian_6_1> r(iommu_mode::v2);
    shadow s(r.model.c, r.container);
    namespace args = vfio_args;

    auto info = args::get_info(512, 512);
    REQUIRE(s.ioctl(abi::iommu_get_info, info));
    REQUIRE(!s.divergences().empty());
    for (const auto& d : s.divergences()) {
        CHECK(d.operation == "GET_INFO");
        CHECK(d.rule == "SEMANTICS E1");
        CHECK(d.what.rfind("argument bytes ", 0) == 0);
    }
    // argsz, flags and the page sizes agree; 6.1 leaves the header's pad as it was (bytes
    // 20-23, still 0xa5 here), and its chain is laid out unpadded.
    CHECK(s.divergences().front().what == "argument bytes 16-23");
    CHECK(s.divergences().front().model_value == 24);
    CHECK(s.divergences().front().kernel_value == 0xa5a5'a5a5'0000'0018);
    CHECK(s.divergences().size() > 1);
    s.clear();

    std::vector<std::uint64_t> words(1, 0);
    auto map = args::map(32, abi::map_flag::read, va::ram, 0x10000, K4);
    auto start = args::dirty(8, abi::dirty_flag::start);
    auto wraps = args::dirty(args::dirty_get_argsz, abi::dirty_flag::get_bitmap, 0xFFFF'FFFF'FFFF'F000, 2 * K4, K4, 8, words);
    REQUIRE(s.ioctl(abi::iommu_map_dma, map));
    REQUIRE(s.ioctl(abi::iommu_dirty_pages, start));
    CHECK(s.divergences().empty());
    CHECK(err(s.ioctl(abi::iommu_dirty_pages, wraps, words)) == einval);
    REQUIRE(s.divergences().size() == 1);
    CHECK(s.divergences()[0].model.error == errc::eoverflow);
    CHECK(s.divergences()[0].rule == "SEMANTICS D5");
    CHECK(s.divergences()[0].iova == 0xFFFF'FFFF'FFFF'F000);
    CHECK(s.divergences()[0].flags == abi::dirty_flag::get_bitmap);
    s.clear();

    // Bitmap words: a model reading the IOMMU's own dirty bits sees none of the page the
    // kernel reports (every page, D7).
    side_by_side<x86_vtd_ir<>, type1::profiles::upstream, dirty_tracking_rig> hw(iommu_mode::v2,
                                                                                 type1::container_options{.iommu_dirty = true});
    shadow s2(hw.model.c, hw.container);
    auto map_rw = args::map(32, abi::map_flag::read | abi::map_flag::write, va::ram, 0x10000, K4);
    auto get = args::dirty(args::dirty_get_argsz, abi::dirty_flag::get_bitmap, 0x10000, K4, K4, 8, words);
    REQUIRE(s2.ioctl(abi::iommu_map_dma, map_rw));
    REQUIRE(s2.ioctl(abi::iommu_dirty_pages, start));
    REQUIRE(s2.ioctl(abi::iommu_dirty_pages, get, words));
    CHECK(words[0] == 1);
    REQUIRE(s2.divergences().size() == 1);
    CHECK(s2.divergences()[0].what == "bitmap word 0");
    CHECK(s2.divergences()[0].model_value == 0);
}

// tests/kernel/shadow_probe.cpp ran this header against every booted kernel, with the
// model the host check chose; its transcript lines are the kernel's judgement.
TEST_CASE("linux shadow: in all 30 booted kernels the backend in shadow mode found no divergence") {
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(PASSTHRU_KERNEL_TRANSCRIPTS)) {
        INFO(entry.path().filename().string());
        std::ifstream in(entry.path());
        int runs = 0, v1_runs = 0, raw_runs = 0, divergence_lines = 0;
        std::string verdict, set_kernel, set_model, retry;
        for (std::string l; std::getline(in, l);) {
            if (l.rfind("PROBE shadow_", 0) == 0 && l.find("_divergence ") != std::string::npos) ++divergence_lines;
            if (l.rfind("PROBE shadow_raw ops=", 0) == 0) { // the byte-level sequence (shadow_raw_vectors.hpp)
                ++raw_runs;
                CHECK(std::stoi(l.substr(21)) >= 82);
                CHECK(l.substr(l.find("divergences=") + 12) == "0");
            }
            if (l.rfind("PROBE shadow_v1 set_iommu ", 0) == 0) CHECK(l == "PROBE shadow_v1 set_iommu kernel=0 model=0");
            if (l.rfind("PROBE shadow_v1 ops=", 0) == 0) { // the v1 container with dma_entry_limit 4
                ++v1_runs;
                CHECK(std::stoi(l.substr(20)) >= 19);
                CHECK(l.substr(l.find("divergences=") + 12) == "0");
            }
            if (l.rfind("PROBE shadow platform=", 0) == 0) verdict = l.substr(l.find("host_verdict=") + 13);
            if (l.rfind("PROBE shadow set_iommu ", 0) == 0) {
                set_kernel = l.substr(l.find("kernel=") + 7, l.find(' ', l.find("kernel=")) - l.find("kernel=") - 7);
                set_model = l.substr(l.find("model=") + 6);
            }
            if (l.rfind("PROBE shadow set_iommu_retry_unsafe ", 0) == 0) retry = l;
            if (l.rfind("PROBE shadow ops=", 0) == 0) {
                ++runs;
                CHECK(std::stoi(l.substr(17)) >= 31);
                CHECK(l.substr(l.find("divergences=") + 12) == "0");
            }
        }
        CHECK(runs == 1);
        CHECK(v1_runs == 1);
        CHECK(raw_runs == 1);
        CHECK(divergence_lines == 0);
        CHECK(verdict == set_kernel); // the host check, before any VFIO call
        CHECK(set_model == set_kernel);
        if (set_kernel != "0") CHECK(retry == "PROBE shadow set_iommu_retry_unsafe kernel=0 model=0");
        ++files;
    }
    CHECK(files == 30);
}
