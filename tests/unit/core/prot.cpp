// prot flag arithmetic (PGTABLE §0.1). The flag values themselves are checked against
// the kernel's in tests/conformance/core/pgtable_0.cpp.
#include <catch2/catch.hpp>

#include <passthru/core/prot.hpp>

using passthru::prot;

namespace {
constexpr unsigned raw(prot p) { return static_cast<unsigned>(p); }
} // namespace

static_assert(raw(prot::read | prot::write) == 3);
static_assert(raw(~prot::none) == 0x3F);
static_assert(passthru::has(passthru::prot_rw, prot::write));
static_assert(!passthru::has_any(prot::cache | prot::noexec, passthru::prot_rw));

TEST_CASE("PGTABLE §0.1: | combines flags and & keeps the common ones") {
    CHECK(raw(prot::read | prot::write) == 3);
    CHECK(raw(prot::read | prot::read) == 1);
    CHECK(raw(prot::none | prot::priv) == 32);
    CHECK(raw((prot::read | prot::write | prot::cache) & prot::write) == 2);
    CHECK(raw((prot::read | prot::cache) & (prot::write | prot::noexec)) == 0);
    CHECK(raw(passthru::prot_rw) == 3);
    // The MSI doorbell mapping of SEMANTICS G.4: WRITE|NOEXEC|MMIO.
    CHECK(raw(prot::write | prot::noexec | prot::mmio) == 26);
}

TEST_CASE("PGTABLE §0.1: ~ complements within the six Linux flags only") {
    CHECK(raw(~prot::none) == 0x3F);
    CHECK(raw(~prot::read) == 0x3E);
    CHECK(raw(~(prot::read | prot::write)) == 0x3C);
    CHECK(raw(~(~prot::none)) == 0);
    CHECK(raw((prot::read | prot::write | prot::cache) & ~prot::cache) == 3);
}

TEST_CASE("PGTABLE §0.1: |= adds flags in place") {
    prot p = prot::read;
    p |= prot::write;
    CHECK(raw(p) == 3);
    p |= prot::cache; // type1 maps with prot|IOMMU_CACHE (SEMANTICS B14)
    CHECK(raw(p) == 7);
    p |= prot::none;
    CHECK(raw(p) == 7);
}

TEST_CASE("PGTABLE §0.1: has needs every flag, has_any needs one") {
    using passthru::has;
    using passthru::has_any;
    const prot rw = prot::read | prot::write;
    CHECK(has(rw, prot::read));
    CHECK(has(rw, rw));
    CHECK_FALSE(has(prot::read, rw));
    CHECK(has(prot::none, prot::none)); // the empty set is in every set
    CHECK(has(rw, prot::none));
    CHECK(has_any(prot::read, rw));
    CHECK(has_any(prot::write | prot::mmio, rw));
    CHECK_FALSE(has_any(prot::cache | prot::noexec, rw));
    CHECK_FALSE(has_any(rw, prot::none));
    // PGTABLE §0.1: a mapping with neither READ nor WRITE is refused; this is the test.
    CHECK_FALSE(has_any(prot::cache | prot::noexec | prot::mmio | prot::priv, rw));
}
