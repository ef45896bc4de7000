#pragma once
// Pinning: how the engine turns a process's virtual addresses into physical pages that
// stay put while a device may DMA to them (SEMANTICS B14: get_user_pages, PFNMAP, the
// RLIMIT_MEMLOCK check). The caller supplies it as a `Pinner`: a VMM's real one wraps
// its own memory; `memory_pinner` below is a deterministic in-memory process for tests
// and benchmarks, with contiguous, scattered and reserved (MMIO) regions, a locked-memory
// limit and fault injection.
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>

namespace passthru::type1 {

// The host page size P of SEMANTICS (4K on x86-64 and on most arm64 configurations).
inline constexpr std::uint64_t host_page = 4096;

// Consecutive pages whose frames are consecutive and of one kind.
struct pinned_run {
    phys_addr pa;
    std::uint64_t pages = 0;
    // Not normal pages (MMIO, PFNMAP, PageReserved): mapped, never charged (SEMANTICS B14).
    bool reserved = false;
    constexpr bool operator==(const pinned_run&) const = default;
};

// A `Pinner` P provides, for `p` a P and `cp` a const P:
//   p.pin(vaddr, pages, write, out) -> result<std::size_t>
//        pins up to `pages` consecutive pages from `vaddr` as runs written to `out`
//        (maximal runs, at most out.size()), and returns how many runs it wrote. Like
//        get_user_pages it stops before the first page it cannot pin and fails only when
//        that is the first one: EFAULT for no memory there, or a write to read-only memory
//        (SEMANTICS B14). Runs, not pages, so a VMM whose guest RAM is hugepage-backed
//        hands over 2M at a time.
//   p.unpin(pa, n)                 releases n pages from `pa` (reserved ones are ignored)
//   cp.memlock_limit_pages() -> uint64_t   RLIMIT_MEMLOCK >> PAGE_SHIFT
//   cp.lock_cap() -> bool          CAP_IPC_LOCK: the limit does not apply
template <class P>
concept Pinner = requires(P& p, const P& cp, std::uint64_t vaddr, std::uint64_t pages, bool write,
                          std::span<pinned_run> out, phys_addr pa) {
    { p.pin(vaddr, pages, write, out) } -> std::same_as<result<std::size_t>>;
    { p.unpin(pa, pages) } -> std::same_as<void>;
    { cp.memlock_limit_pages() } -> std::convertible_to<std::uint64_t>;
    { cp.lock_cap() } -> std::same_as<bool>;
};

// A process's memory, in regions of page-aligned virtual addresses.
class memory_pinner {
public:
    enum class backing : std::uint8_t {
        contiguous, // page i at base + i·P: what hugepage-backed guest RAM gives
        scattered,  // page i at a seeded permutation of [base, base + 2^k·P): ordinary RAM
        huge_2m,    // 2M chunks at a seeded permutation of 2M frames: hugepage-backed RAM
        reserved,   // page i at base + i·P, not a normal page: a device BAR mmap'd (PFNMAP)
    };
    struct region {
        std::uint64_t vaddr = 0;
        std::uint64_t pages = 0;
        backing kind = backing::contiguous;
        phys_addr base{};
        bool writable = true;
        std::uint64_t seed = 0;
    };

    constexpr memory_pinner() = default;
    constexpr explicit memory_pinner(std::uint64_t memlock_limit_pages, bool lock_cap = false)
        : limit_(memlock_limit_pages), lock_cap_(lock_cap) {}

