// A Bus must say how its devices group; the diagnostic names the concept and member.
#include <string_view>

#include <passthru/concepts/bus.hpp>

struct bus_without_groups {
    static constexpr std::string_view name = "acme bus";
    static constexpr passthru::bus_kind kind = passthru::bus_kind::other;
    static constexpr passthru::msi_programming msi = passthru::msi_programming::device_registers;
    static constexpr passthru::requester_id_source requester_id =
        passthru::requester_id_source::firmware_stream_id;
#ifdef PASSTHRU_CONTROL
    static constexpr passthru::grouping groups = passthru::grouping::per_device;
#endif
};

template <passthru::Bus B>
constexpr bool accepted = true;
static_assert(accepted<bus_without_groups>);

int main() {}
// expect: Bus
// expect: T::groups
