// An iova does not silently become a number either (DESIGN core/): reading the raw value
// is spelled `.value`, so it stands out in review.
#include <cstdint>

#include <passthru/core/address.hpp>

int main() {
    const passthru::iova io{0x1000};
#ifdef PASSTHRU_CONTROL
    const std::uint64_t raw = io.value;
#else
    const std::uint64_t raw = io;
#endif
    return static_cast<int>(raw & 1);
}
// expect: (cannot convert|no viable conversion from) '(const )?passthru::iova'
