// The recorded kernel transcripts (tests/kernel/transcripts) replayed through the ABI face
// with the matching kernel profile: SET_IOMMU (and its retry with allow_unsafe_interrupts),
// every CHECK_EXTENSION before and after it, every GET_INFO (argsz, flags, cap_offset, page
// sizes, dma_avail, the IOVA ranges) and every MAP_DMA / UNMAP_DMA vector must give the
// errno, size and values the booted kernel gave; so must the later containers of the same
// boot (the group moved to a fresh v2 container for dirty tracking, then to a v1 container
// opened with a lowered dma_entry_limit), with every bitmap word the kernel wrote. That
// includes the AMD-Vi containers that map the last page (SEMANTICS P5): the 6.1 and 6.12
// profiles keep the kernel's tree and the tables rewrite a page mapped twice, as those
// kernels' AMD-Vi driver did.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/type1/abi_face.hpp>
#include <passthru/type1/info.hpp>

#include "type1_rig.hpp"

#ifndef PASSTHRU_KERNEL_TRANSCRIPTS
#error "define PASSTHRU_KERNEL_TRANSCRIPTS as the tests/kernel/transcripts directory"
#endif

using namespace passthru;
using namespace passthru::testing;
using namespace passthru::platforms;
namespace abi = passthru::type1::abi;

namespace {

struct probe {
    std::string head;
    std::map<std::string, std::string> f;
    std::string at(const std::string& k) const {
        auto it = f.find(k);
        return it == f.end() ? "<no " + k + ">" : it->second;
    }
    std::uint64_t num(const std::string& k) const { return std::stoull(at(k), nullptr, 0); }
};

std::vector<probe> read_probes(const std::filesystem::path& p) {
    std::vector<probe> out;
    std::ifstream in(p);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("PROBE ", 0) != 0) continue;
        probe pr;
        std::size_t pos = 6;
        bool first = true;
        while (pos < line.size()) {
            const std::size_t end = std::min(line.find(' ', pos), line.size());
            const std::string tok = line.substr(pos, end - pos);
            const std::size_t eq = tok.find('=');
            if (first) pr.head = tok.substr(0, eq);
            if (!first || eq != std::string::npos) pr.f[tok.substr(0, eq)] = eq == std::string::npos ? "" : tok.substr(eq + 1);
            first = false;
            pos = end + 1;
        }
        out.push_back(std::move(pr));
    }
    return out;
}

std::string errno_of(int e) {
    return e == 0 ? "0" : std::string(errno_name(static_cast<errc>(e)));
}
template <class R>
std::string errno_of_result(const R& r) {
    return errno_of(err(r));
}

std::optional<abi::extension> extension_named(const std::string& s) {
    static const std::map<std::string, abi::extension> names{
        {"TYPE1", abi::extension::type1},          {"TYPE1v2", abi::extension::type1v2},
        {"DMA_CC_IOMMU", abi::extension::dma_cc_iommu}, {"TYPE1_NESTING", abi::extension::type1_nesting},
        {"UNMAP_ALL", abi::extension::unmap_all},  {"UPDATE_VADDR", abi::extension::update_vaddr},
        {"NOIOMMU", abi::extension::noiommu}};
    auto it = names.find(s);
    if (it == names.end()) return std::nullopt;
    return it->second;
}

template <class T>
std::vector<std::byte> bytes_of(const T& v) {
    std::vector<std::byte> out(sizeof(T));
    std::memcpy(out.data(), &v, sizeof(T));
    return out;
}

// GET_INFO with `argsz`, as the probe asked it; returns the header and the whole buffer.
template <class C>
std::pair<abi::iommu_info, std::vector<std::byte>> get_info_with(const C& c, std::uint32_t argsz) {
    std::vector<std::byte> buf(std::max<std::size_t>(argsz, 24));
    const abi::iommu_info in{argsz, 0, 0, 0, 0};
    std::memcpy(buf.data(), &in, sizeof in);
    abi::iommu_info out{};
    if (type1::get_info(c, buf)) std::memcpy(&out, buf.data(), sizeof out);
    return {out, buf};
}

