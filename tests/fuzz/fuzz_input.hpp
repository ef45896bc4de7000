#pragma once
// The fuzz targets' input: a byte string read as a stream of small integers, so that
// libFuzzer's mutations map to nearby operations. Past the end every read is 0.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace passthru::fuzz {

class input {
public:
    input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::uint64_t u64(unsigned bytes = 8) {
        std::uint64_t v = 0;
        for (unsigned i = 0; i < bytes; ++i) v |= std::uint64_t{byte()} << (8 * i);
        return v;
    }
    // A value in [0, n), n > 0.
    std::uint64_t below(std::uint64_t n) { return u64(n > 0xFFFF ? 8 : 2) % n; }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// A fuzz finding: print what broke and abort, which libFuzzer and the driver report.
[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "fuzz: %s\n", what);
    std::abort();
}
inline void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

} // namespace passthru::fuzz
