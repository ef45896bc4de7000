#pragma once
// A VFIO type1 container (SEMANTICS §2): its groups and domains, the usable-IOVA list and
// the DMA mappings, driven with the kernel's evaluation order and errno for every
// operation (§A–§E). This is the only place engine state lives. Every failing operation
// leaves the container, its domains' page tables and the pinned pages as they were: the
// checks come first, the IOVA list is edited on a copy, a mapping enters the store only
// once it is in every domain, and a partial map is undone before the error returns.
//
// The platform P decides MSI isolation and the prot added to every mapping; the factory
// F allocates the domains (real page tables by default); the pinner supplies the pages;
// the kernel profile K says which kernel's behaviour to reproduce (type1/profile.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <passthru/concepts/platform.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/interval_set.hpp>
#include <passthru/core/reserved_region.hpp>
#include <passthru/policy/attach.hpp>
#include <passthru/policy/msi_strategy.hpp>
#include <passthru/type1/abi.hpp>
#include <passthru/type1/dma.hpp>
#include <passthru/type1/dma_store.hpp>
#include <passthru/type1/domain_factory.hpp>
#include <passthru/type1/group.hpp>
#include <passthru/type1/iova_list.hpp>
#include <passthru/type1/kernel_dma_tree.hpp>
#include <passthru/type1/pinning.hpp>
#include <passthru/type1/profile.hpp>

namespace passthru::type1 {

// SET_IOMMU's argument (SEMANTICS §2 "Open"): v1 unmaps whole mappings from where a range
// starts inside none; v2 refuses to bisect (C9).
enum class iommu_mode : std::uint8_t { v1, v2 };

// The module parameters, sampled as the kernel samples them.
struct container_options {
    std::uint32_t dma_entry_limit = 65535; // at open (§1.2)
    bool allow_unsafe_interrupts = false;  // at every attach (P8); set_allow_unsafe_interrupts
    bool disable_hugepages = false;        // one page per pinned run (B14)
    // Not type1: report the IOMMU's own record of device writes (its tables' dirty bits, as
    // iommufd's GET_DIRTY_BITMAP does) instead of every page of every mapping (D7), so a
    // migrating VMM copies only what devices wrote. Needs domains whose tables record
    // writes (table_domains<I, A, pgtable::domain_tables::dirty_tracking>); dirty START is
    // EOPNOTSUPP otherwise.
    bool iommu_dirty = false;
};

// GET_INFO as values (SEMANTICS E1, D8); type1/info.hpp gives the bytes.
struct info_values {
    std::uint64_t iova_pgsizes = 0;
    std::uint64_t migration_pgsize = 0;
    std::uint64_t max_dirty_bitmap_size = abi::dirty_bitmap_size_max;
    std::uint32_t dma_avail = 0;
    interval_list iova_ranges{};
    constexpr bool operator==(const info_values&) const = default;
};

// Everything a failed operation must leave as it was, but the domains' tables (compared
// through the domains themselves).
struct container_state {
    std::vector<dma> dmas;
    interval_list iova_list;
    std::uint32_t dma_avail = 0;
    std::uint64_t pgsize_bitmap = 0;
    std::uint64_t locked_vm = 0;
    std::uint32_t non_pinned_groups = 0;
    std::uint64_t vaddr_invalid = 0;
    bool dirty_tracking = false;
    std::vector<std::vector<std::uint32_t>> domain_groups;
    std::vector<std::optional<std::uint64_t>> msi_cookies;
    std::vector<std::uint32_t> emulated_groups;
    constexpr bool operator==(const container_state&) const = default;
};

template <Platform P, DomainFactory F, Pinner Pn, KernelProfile K = profiles::upstream>
class container {
public:
    using platform = P;
    using profile = K;
    using domain_type = typename F::domain_type;
    // The kernel's own tree where its lookups differ from an ordered store's (P5).
    using store_type = std::conditional_t<K::facts.top_end_wraps, kernel_dma_tree<dma>, dma_store<dma>>;

    // One IOMMU domain of the container and the groups attached to it (SEMANTICS §2 item 2).
    struct domain_entry {
        domain_type dom;
        std::vector<group> groups;
        bool enforce_cache_coherency = false;
        std::uint32_t iommu_unit = 0;
        std::optional<std::uint64_t> msi_cookie; // iommu_get_msi_cookie base (A18)
    };

    constexpr container(iommu_mode mode, F& factory, Pn& pinner, container_options opt = {})
        : mode_(mode), factory_(&factory), pinner_(&pinner), opt_(opt), dma_avail_(opt.dma_entry_limit) {}
    container(const container&) = delete;
    container& operator=(const container&) = delete;
    // Release (§2): every mapping removed, every domain freed.
    constexpr ~container() {
        remove_all_dmas();
        for (domain_entry* d : domains_) delete d;
    }

    // --- attach / detach (SEMANTICS §A, §A.2) -----------------------------------------
    constexpr result<void> attach(const group& g);
    constexpr result<void> detach(std::uint32_t group_id);

