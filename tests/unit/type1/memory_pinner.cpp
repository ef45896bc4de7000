// The in-memory pinning backend (type1/pinning.hpp): a pin call reports maximal runs of
// consecutive frames of one kind, stops when the caller's array is full, and the next
// call carries on where it stopped; the frames are those page-at-a-time pins give.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <passthru/type1/pinning.hpp>

using namespace passthru;
using type1::memory_pinner;
using type1::pinned_run;

namespace {
constexpr std::uint64_t page = type1::host_page;
constexpr std::uint64_t va = 0x7f00'0000'0000;

// Page i's frame, pinned one page per call.
std::vector<std::uint64_t> frames_one_by_one(memory_pinner& p, std::uint64_t pages) {
    std::vector<std::uint64_t> f;
    std::vector<pinned_run> one(1);
    for (std::uint64_t i = 0; i < pages; ++i) {
        const auto n = p.pin(va + i * page, 1, true, one);
        REQUIRE(n);
        REQUIRE(*n == 1);
        REQUIRE(one[0].pages == 1);
        f.push_back(one[0].pa.value);
        p.unpin(one[0].pa, 1);
    }
    return f;
}
} // namespace

TEST_CASE("type1 memory_pinner: runs are maximal, fill the caller's array and continue in the next call") {
    for (const auto kind : {memory_pinner::backing::contiguous, memory_pinner::backing::scattered,
                            memory_pinner::backing::huge_2m, memory_pinner::backing::reserved}) {
        const std::uint64_t pages = 3 * 512 + 77;
        memory_pinner p;
        REQUIRE(p.add({va, pages, kind, phys_addr{0x40'0000'0000}, true, 5}));
        const std::vector<std::uint64_t> want = frames_one_by_one(p, pages);
        const bool reserved = kind == memory_pinner::backing::reserved;
        for (const std::size_t cap : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{256}}) {
            INFO("backing " << static_cast<int>(kind) << ", " << cap << " runs per call");
            std::vector<pinned_run> out(cap);
            std::vector<std::uint64_t> got;
            std::uint64_t done = 0, calls = 0;
            while (done < pages) {
                const auto n = p.pin(va + done * page, pages - done, true, out);
                REQUIRE(n);
                REQUIRE(*n >= 1);
                REQUIRE(*n <= cap);
                ++calls;
                std::uint64_t in_call = 0;
                for (std::size_t r = 0; r < *n; ++r) {
                    CHECK(out[r].reserved == reserved);
                    if (r > 0) // maximal: a run never continues the one before it
                        CHECK(out[r].pa.value != out[r - 1].pa.value + out[r - 1].pages * page);
                    for (std::uint64_t k = 0; k < out[r].pages; ++k) got.push_back(out[r].pa.value + k * page);
                    in_call += out[r].pages;
                }
                if (done + in_call < pages) CHECK(*n == cap); // it stopped only for want of room
                done += in_call;
            }
            CHECK(got == want);
            CHECK(p.pinned_pages() == (reserved ? 0 : pages));
            if (kind == memory_pinner::backing::contiguous) CHECK(calls == 1);
            for (const std::uint64_t f : want) p.unpin(phys_addr{f}, 1);
            CHECK(p.pinned_pages() == 0);
            CHECK(p.misuse() == 0);
        }
    }
    memory_pinner p;
    REQUIRE(p.add({va, 8, memory_pinner::backing::contiguous, phys_addr{0x1000'0000}, true, 0}));
    CHECK(p.pin(va, 8, true, {}) == std::size_t{0}); // no room: nothing pinned
    CHECK(p.pinned_pages() == 0);
}
