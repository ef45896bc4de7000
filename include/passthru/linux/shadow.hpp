#pragma once
// Shadow mode: every call goes to the model (a type1::container with the running kernel's
// profile and the facts sysfs gives) and to the kernel (a kernel_container), the kernel's
// answer is returned, and where the two differ the difference is kept as a value: the
// operation, its arguments, both answers, and the SEMANTICS rule the model applied. Never
// an assert: bringing up a board, a divergence says whether the model or the firmware's
// tables are wrong.
//
// Both sides must offer the engine's typed interface (type1::container and
// kernel_container both do) and start in the same state: the same groups attached.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/type1/abi.hpp>
#include <passthru/type1/abi_face.hpp>
#include <passthru/type1/container.hpp>

namespace passthru::linux_vfio {

// One side's answer: success with a value (bytes unmapped, an extension's answer, 0), or
// an errno.
struct answer {
    std::optional<errc> error;
    std::uint64_t value = 0;
    constexpr bool operator==(const answer&) const = default;
};

struct divergence {
    std::string_view operation; // "MAP_DMA", "UNMAP_DMA", "DIRTY_PAGES", "GET_INFO", "CHECK_EXTENSION"
    std::uint64_t iova = 0, size = 0;
    std::uint32_t flags = 0;      // the ioctl's flags, or the extension asked about
    answer model, kernel;
    std::string rule;             // "SEMANTICS B9": the rule the model's answer came from
    std::string what;             // for a value both returned: which one ("dma_avail", "bitmap word 2")
    std::uint64_t model_value = 0, kernel_value = 0;
};

template <class Model, class Kernel>
class shadow {
public:
    shadow(Model& model, Kernel& kernel) noexcept : model_(&model), kernel_(&kernel) {}

    const std::vector<divergence>& divergences() const noexcept { return log_; }
    void clear() noexcept { log_.clear(); }

    result<void> map(iova io, std::uint64_t size, std::uint64_t vaddr, prot p) {
        return compare("MAP_DMA", "SEMANTICS §B", io.value, size, flags_of(p), model_->map(io, size, vaddr, p),
                            kernel_->map(io, size, vaddr, p));
    }
    result<void> update_vaddr(iova io, std::uint64_t size, std::uint64_t vaddr) {
        return compare("MAP_DMA", "SEMANTICS B9", io.value, size, type1::abi::map_flag::vaddr,
                            model_->update_vaddr(io, size, vaddr), kernel_->update_vaddr(io, size, vaddr));
    }
    result<std::uint64_t> unmap(iova io, std::uint64_t size) {
        return compare("UNMAP_DMA", "SEMANTICS §C", io.value, size, 0, model_->unmap(io, size),
                             kernel_->unmap(io, size));
    }
    result<std::uint64_t> unmap_all() {
        return compare("UNMAP_DMA", "SEMANTICS C7", 0, 0, type1::abi::unmap_flag::all, model_->unmap_all(),
                             kernel_->unmap_all());
    }
    result<std::uint64_t> invalidate_vaddr(iova io, std::uint64_t size, bool all = false) {
        return compare("UNMAP_DMA", "SEMANTICS C10", io.value, size, type1::abi::unmap_flag::vaddr,
                             model_->invalidate_vaddr(io, size, all), kernel_->invalidate_vaddr(io, size, all));
    }
    result<std::uint64_t> unmap_with_bitmap(iova io, std::uint64_t size, std::uint64_t pgsize,
                                            std::span<std::uint64_t> words) {
        return with_bitmaps(
            "UNMAP_DMA", "SEMANTICS D6", io.value, size, type1::abi::unmap_flag::get_dirty_bitmap, words,
            [&](std::span<std::uint64_t> w) { return model_->unmap_with_bitmap(io, size, {pgsize, w, words.size_bytes()}); },
            [&](std::span<std::uint64_t> w) { return kernel_->unmap_with_bitmap(io, size, {pgsize, w, words.size_bytes()}); });
    }

    result<void> dirty_start() {
        return compare("DIRTY_PAGES", "SEMANTICS §D", 0, 0, type1::abi::dirty_flag::start, model_->dirty_start(),
                            kernel_->dirty_start());
    }
    result<void> dirty_stop() {
        return compare("DIRTY_PAGES", "SEMANTICS §D", 0, 0, type1::abi::dirty_flag::stop, model_->dirty_stop(),
                            kernel_->dirty_stop());
    }
    result<void> dirty_get(iova io, std::uint64_t size, std::uint64_t pgsize, std::span<std::uint64_t> words) {
        return with_bitmaps(
            "DIRTY_PAGES", "SEMANTICS D5", io.value, size, type1::abi::dirty_flag::get_bitmap, words,
            [&](std::span<std::uint64_t> w) { return model_->dirty_get(io, size, {pgsize, w, words.size_bytes()}); },
            [&](std::span<std::uint64_t> w) { return kernel_->dirty_get(io, size, {pgsize, w, words.size_bytes()}); });
    }