    // --- map / unmap (SEMANTICS §B, §C) ------------------------------------------------
    // MAP_DMA with READ/WRITE from `p` (B5: at least one of them).
    constexpr result<void> map(passthru::iova io, std::uint64_t size, std::uint64_t vaddr, prot p) {
        return do_map(io.value, size, vaddr, flags_of(p));
    }
    // MAP_DMA with VADDR: give an invalidated mapping its new process address (B9).
    constexpr result<void> update_vaddr(passthru::iova io, std::uint64_t size, std::uint64_t vaddr) {
        return do_map(io.value, size, vaddr, abi::map_flag::vaddr);
    }
    // UNMAP_DMA; the bytes unmapped (whole mappings, C10-C11).
    constexpr result<std::uint64_t> unmap(passthru::iova io, std::uint64_t size) {
        return do_unmap(io.value, size, 0, {});
    }
    constexpr result<std::uint64_t> unmap_all() { return do_unmap(0, 0, abi::unmap_flag::all, {}); }
    // UNMAP_DMA with VADDR: mark the mappings' process addresses invalid (live update).
    constexpr result<std::uint64_t> invalidate_vaddr(passthru::iova io, std::uint64_t size, bool all = false) {
        return do_unmap(io.value, size, abi::unmap_flag::vaddr | (all ? abi::unmap_flag::all : 0), {});
    }
    // UNMAP_DMA with GET_DIRTY_BITMAP: the user's bitmap, `pgsize` bytes per bit.
    struct user_bitmap {
        std::uint64_t pgsize = 0;
        std::span<std::uint64_t> words{};
        std::uint64_t bytes = 0; // the size the user gave (bitmap.size); 0: words' size
        constexpr std::uint64_t size() const noexcept { return bytes ? bytes : words.size_bytes(); }
    };
    constexpr result<std::uint64_t> unmap_with_bitmap(passthru::iova io, std::uint64_t size, user_bitmap b) {
        return do_unmap(io.value, size, abi::unmap_flag::get_dirty_bitmap, b);
    }
    // Any flag combination, as the ABI face passes it on after its argsz/flag checks.
    constexpr result<std::uint64_t> do_unmap(std::uint64_t iova, std::uint64_t size, std::uint32_t flags,
                                             std::optional<user_bitmap> bitmap);
    constexpr result<void> do_map(std::uint64_t iova, std::uint64_t size, std::uint64_t vaddr, std::uint32_t flags);

    // --- dirty tracking (SEMANTICS §D) -------------------------------------------------
    constexpr result<void> dirty_start();
    constexpr result<void> dirty_stop();
    constexpr result<void> dirty_get(passthru::iova io, std::uint64_t size, user_bitmap b);

    // --- queries (SEMANTICS §E) ---------------------------------------------------------
    constexpr info_values info() const {
        return {pgsize_bitmap_, pgsize_bitmap_ & (~pgsize_bitmap_ + 1), abi::dirty_bitmap_size_max,
                dma_avail_, iova_list_};
    }
    // CHECK_EXTENSION on a container with this backend set (E2, A.3).
    constexpr int check_extension(abi::extension e) const noexcept {
        switch (e) {
        case abi::extension::type1:
        case abi::extension::type1v2:
        case abi::extension::unmap_all: return 1;
        case abi::extension::type1_nesting: return K::facts.nesting ? 1 : 0;
        case abi::extension::update_vaddr: return K::facts.vaddr_rules_v6_3 ? (emulated_.empty() ? 1 : 0) : 1;
        case abi::extension::dma_cc_iommu:
            return std::all_of(domains_.begin(), domains_.end(),
                               [](const domain_entry* d) { return d->enforce_cache_coherency; })
                       ? 1 : 0;
        default: return 0;
        }
    }

    constexpr iommu_mode mode() const noexcept { return mode_; }
    constexpr const store_type& mappings() const noexcept { return dmas_; }
    constexpr const interval_list& iova_list() const noexcept { return iova_list_; }
    constexpr std::uint64_t pgsize_bitmap() const noexcept { return pgsize_bitmap_; }
    constexpr std::uint64_t min_pgsize() const noexcept { return pgsize_bitmap_ & (~pgsize_bitmap_ + 1); }
    constexpr std::uint32_t dma_avail() const noexcept { return dma_avail_; }
    constexpr std::uint64_t locked_vm() const noexcept { return locked_vm_; }
    constexpr bool dirty_tracking() const noexcept { return dirty_tracking_; }
    constexpr std::size_t domain_count() const noexcept { return domains_.size(); }
    // Domains in list order: the head is the newest, and the one unmap reads pages from.
    constexpr const domain_entry& domain(std::size_t i) const noexcept { return *domains_[i]; }
    constexpr domain_entry& domain(std::size_t i) noexcept { return *domains_[i]; }
    constexpr bool has_emulated_groups() const noexcept { return !emulated_.empty(); }
    constexpr void set_allow_unsafe_interrupts(bool on) noexcept { opt_.allow_unsafe_interrupts = on; }

