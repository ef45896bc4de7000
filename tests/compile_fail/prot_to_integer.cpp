// prot is a scoped enum (PGTABLE §0.1): it does not decay to an integer, so handing it to
// a VFIO flag word or an ioctl is an explicit, reviewable static_cast.
#include <cstdint>

#include <passthru/core/prot.hpp>

int main() {
    const passthru::prot p = passthru::prot::read | passthru::prot::write;
#ifdef PASSTHRU_CONTROL
    const std::uint32_t flags = static_cast<std::uint32_t>(p);
#else
    const std::uint32_t flags = p;
#endif
    return static_cast<int>(flags);
}
// expect: (cannot convert '(const )?passthru::prot' to|cannot initialize a variable of type .* with an lvalue of type '(const )?passthru::prot')