    result<int> check_extension(type1::abi::extension e) {
        return compare("CHECK_EXTENSION", "SEMANTICS E2", 0, 0, static_cast<std::uint32_t>(e),
                       result<int>(model_->check_extension(e)), kernel_->check_extension(e));
    }

    // GET_INFO: each value the model predicts against the one the kernel reported.
    result<type1::info_values> info() {
        const type1::info_values m = model_->info();
        auto k = kernel_->info();
        if (!k) {
            log_.push_back({"GET_INFO", 0, 0, 0, {}, {k.error().code, 0}, "SEMANTICS E1", {}, 0, 0});
            return k;
        }
        auto value = [&](std::string what, std::uint64_t mv, std::uint64_t kv) {
            if (mv != kv) log_.push_back({"GET_INFO", 0, 0, 0, {}, {}, "SEMANTICS E1", std::move(what), mv, kv});
        };
        value("iova_pgsizes", m.iova_pgsizes, k->iova_pgsizes);
        value("migration pgsize_bitmap", m.migration_pgsize, k->migration_pgsize);
        value("max_dirty_bitmap_size", m.max_dirty_bitmap_size, k->max_dirty_bitmap_size);
        value("dma_avail", m.dma_avail, k->dma_avail);
        value("iova range count", m.iova_ranges.size(), k->iova_ranges.size());
        const std::size_t n = std::min(m.iova_ranges.size(), k->iova_ranges.size());
        for (std::size_t i = 0; i < n; ++i) {
            value("iova range " + std::to_string(i) + " start", m.iova_ranges[i].first, k->iova_ranges[i].first);
            value("iova range " + std::to_string(i) + " end", m.iova_ranges[i].last, k->iova_ranges[i].last);
        }
        return k;
    }

    // The raw face, for what only bytes can say (argsz and flags: SEMANTICS B2, C1-C3, D1,
    // D2, D5, E1): the same argument bytes to both, the kernel's in place and a copy through
    // the model's ABI face (type1/abi_face.hpp). `bitmap` is the memory a bitmap address in
    // `arg` points at; the model writes a copy of it. Compared: the errno, every argument
    // byte afterwards (GET_INFO's chain, the size UNMAP writes back, nothing written on
    // failure) and every bitmap word.
    result<int> ioctl(std::uint32_t cmd, std::span<std::byte> arg, std::span<std::uint64_t> bitmap = {}) {
        const raw_call c = describe_call(cmd, arg);
        std::vector<std::byte> model_arg(arg.begin(), arg.end());
        std::vector<std::uint64_t> model_bits(bitmap.begin(), bitmap.end());
        copied_memory mem{reinterpret_cast<std::uintptr_t>(bitmap.data()), model_bits};
        auto m = type1::ioctl(*model_, cmd, std::span<std::byte>(model_arg), 0, mem);
        auto k = kernel_->ioctl(cmd, arg);
        auto r = compare(c.operation, c.section, c.iova, c.size, c.flags, std::move(m), std::move(k));
        for (std::size_t i = 0; i < arg.size(); i += 8) {
            const std::size_t n = std::min<std::size_t>(8, arg.size() - i);
            std::uint64_t mv = 0, kv = 0;
            std::memcpy(&mv, model_arg.data() + i, n);
            std::memcpy(&kv, arg.data() + i, n);
            if (mv != kv)
                log_.push_back({c.operation, c.iova, c.size, c.flags, {}, {}, std::string(c.section),
                                "argument bytes " + std::to_string(i) + "-" + std::to_string(i + n - 1), mv, kv});
        }
        compare_words(c.operation, c.iova, c.size, model_bits, bitmap);
        return r;
    }

private:
    // The model's view of the caller's memory in ioctl(): the one bitmap, as a copy.
    struct copied_memory {
        std::uintptr_t address;
        std::span<std::uint64_t> words_copy;
        std::optional<std::span<std::uint64_t>> words(std::uint64_t addr, std::uint64_t bytes) const {
            if (words_copy.empty() || addr != address || (bytes + 7) / 8 > words_copy.size()) return std::nullopt;
            return words_copy.first(static_cast<std::size_t>((bytes + 7) / 8));
        }
    };
    struct raw_call {
        std::string_view operation, section;
        std::uint64_t iova = 0, size = 0;
        std::uint32_t flags = 0;
    };
    // What a divergence of ioctl() reports: the operation, and the fields its header has.
    static raw_call describe_call(std::uint32_t cmd, std::span<const std::byte> arg) {
        namespace abi = type1::abi;
        const auto u32 = [&](std::size_t at) { return at + 4 <= arg.size() ? type1::detail::get<std::uint32_t>(arg, at) : 0u; };
        const auto u64 = [&](std::size_t at) { return at + 8 <= arg.size() ? type1::detail::get<std::uint64_t>(arg, at) : 0u; };
        // Every header starts with argsz and flags.
        constexpr std::size_t flags = offsetof(abi::dma_map, flags), range = sizeof(abi::dirty_bitmap);
        switch (cmd) {
        case abi::iommu_map_dma:
            return {"MAP_DMA", "SEMANTICS §B", u64(offsetof(abi::dma_map, iova)), u64(offsetof(abi::dma_map, size)), u32(flags)};
        case abi::iommu_unmap_dma:
            return {"UNMAP_DMA", "SEMANTICS §C", u64(offsetof(abi::dma_unmap, iova)), u64(offsetof(abi::dma_unmap, size)),
                    u32(flags)};
        case abi::iommu_dirty_pages: // the GET_BITMAP range after the header
            return {"DIRTY_PAGES", "SEMANTICS §D", u64(range + offsetof(abi::dirty_bitmap_get, iova)),
                    u64(range + offsetof(abi::dirty_bitmap_get, size)), u32(flags)};
        case abi::iommu_get_info: return {"GET_INFO", "SEMANTICS E1", 0, u32(0), 0}; // argsz
        default: return {"ioctl", "SEMANTICS E2", 0, 0, 0};
        }
    }