    constexpr container_state state() const {
        container_state s{{}, iova_list_, dma_avail_, pgsize_bitmap_, locked_vm_, num_non_pinned_,
                          vaddr_invalid_count_, dirty_tracking_, {}, {}, {}};
        for (const dma& d : dmas_) s.dmas.push_back(d);
        for (const domain_entry* d : domains_) {
            s.domain_groups.emplace_back();
            for (const group& g : d->groups) s.domain_groups.back().push_back(g.id);
            s.msi_cookies.push_back(d->msi_cookie);
        }
        for (const group& g : emulated_) s.emulated_groups.push_back(g.id);
        return s;
    }

private:
    static constexpr std::uint32_t flags_of(prot p) noexcept {
        return (has(p, prot::read) ? abi::map_flag::read : 0) | (has(p, prot::write) ? abi::map_flag::write : 0);
    }
    constexpr tl::unexpected<error> overflow(std::string_view why) const noexcept {
        return fail(K::facts.overflow_is_eoverflow ? errc::eoverflow : errc::einval, why);
    }
    constexpr bool has_group(std::uint32_t id) const noexcept {
        auto same = [id](const group& g) { return g.id == id; };
        if (std::any_of(emulated_.begin(), emulated_.end(), same)) return true;
        for (const domain_entry* d : domains_)
            if (std::any_of(d->groups.begin(), d->groups.end(), same)) return true;
        return false;
    }
    constexpr bool dma_overlaps(const interval& r) const { return dmas_.first_overlapping(r) != dmas_.end(); }

    // vfio_update_pgsize_bitmap (E3).
    constexpr void update_pgsize_bitmap() noexcept {
        std::uint64_t b = ~std::uint64_t{0};
        for (const domain_entry* d : domains_) b &= d->dom.pgsizes().bits;
        if (b & (host_page - 1)) {
            b &= ~(host_page - 1);
            b |= host_page;
        }
        pgsize_bitmap_ = b;
    }
    // Every domain in list order, kept with the list: map and unmap run per mapping.
    constexpr std::span<domain_type* const> all_domains() const noexcept { return targets_; }
    constexpr void domains_changed() {
        targets_.clear();
        for (domain_entry* d : domains_) targets_.push_back(&d->dom);
        update_pgsize_bitmap();
    }

    constexpr result<std::uint64_t> pin_map(const dma& d, std::span<domain_type* const> targets,
                                            std::uint64_t pending = 0);
    constexpr void unmap_unpin(std::span<domain_type* const> targets, passthru::iova io, std::uint64_t size);
    struct phys_run {
        phys_addr pa;
        std::uint64_t len;
    };
    static constexpr std::optional<phys_run> contiguous_run(const domain_type& dom, passthru::iova io,
                                                            std::uint64_t max);
    // vfio_remove_dma: what the mapping holds goes back (its pages, its accounting), then
    // the mapping leaves the store. Returns the mapping after it.
    constexpr void release_dma(dma& d);
    constexpr typename store_type::iterator remove_dma(typename store_type::iterator it) {
        release_dma(*it);
        return dmas_.erase(it);
    }
    // Every mapping, as remove_dma would take them one after another (closing, the last
    // group leaving, UNMAP_ALL), then one clear of the store instead of an erase and a leaf
    // rebalance each.
    constexpr void remove_all_dmas() {
        for (dma& d : dmas_) release_dma(d);
        dmas_.clear();
    }
    constexpr void report_dirty(dma& d, std::uint64_t base, std::uint64_t pgsize, std::span<std::uint64_t> user);
    constexpr void harvest_iommu_dirty(dma& d, std::span<std::uint64_t> into, const domain_entry* only = nullptr);
    constexpr bool bisects(std::uint64_t first, std::uint64_t last) const {
        auto a = dmas_.containing(passthru::iova{first});
        if (a != dmas_.end() && a->iova.value != first) return true;
        auto b = dmas_.containing(passthru::iova{last});
        return b != dmas_.end() && b->last() != last;
    }

    iommu_mode mode_;
    F* factory_;
    Pn* pinner_;
    container_options opt_;
    std::vector<domain_entry*> domains_; // owned; head first
    std::vector<domain_type*> targets_;  // their domains, same order
    std::vector<group> emulated_;
    interval_list iova_list_;
    store_type dmas_;
    std::uint32_t dma_avail_;
    std::uint64_t pgsize_bitmap_ = ~(host_page - 1); // PAGE_MASK at open
    std::uint32_t num_non_pinned_ = 0;
    bool dirty_tracking_ = false;
    std::uint64_t vaddr_invalid_count_ = 0;
    std::uint64_t locked_vm_ = 0;
};

} // namespace passthru::type1

#include <passthru/type1/attach.hpp>
#include <passthru/type1/dirty.hpp>
#include <passthru/type1/map_unmap.hpp>