    // Add a region; regions never overlap in virtual or physical space.
    constexpr result<void> add(const region& r) {
        if (r.pages == 0 || (r.vaddr | r.base.value) % host_page != 0)
            return fail(errc::einval, "a region needs pages, and page-aligned addresses");
        if (r.kind == backing::huge_2m && r.base.value % (512 * host_page) != 0)
            return fail(errc::einval, "2M chunks need a 2M-aligned physical base");
        const entry e = laid_out(r);
        const std::uint64_t vlast = r.vaddr + (r.pages * host_page - 1);
        const std::uint64_t plast = r.base.value + (e.phys_pages * host_page - 1);
        if (vlast < r.vaddr || plast < r.base.value) return fail(errc::eoverflow, "the region wraps");
        for (const entry& o : regions_) {
            const std::uint64_t ov = o.r.vaddr + (o.r.pages * host_page - 1);
            const std::uint64_t op = o.r.base.value + (o.phys_pages * host_page - 1);
            if (r.vaddr <= ov && o.r.vaddr <= vlast) return fail(errc::eexist, "virtual addresses overlap");
            if (r.base.value <= op && o.r.base.value <= plast) return fail(errc::eexist, "physical pages overlap");
        }
        regions_.insert(std::upper_bound(regions_.begin(), regions_.end(), e,
                                         [](const entry& a, const entry& b) { return a.r.vaddr < b.r.vaddr; }),
                        e);
        return {};
    }

    constexpr result<std::size_t> pin(std::uint64_t vaddr, std::uint64_t pages, bool write,
                                      std::span<pinned_run> out) {
        ++pin_calls_;
        if (fail_at_ && pin_calls_ == *fail_at_) return fail(errc::efault, "injected pin failure");
        run_list runs(out);
        std::uint64_t done = 0;
        while (done < pages) {
            const std::uint64_t va = vaddr + done * host_page;
            const entry* e = find(va);
            const bool ok = e && (!write || e->r.writable);
            if (!ok) {
                if (done > 0) break; // partial: the next call reports it
                if (!e) return fail(errc::efault, "no memory at this virtual address (get_user_pages)");
                return fail(errc::efault, "a DMA-writable mapping of read-only memory");
            }
            const std::uint64_t idx = (va - e->r.vaddr) / host_page;
            const std::uint64_t take = std::min(pages - done, e->r.pages - idx);
            const bool reserved = e->r.kind == backing::reserved;
            std::uint64_t i = 0;
            while (i < take) { // a run per chunk of consecutive frames
                const std::uint64_t in_chunk = e->permuted ? (idx + i) & (e->chunk - 1) : (idx + i) % e->chunk;
                const std::uint64_t n_here = std::min(take - i, e->chunk - in_chunk);
                if (!runs.add({page_at(*e, idx + i), n_here, reserved})) break;
                i += n_here;
            }
            if (i < take) {
                done += i;
                if (!reserved) pinned_ += i;
                break;
            }
            done += take;
            if (!reserved) pinned_ += take;
        }
        return runs.finish();
    }

    constexpr void unpin(phys_addr pa, std::uint64_t n) {
        for (std::uint64_t i = 0; i < n;) { // a region's pages at a time
            const std::uint64_t at = pa.value + i * host_page;
            const entry* e = find_phys(at);
            if (!e) {
                ++misuse_;
                ++i;
                continue;
            }
            const std::uint64_t here = std::min(n - i, e->phys_pages - (at - e->r.base.value) / host_page);
            i += here;
            if (e->r.kind == backing::reserved) continue;
            const std::uint64_t released = std::min(here, pinned_);
            pinned_ -= released;
            misuse_ += here - released;
        }
    }

    constexpr std::uint64_t memlock_limit_pages() const noexcept { return limit_; }
    constexpr bool lock_cap() const noexcept { return lock_cap_; }
    constexpr void set_memlock_limit_pages(std::uint64_t pages) noexcept { limit_ = pages; }
    constexpr void set_lock_cap(bool on) noexcept { lock_cap_ = on; }

    // Fault injection: the n-th pin call from now (1 = the next) fails with EFAULT.
    constexpr void fail_pin_call(std::uint64_t n) noexcept { fail_at_ = pin_calls_ + n; }
    constexpr void clear_faults() noexcept { fail_at_.reset(); }

