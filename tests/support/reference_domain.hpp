#pragma once
// A reference IommuDomain for tests: leaves kept in an ordered map instead of a page
// table, with the IOMMU-core rules of SEMANTICS G1 (split, all-or-nothing map, unmap
// that removes whole leaves) and the static facts of a catalog IOMMU. It proves the
// concept is satisfiable and gives policy tests a domain to talk to; the bit-exact
// page tables live in include/passthru/pgtable/.
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>

#include <passthru/concepts/iommu.hpp>
#include <passthru/concepts/iommu_domain.hpp>
#include <passthru/core/error.hpp>
#include <passthru/core/interval.hpp>
#include <passthru/core/page_size.hpp>
#include <passthru/core/prot.hpp>
#include <passthru/core/reserved_region.hpp>

namespace passthru::testing {

template <Iommu I>
class reference_domain {
public:
    static constexpr iommu_caps caps = I::caps;

    struct leaf {
        phys_addr pa;
        std::uint64_t size;
        prot perm;
    };

    result<void> map(iova io, phys_addr pa, std::uint64_t size, prot p) {
        const pgsize_bitmap b = I::pgsizes;
        if (b.empty()) return fail(errc::enodev, "domain has no page sizes");            // G1.1
        if (size == 0 || !aligned_for(b, io, pa, size))
            return fail(errc::einval, "iova, paddr or size not aligned to the min page"); // G1.2
        if (!has_any(p, prot::read | prot::write))
            return fail(errc::einval, "a mapping needs READ or WRITE");                  // PGTABLE §0.1
        const auto range = interval::from_size(io.value, size);
        if (!range || !I::aperture.contains(*range))
            return fail(errc::einval, "range outside the aperture");
        if (overlaps(*range)) return fail(errc::eexist, "range already mapped");
        for (const page_run& run : page_split(b, io, pa, size))                          // G1.3
            for (std::uint64_t i = 0; i < run.count; ++i)
                leaves_[run.io.value + i * run.pgsize] =
                    leaf{run.pa + i * run.pgsize, run.pgsize, p};
        return {};
    }

    // SEMANTICS G1.5: misaligned → 0; otherwise remove leaves from `io` on while they are
    // contiguous, a leaf counting whole even when it reaches past the request.
    std::uint64_t unmap(iova io, std::uint64_t size) {
        const std::uint64_t min = I::pgsizes.min_pgsize();
        if (min == 0 || ((io.value | size) & (min - 1)) != 0) return 0;
        std::uint64_t done = 0;
        while (done < size) {
            auto it = leaves_.find(io.value + done);
            if (it == leaves_.end()) break;
            done += it->second.size;
            leaves_.erase(it);
            if (io.value + done == 0) break; // removed the leaf ending at 2^64-1
        }
        return done;
    }

    std::optional<phys_addr> iova_to_phys(iova io) const {
        auto it = leaves_.upper_bound(io.value);
        if (it == leaves_.begin()) return std::nullopt;
        --it;
        if (io.value - it->first >= it->second.size) return std::nullopt;
        return it->second.pa + (io.value - it->first);
    }

    pgsize_bitmap pgsizes() const { return I::pgsizes; }
    interval aperture() const { return I::aperture; }
    reserved_region_list reserved_regions() const { return merge_resv_regions(I::reserved_regions); }
    bool enforce_cache_coherency() const { return I::caps.enforce_cache_coherency; }

    const std::map<std::uint64_t, leaf>& leaves() const { return leaves_; }

private:
    bool overlaps(const interval& r) const {
        auto it = leaves_.upper_bound(r.last);
        if (it == leaves_.begin()) return false;
        --it; // the last leaf starting at or before r.last
        return it->first + (it->second.size - 1) >= r.first;
    }

    std::map<std::uint64_t, leaf> leaves_;
};

} // namespace passthru::testing
