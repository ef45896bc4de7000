// Fuzz target: the IOMMU-core page split (SEMANTICS G1.2, G1.3) against the independent
// checker of tests/support/page_split_checker.hpp: for any bitmap and any aligned request
// that does not wrap, the runs tile the request and no page could have been bigger.
#include <cstdint>
#include <string>

#include <passthru/core/page_size.hpp>

#include "fuzz_input.hpp"
#include "page_split_checker.hpp"

using namespace passthru;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    pgsize_bitmap b{in.u64() & ~std::uint64_t{0xFFF}};
    if (b.empty()) b.bits = 0x1000;
    const std::uint64_t min = b.min_pgsize();
    std::uint64_t io = in.u64() & ~(min - 1);
    std::uint64_t pa = in.u64() & ~(min - 1);
    if (in.byte() % 2) pa = (pa & ~(b.max_pgsize() - 1)) | (io & (b.max_pgsize() - 1)); // co-aligned
    std::uint64_t len = in.u64() & ~(min - 1);
    const std::uint64_t room_io = io ? 0 - io : ~std::uint64_t{0} & ~(min - 1);
    const std::uint64_t room_pa = pa ? 0 - pa : ~std::uint64_t{0} & ~(min - 1);
    if (len > room_io) len = room_io;
    if (len > room_pa) len = room_pa;
    if (len == 0) return 0;
    const std::string err = testing::check_split(b, io, pa, len, testing::runs(b, io, pa, len));
    if (!err.empty()) fuzz::fail(err.c_str());
    return 0;
}
