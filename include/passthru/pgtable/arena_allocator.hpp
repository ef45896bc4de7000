#pragma once
// A PageAllocator over one caller-provided, physically contiguous buffer: what a
// static-partitioning hypervisor has (a carve-out at a known physical address), and
// what tests use to put tables at the exact addresses of PGTABLE's worked examples.
// It keeps account of every unit, so leaks, double frees and foreign frees are counted
// instead of corrupting memory (tests assert `misuse() == 0` and `live_units() == 0`).
// constexpr throughout: the storage can be a std::array inside a static_assert.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <passthru/core/address.hpp>
#include <passthru/core/error.hpp>
#include <passthru/concepts/page_allocator.hpp>

namespace passthru::pgtable {

class arena_allocator {
public:
    // `memory`: the buffer, its first word at physical address `base`. Allocations come in
    // whole units of `unit_slots` words (512 = 4 KiB), first fit, aligned to their size;
    // smaller requests (a 4-slot ARM top table) take one unit. `base` must be aligned to
    // the unit and the unit a power of two: tables must sit at aligned physical addresses
    // (PageAllocator). Given anything else the arena holds no memory and `status()` says
    // why; `create` returns that error instead.
    constexpr arena_allocator(std::span<pte_t> memory, phys_addr base,
                              std::size_t unit_slots = 512)
        : mem_(memory), base_(base), unit_(unit_slots),
          unit_bytes_lg2_(std::has_single_bit(unit_slots) ? static_cast<unsigned>(std::countr_zero(unit_slots * sizeof(pte_t))) : 0),
          status_(check(memory, base, unit_slots)),
          state_(status_ ? memory.size() / unit_slots : 0, unit_state::free) {}

    static result<arena_allocator> create(std::span<pte_t> memory, phys_addr base,
                                          std::size_t unit_slots = 512) {
        if (auto ok = check(memory, base, unit_slots); !ok) return tl::unexpected(ok.error());
        return arena_allocator(memory, base, unit_slots);
    }

    // Why the arena holds no memory, if it was given a carve-out it cannot manage.
    constexpr result<void> status() const noexcept { return status_; }

    constexpr std::optional<table_page> alloc_table(std::size_t slots) {
        const std::size_t units = units_for(slots);
        // Aligned to the allocation's size in physical space.
        const std::size_t align = units;
        std::size_t u = first_aligned(align);
        // Every unit below hint_ is taken: start there (keeps a long map linear). The unit
        // and the alignment are powers of two: masks and shifts here, no divisions (map
        // allocates a table every 2 MiB).
        if (hint_ > u) u += (hint_ - u + align - 1) & ~(align - 1);
        for (; u + units <= state_.size(); u += align) {
            if (!std::all_of(state_.begin() + static_cast<std::ptrdiff_t>(u),
                             state_.begin() + static_cast<std::ptrdiff_t>(u + units),
                             [](unit_state s) { return s == unit_state::free; }))
                continue;
            state_[u] = unit_state::head;
            std::fill(state_.begin() + static_cast<std::ptrdiff_t>(u + 1),
                      state_.begin() + static_cast<std::ptrdiff_t>(u + units), unit_state::tail);
            live_ += units;
            ++allocations_;
            if (u == hint_) hint_ = u + units;
            return table_page{phys_addr{base_.value + (std::uint64_t{u} << unit_bytes_lg2_)}, &mem_[u * unit_]};
        }
        return std::nullopt;
    }

    constexpr void free_table(table_page page, std::size_t slots) {
        const std::size_t units = units_for(slots);
        const std::optional<std::size_t> u = unit_of(page.pa);
        if (!u || page.ptr != &mem_[*u * unit_] || state_[*u] != unit_state::head ||
            *u + units > state_.size()) {
            ++misuse_;
            return;
        }
        // Freed with the size it was allocated with: its tail ends exactly here.
        bool wrong_size = *u + units < state_.size() && state_[*u + units] == unit_state::tail;
        for (std::size_t i = 1; i < units; ++i)
            if (state_[*u + i] != unit_state::tail) wrong_size = true;
        if (wrong_size) {
            ++misuse_;
            return;
        }
        std::fill(state_.begin() + static_cast<std::ptrdiff_t>(*u),
                  state_.begin() + static_cast<std::ptrdiff_t>(*u + units), unit_state::free);
        live_ -= units;
        hint_ = std::min(hint_, *u);
    }

    constexpr pte_t* table_at(phys_addr pa) const {
        return mem_.data() + (pa.value - base_.value) / sizeof(pte_t);
    }

    // Units in use now; 0 after every table has been freed.
    constexpr std::size_t live_units() const noexcept { return live_; }
    constexpr std::size_t allocations() const noexcept { return allocations_; }
    // Frees of memory that was not allocated, or not with that size.
    constexpr std::size_t misuse() const noexcept { return misuse_; }
    constexpr std::size_t capacity_units() const noexcept { return state_.size(); }

private:
    enum class unit_state : std::uint8_t { free, head, tail };

    static constexpr result<void> check(std::span<pte_t> memory, phys_addr base,
                                        std::size_t unit_slots) noexcept {
        if (unit_slots == 0 || (unit_slots & (unit_slots - 1)) != 0)
            return fail(errc::einval, "the arena's unit is not a power-of-two number of slots");
        if (base.value % (unit_slots * sizeof(pte_t)) != 0)
            return fail(errc::einval, "the arena's base is not aligned to its unit: tables "
                                      "would sit at misaligned physical addresses");
        if (memory.size() < unit_slots)
            return fail(errc::einval, "the arena's memory is smaller than one unit");
        return {};
    }

    constexpr std::size_t units_for(std::size_t slots) const noexcept {
        std::size_t units = 1;
        while (units * unit_ < slots) units *= 2;
        return units;
    }
    // First unit index whose physical address is aligned to `align` units.
    constexpr std::size_t first_aligned(std::size_t align) const noexcept {
        const std::uint64_t bytes = std::uint64_t{align} << unit_bytes_lg2_;
        const std::uint64_t mis = base_.value & (bytes - 1);
        return mis == 0 ? 0 : static_cast<std::size_t>((bytes - mis) >> unit_bytes_lg2_);
    }
    constexpr std::optional<std::size_t> unit_of(phys_addr pa) const noexcept {
        const std::uint64_t unit_bytes = std::uint64_t{1} << unit_bytes_lg2_;
        if (pa.value < base_.value || ((pa.value - base_.value) & (unit_bytes - 1)) != 0)
            return std::nullopt;
        const std::uint64_t u = (pa.value - base_.value) >> unit_bytes_lg2_;
        if (u >= state_.size()) return std::nullopt;
        return static_cast<std::size_t>(u);
    }

    std::span<pte_t> mem_;
    phys_addr base_;
    std::size_t unit_;
    unsigned unit_bytes_lg2_; // unit_ * sizeof(pte_t) is 2^unit_bytes_lg2_
    result<void> status_;
    std::vector<unit_state> state_;
    std::size_t hint_ = 0;
    std::size_t live_ = 0;
    std::size_t allocations_ = 0;
    std::size_t misuse_ = 0;
};

static_assert(PageAllocator<arena_allocator>);

} // namespace passthru::pgtable