    static std::uint32_t flags_of(prot p) noexcept {
        return (has(p, prot::read) ? type1::abi::map_flag::read : 0) | (has(p, prot::write) ? type1::abi::map_flag::write : 0);
    }
    // "SEMANTICS B9: the range overlaps a mapping" -> "SEMANTICS B9"; a reason without a
    // rule id, or a model that succeeded, gives the operation's section.
    static std::string rule_of(const std::optional<error>& model_error, std::string_view section) {
        if (model_error) {
            const std::string_view why = model_error->reason;
            if (why.rfind("SEMANTICS ", 0) == 0)
                if (const auto colon = why.find(':'); colon != std::string_view::npos) return std::string(why.substr(0, colon));
        }
        return std::string(section);
    }
    template <class T>
    static answer answer_of(const result<T>& r) {
        if (!r) return {r.error().code, 0};
        if constexpr (std::is_void_v<T>) return {};
        else return {std::nullopt, static_cast<std::uint64_t>(*r)};
    }
    template <class T>
    result<T> compare(std::string_view op, std::string_view section, std::uint64_t io, std::uint64_t size,
                      std::uint32_t flags, result<T> m, result<T> k) {
        const answer ma = answer_of(m), ka = answer_of(k);
        if (ma != ka)
            log_.push_back({op, io, size, flags, ma, ka,
                            rule_of(m ? std::nullopt : std::optional<error>(m.error()), section), {}, 0, 0});
        return k;
    }
    // Both sides write a bitmap: the kernel the caller's `words`, the model a copy of what
    // they held; the words are compared when both succeeded.
    template <class ModelCall, class KernelCall>
    auto with_bitmaps(std::string_view op, std::string_view section, std::uint64_t io, std::uint64_t size,
                      std::uint32_t flags, std::span<std::uint64_t> words, ModelCall on_model, KernelCall on_kernel) {
        std::vector<std::uint64_t> mine(words.begin(), words.end());
        auto m = on_model(std::span<std::uint64_t>(mine));
        auto k = on_kernel(words);
        const bool both = m && k;
        auto r = compare(op, section, io, size, flags, std::move(m), std::move(k));
        if (both) compare_words(op, io, size, mine, words);
        return r;
    }
    void compare_words(std::string_view op, std::uint64_t io, std::uint64_t size, std::span<const std::uint64_t> m,
                       std::span<const std::uint64_t> k) {
        for (std::size_t i = 0; i < m.size(); ++i)
            if (m[i] != k[i])
                log_.push_back({op, io, size, 0, {}, {}, "SEMANTICS D6", "bitmap word " + std::to_string(i), m[i], k[i]});
    }

    Model* model_;
    Kernel* kernel_;
    std::vector<divergence> log_;
};

} // namespace passthru::linux_vfio
