#pragma once
// A domain with the geometry of iommufd's selftest mock (SEMANTICS §1.4): aperture
// [2^24, 2^31-1], one page size of P/2 (2048 bytes), no reserved regions, enforced
// coherency. It keeps its mappings as plain records instead of page tables, so a
// container over it runs in constant evaluation, and it can be told to fail (fault
// injection): the n-th map call, or the n-th domain it is asked to create.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <passthru/concepts/iommu_domain.hpp>
#include <passthru/core/error.hpp>
#include <passthru/type1/group.hpp>

namespace passthru::type1 {

class mock_domain {
public:
    static constexpr std::uint64_t io_page = 2048;                       // MOCK_IO_PAGE_SIZE
    static constexpr interval mock_aperture{std::uint64_t{1} << 24, (std::uint64_t{1} << 31) - 1};
    static constexpr iommu_caps caps{.cache_coherency = true, .enforce_cache_coherency = true};

    struct entry {
        passthru::iova iova{};
        phys_addr pa{};
        std::uint64_t size = 0;
        prot perm = prot::none;
        constexpr bool operator==(const entry&) const = default;
    };

    constexpr mock_domain() = default;
    constexpr explicit mock_domain(std::optional<std::uint64_t> fail_map_call) : fail_at_(fail_map_call) {}

    constexpr result<void> map(passthru::iova io, phys_addr pa, std::uint64_t size, prot p) {
        ++map_calls_;
        if (fail_at_ && map_calls_ == *fail_at_) return fail(errc::enomem, "injected domain map failure");
        if (size == 0 || (io.value | pa.value | size) % io_page != 0)
            return fail(errc::einval, "not aligned to the mock's page size (SEMANTICS G1.2)");
        const auto r = interval::from_size(io.value, size);
        if (!r || !mock_aperture.contains(*r)) return fail(errc::efault, "outside the mock aperture");
        auto it = lower(io.value);
        if (it != entries_.begin() && last_of(*std::prev(it)) >= io.value)
            return fail(errc::eexist, "already mapped");
        if (it != entries_.end() && it->iova.value <= r->last) return fail(errc::eexist, "already mapped");
        entries_.insert(it, entry{io, pa, size, p});
        return {};
    }

    // Removes [io, io+size) page by page, stopping at the first hole (SEMANTICS G1.5).
    constexpr std::uint64_t unmap(passthru::iova io, std::uint64_t size) {
        if (size == 0 || (io.value | size) % io_page != 0) return 0;
        std::uint64_t done = 0;
        while (done < size) {
            const std::uint64_t cur = io.value + done;
            auto it = containing(cur);
            if (it == entries_.end()) break;
            const entry e = *it;
            const std::uint64_t take = std::min(last_of(e) - cur + 1, size - done);
            it = entries_.erase(it);
            if (cur > e.iova.value) it = std::next(entries_.insert(it, entry{e.iova, e.pa, cur - e.iova.value, e.perm}));
            if (cur + take - 1 < last_of(e)) {
                const std::uint64_t off = cur + take - e.iova.value;
                entries_.insert(it, entry{e.iova + off, e.pa + off, e.size - off, e.perm});
            }
            done += take;
        }
        return done;
    }

    constexpr std::optional<phys_addr> iova_to_phys(passthru::iova io) const {
        auto it = const_cast<mock_domain*>(this)->containing(io.value);
        if (it == entries_.end()) return std::nullopt;
        return it->pa + (io.value - it->iova.value);
    }

    constexpr pgsize_bitmap pgsizes() const noexcept { return pgsize_bitmap{io_page}; }
    constexpr interval aperture() const noexcept { return mock_aperture; }
    constexpr reserved_region_list reserved_regions() const { return {}; }
    constexpr bool enforce_cache_coherency() const noexcept { return true; }

    // Fault injection: the n-th map call from now (1 = the next) fails with ENOMEM.
    constexpr void fail_map_call(std::uint64_t n) noexcept { fail_at_ = map_calls_ + n; }
    constexpr std::uint64_t map_calls() const noexcept { return map_calls_; }

    constexpr const std::vector<entry>& entries() const noexcept { return entries_; }
    constexpr bool operator==(const mock_domain& o) const noexcept { return entries_ == o.entries_; }

private:
    static constexpr std::uint64_t last_of(const entry& e) noexcept { return e.iova.value + (e.size - 1); }
    constexpr std::vector<entry>::iterator lower(std::uint64_t a) {
        return std::lower_bound(entries_.begin(), entries_.end(), a,
                                [](const entry& e, std::uint64_t v) { return e.iova.value < v; });
    }
    constexpr std::vector<entry>::iterator containing(std::uint64_t a) {
        auto it = std::upper_bound(entries_.begin(), entries_.end(), a,
                                   [](std::uint64_t v, const entry& e) { return v < e.iova.value; });
        if (it == entries_.begin()) return entries_.end();
        --it;
        return last_of(*it) >= a ? it : entries_.end();
    }

    std::vector<entry> entries_;
    std::uint64_t map_calls_ = 0;
    std::optional<std::uint64_t> fail_at_;
};

static_assert(IommuDomain<mock_domain>);

// Makes mock domains for a container; `fail_create_call(n)` makes the n-th creation from
// now fail, `fail_map_call(n)` makes every new domain fail its n-th map.
class mock_domains {
public:
    using domain_type = mock_domain;
    constexpr result<void> create(const group&, std::optional<mock_domain>& out) {
        ++creates_;
        if (fail_create_at_ && creates_ == *fail_create_at_) return fail(errc::enomem, "injected domain allocation failure");
        out.emplace(fail_map_at_);
        return {};
    }
    constexpr void fail_create_call(std::uint64_t n) noexcept { fail_create_at_ = creates_ + n; }
    constexpr void fail_map_call(std::optional<std::uint64_t> n) noexcept { fail_map_at_ = n; }
    constexpr void clear_faults() noexcept { fail_create_at_.reset(); fail_map_at_.reset(); }

private:
    std::uint64_t creates_ = 0;
    std::optional<std::uint64_t> fail_create_at_, fail_map_at_;
};

} // namespace passthru::type1