// "0x1,0x0,..." as the probe prints a bitmap.
std::vector<std::uint64_t> words_of(const std::string& s) {
    std::vector<std::uint64_t> out;
    for (std::size_t pos = 0; pos < s.size();) {
        const std::size_t end = std::min(s.find(',', pos), s.size());
        out.push_back(std::stoull(s.substr(pos, end - pos), nullptr, 0));
        pos = end + 1;
    }
    return out;
}

// The probe's 4 KiB user bitmap: the words it printed before the call, zero after them.
struct probe_bitmap {
    std::vector<std::uint64_t> mem = std::vector<std::uint64_t>(512, 0);
    explicit probe_bitmap(const std::vector<std::uint64_t>& in) { std::copy(in.begin(), in.end(), mem.begin()); }
    std::optional<std::span<std::uint64_t>> words(std::uint64_t, std::uint64_t bytes) {
        if (bytes > mem.size() * 8) return std::nullopt;
        return std::span<std::uint64_t>(mem.data(), (bytes + 7) / 8);
    }
    std::vector<std::uint64_t> first(std::size_t n) const { return {mem.begin(), mem.begin() + static_cast<std::ptrdiff_t>(n)}; }
};
static_assert(type1::UserMemory<probe_bitmap>);

// The AMD-Vi io-pgtable of these kernels rewrote a leaf mapped again (pgtable::map_over).
template <class I>
constexpr bool is_amd_vi = false;
template <bool Ht, std::uint64_t Sizes>
constexpr bool is_amd_vi<amd_vi<Ht, Sizes>> = true;