    // Normal pages pinned and not yet released: 0 when nothing leaked.
    constexpr std::uint64_t pinned_pages() const noexcept { return pinned_; }
    constexpr std::uint64_t pin_calls() const noexcept { return pin_calls_; }
    // Releases of pages this process never handed out, or more releases than pins.
    constexpr std::uint64_t misuse() const noexcept { return misuse_; }

private:
    // The runs of one pin call, written to `out` in order. The open run stays in registers
    // until a run that does not continue it arrives: reading it back from `out` for every
    // chunk waited on the store of it just made (a store-forwarding stall per run).
    class run_list {
    public:
        constexpr explicit run_list(std::span<pinned_run> out) noexcept : out_(out) {}
        // Extends the open run when `r` continues it, else opens `r`; false when `out` is full.
        constexpr bool add(pinned_run r) noexcept {
            if (open_.pages && open_.reserved == r.reserved && open_.pa.value + open_.pages * host_page == r.pa.value) {
                open_.pages += r.pages;
                return true;
            }
            if (open_.pages) {
                if (n_ + 1 == out_.size()) return false; // the open run takes the last slot
                out_[n_++] = open_;
            } else if (out_.empty()) {
                return false;
            }
            open_ = r;
            return true;
        }
        // How many runs there are, the open one written out.
        constexpr std::size_t finish() noexcept {
            if (open_.pages) out_[n_++] = open_;
            open_ = {};
            return n_;
        }

    private:
        std::span<pinned_run> out_;
        std::size_t n_ = 0;
        pinned_run open_{};
    };
    // A region with its layout worked out once (pin runs on every MAP_DMA's pages).
    struct entry {
        region r;
        std::uint64_t chunk = 1;      // frames come in chunks of this many consecutive pages
        std::uint64_t phys_pages = 0; // the physical span its frames are spread over
        std::uint64_t slot_mask = 0;  // permuted: chunk slots - 1 (a power of two, minus one)
        unsigned chunk_lg2 = 0;       // permuted: chunk is 2^chunk_lg2 (1 or 512 pages)
        bool permuted = false;
    };
    static constexpr entry laid_out(const region& r) noexcept {
        entry e{r};
        e.permuted = r.kind == backing::scattered || r.kind == backing::huge_2m;
        e.chunk = r.kind == backing::scattered ? 1 : r.kind == backing::huge_2m ? 512 : r.pages;
        e.phys_pages = r.pages;
        if (e.permuted) { // chunks spread over the next power of two of chunk slots
            const std::uint64_t chunks = (r.pages + e.chunk - 1) / e.chunk;
            std::uint64_t slots = 1;
            while (slots < chunks) slots <<= 1;
            e.phys_pages = slots * e.chunk;
            e.slot_mask = slots - 1;
            e.chunk_lg2 = static_cast<unsigned>(std::countr_zero(e.chunk));
        }
        return e;
    }
    static constexpr phys_addr page_at(const entry& e, std::uint64_t idx) noexcept {
        if (!e.permuted) return e.r.base + idx * host_page;
        // A bijection on [0, 2^k) chunks: multiply by an odd number, add the seed, mask.
        const std::uint64_t slot = ((idx >> e.chunk_lg2) * 0x9E3779B97F4A7C15ull + e.r.seed) & e.slot_mask;
        return e.r.base + ((slot << e.chunk_lg2) + (idx & (e.chunk - 1))) * host_page;
    }
    constexpr const entry* find(std::uint64_t va) const noexcept {
        auto it = std::upper_bound(regions_.begin(), regions_.end(), va,
                                   [](std::uint64_t v, const entry& e) { return v < e.r.vaddr; });
        if (it == regions_.begin()) return nullptr;
        --it;
        return (va - it->r.vaddr) / host_page < it->r.pages ? &*it : nullptr;
    }
    constexpr const entry* find_phys(std::uint64_t pa) const noexcept {
        for (const entry& e : regions_)
            if (pa >= e.r.base.value && (pa - e.r.base.value) / host_page < e.phys_pages) return &e;
        return nullptr;
    }

    std::vector<entry> regions_;
    std::uint64_t limit_ = ~std::uint64_t{0};
    bool lock_cap_ = false;
    std::uint64_t pinned_ = 0, pin_calls_ = 0, misuse_ = 0;
    std::optional<std::uint64_t> fail_at_;
};

static_assert(Pinner<memory_pinner>);

} // namespace passthru::type1