// Replays one transcript on platform P with profile K; returns the lines checked.
template <class P, class K>
int replay(const std::vector<probe>& lines, bool noits) {
    using rig = table_rig<P, K>;
    constexpr auto over = is_amd_vi<typename P::iommu> ? pgtable::map_over::replace_leaves : pgtable::map_over::refuse;
    auto r = std::make_unique<rig>(type1::iommu_mode::v2, type1::container_options{}, 2048, over);
    int checked = 0;
    bool unsafe = false;
    std::uint32_t entry_limit = 65535; // the module parameter, read when a container opens
    const type1::group g{.id = 0, .devices_have_msi_domain = !noits};
    for (const probe& l : lines) {
        INFO(l.head << " " << l.at("what") << l.at("ext") << l.at("tag"));
        if (l.head == "param") {
            unsafe = l.at("allow_unsafe_interrupts") == "Y";
            r->c.set_allow_unsafe_interrupts(unsafe);
        }
        if (l.head == "check_extension") {
            const auto e = extension_named(l.at("ext"));
            REQUIRE(e);
            const int got = l.at("when") == "before_set_iommu" ? type1::check_extension_unset<K>(*e)
                                                               : r->c.check_extension(*e);
            CHECK(std::to_string(got) == l.at("ret"));
            ++checked;
        } else if (l.head == "set_iommu") {
            CHECK(errno_of_result(r->c.attach(g)) == l.at("errno"));
            ++checked;
        } else if (l.head == "set_iommu_retry_unsafe") {
            unsafe = true; // the probe wrote the 0644 parameter (P8)
            r->c.set_allow_unsafe_interrupts(true);
            CHECK(errno_of_result(r->c.attach(g)) == l.at("errno"));
            ++checked;
        } else if (l.head == "unset_container") {
            CHECK(errno_of_result(r->c.detach(g.id)) == l.at("errno")); // SEMANTICS A.2
            ++checked;
        } else if (l.head == "entry_limit") {
            if (l.at("write_errno") == "0") entry_limit = static_cast<std::uint32_t>(l.num("value"));
        } else if (l.head == "reattach" && l.f.count("type")) {
            // The group joins a fresh container: the old one is released with it (SEMANTICS §2).
            const auto mode = type1::iommu_mode_of<K>(static_cast<std::uint32_t>(
                *extension_named(l.at("type"))));
            REQUIRE(mode);
            r.reset();
            r = std::make_unique<rig>(*mode,
                                      type1::container_options{.dma_entry_limit = entry_limit,
                                                               .allow_unsafe_interrupts = unsafe},
                                      2048, over);
            CHECK(errno_of_result(r->c.attach(g)) == l.at("errno"));
            ++checked;
        } else if (l.head == "get_info") {
            const auto [h, buf] = get_info_with(r->c, 4096);
            const auto need = h.argsz == 4096 ? 24 + type1::info_caps<K>(r->c.info()).size() : h.argsz;
            CHECK(std::to_string(need) == l.at("argsz"));
            CHECK(h.flags == l.num("flags"));
            CHECK(h.cap_offset == l.num("cap_offset"));
            CHECK(h.iova_pgsizes == l.num("iova_pgsizes"));
            ++checked;
        } else if (l.head == "cap") {
            const auto [h, buf] = get_info_with(r->c, 4096);
            abi::cap_header c{};
            std::memcpy(&c, buf.data() + l.num("offset"), sizeof c);
            CHECK(c.id == l.num("id"));
            CHECK(c.version == l.num("version"));
            CHECK(c.next == l.num("next"));
            ++checked;
        } else if (l.head == "cap_dma_avail") {
            CHECK(r->c.info().dma_avail == l.num("avail"));
            ++checked;
        } else if (l.head == "cap_migration") {
            CHECK(r->c.info().migration_pgsize == l.num("pgsize_bitmap"));
            CHECK(r->c.info().max_dirty_bitmap_size == l.num("max_dirty_bitmap_size"));
            ++checked;
        } else if (l.head == "iova_ranges") {
            CHECK(r->c.iova_list().size() == l.num("nr"));
            ++checked;
        } else if (l.head == "iova_range") {
            const interval want{l.num("start"), l.num("end")};
            const auto& list = r->c.iova_list();
            CHECK(std::find(list.begin(), list.end(), want) != list.end());
            ++checked;
        } else if (l.head == "get_info_argsz16" || l.head == "get_info_argsz24" || l.head == "get_info_argsz15") {
            const std::uint32_t argsz = l.head == "get_info_argsz16" ? 16 : l.head == "get_info_argsz24" ? 24 : 15;
            std::vector<std::byte> buf(24);
            const abi::iommu_info in{argsz, 0, 0, 0, 0};
            std::memcpy(buf.data(), &in, sizeof in);
            const auto res = type1::get_info(r->c, buf);
            CHECK(errno_of_result(res) == l.at("errno"));
            if (res) {
                abi::iommu_info out{};
                std::memcpy(&out, buf.data(), sizeof out);
                CHECK(out.argsz == l.num("argsz_out"));
                CHECK(out.flags == l.num("flags"));
                if (argsz == 24) CHECK(out.cap_offset == l.num("cap_offset"));
            }
            ++checked;
        } else if (l.head == "vec") {
            // The probe's user bitmap, as it was before the call, and the words it read after.
            const bool with_bits = l.f.count("bitmap_in") != 0;
            probe_bitmap bm(with_bits ? words_of(l.at("bitmap_in")) : std::vector<std::uint64_t>{});
            const auto bitmap_as_after = [&] {
                const auto want = words_of(l.at("bitmap_out"));
                CHECK(bm.first(want.size()) == want); // SEMANTICS D6
            };
            const auto argsz = static_cast<std::uint32_t>(l.f.count("argsz") ? l.num("argsz") : 0); // map: 32 always
            const auto flags = static_cast<std::uint32_t>(l.num("flags"));
            if (l.at("op") == "dirty") {
                const auto arg = bytes_of(abi::dirty_pages_get{
                    {argsz, flags}, {l.num("iova"), l.num("size"), {l.num("pgsize"), l.num("bitmap_size"), 0x5000'0000}}});
                CHECK(errno_of_result(type1::dirty_pages(r->c, arg, bm)) == l.at("errno"));
                bitmap_as_after();
            } else if (l.at("op") == "map") {
                auto arg = bytes_of(abi::dma_map{32, flags, va::ram, l.num("iova"), l.num("size")});
                CHECK(errno_of_result(type1::map_dma(r->c, arg)) == l.at("errno"));
            } else { // UNMAP_DMA; the lines without a bitmap passed the 24-byte header only
                const abi::dma_unmap head{with_bits ? argsz : 24, flags, l.num("iova"), l.num("size")};
                auto arg = with_bits ? bytes_of(abi::dma_unmap_bitmap{head, {l.num("pgsize"), l.num("bitmap_size"), 0x5000'0000}})
                                     : bytes_of(head);
                const auto res = type1::unmap_dma(r->c, arg, bm);
                CHECK(errno_of_result(res) == l.at("errno"));
                abi::dma_unmap back{};
                std::memcpy(&back, arg.data(), sizeof back);
                CHECK((res ? back.size : 0) == l.num("unmapped"));
                if (with_bits) bitmap_as_after();
            }
            ++checked;
        }
    }
    return checked;
}

using qemu_vtd = intel_vtd<39, false>;

// The platform of a configuration, judged by the kernel's rule, with its profile.
// The 6.1 AMD-Vi driver reported more page sizes (SEMANTICS P2).
template <class Iommu>
struct on_6_1 {
    using type = Iommu;
};
template <bool Ht, std::uint64_t Sizes>
struct on_6_1<amd_vi<Ht, Sizes>> {
    using type = amd_vi<Ht, amd_v1_pgsizes_6_1>;
};

template <template <class, class...> class Alias, class Iommu>
int replay_for(std::string_view kernel, const std::vector<probe>& lines, bool noits) {
    if (kernel == "6.1")
        return replay<Alias<pci_bus, typename on_6_1<Iommu>::type, rules::for_kernel_t<6, 1>>,
                      type1::profiles::debian_6_1>(lines, noits);
    return replay<Alias<pci_bus, Iommu>, type1::profiles::debian_6_12>(lines, noits);
}

int replay_file(std::string_view kernel, std::string config, const std::vector<probe>& lines) {
    if (const auto e = config.find("-e1000e"); e != std::string::npos) config.erase(e);
    if (config.rfind("x86-vtd48-sc-ir", 0) == 0) return replay_for<x86_vtd_ir, intel_vtd<>>(kernel, lines, false);
    if (config.rfind("x86-vtd-ir-kernel-off", 0) == 0) return replay_for<x86_vtd_no_ir, qemu_vtd>(kernel, lines, false);
    if (config.rfind("x86-vtd-noir", 0) == 0) return replay_for<x86_vtd_no_ir, qemu_vtd>(kernel, lines, false);
    if (config.rfind("x86-vtd-ir", 0) == 0) return replay_for<x86_vtd_ir, qemu_vtd>(kernel, lines, false);
    if (config.rfind("x86-amdvi-noir", 0) == 0) return replay_for<x86_amdvi_no_ir, amd_vi<>>(kernel, lines, false);
    if (config.rfind("x86-amdvi-ir", 0) == 0) return replay_for<x86_amdvi_ir, amd_vi<>>(kernel, lines, false);
    if (config.rfind("arm-smmuv3-its", 0) == 0) return replay_for<arm_smmuv3_its, arm_smmuv3<>>(kernel, lines, false);
    if (config.rfind("arm-smmuv3-gicv2m", 0) == 0) return replay_for<arm_smmuv3_gicv2m, arm_smmuv3<>>(kernel, lines, false);
    if (config.rfind("arm-smmuv3-gicv3-noits", 0) == 0)
        return replay_for<arm_smmuv3_gicv3_no_its, arm_smmuv3<>>(kernel, lines, true);
    return -1;
}

} // namespace

TEST_CASE("SEMANTICS P the type1 transcripts of booted 6.1 and 6.12 kernels, replayed through the ABI face") {
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(PASSTHRU_KERNEL_TRANSCRIPTS)) {
        const std::string name = entry.path().stem().string();
        const std::string kernel = name.substr(0, name.find('-'));
        const std::string config = name.substr(name.find('-') + 1);
        DYNAMIC_SECTION(name) {
            const auto lines = read_probes(entry.path());
            const int checked = replay_file(kernel, config, lines);
            INFO(name);
            CHECK(checked >= 150); // about 70 lines from the first container, 90 from the later two
        }
        ++files;
    }
    CHECK(files == 30);
}
