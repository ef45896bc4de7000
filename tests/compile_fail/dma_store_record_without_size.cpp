// The mapping store keeps records whole and answers "which record holds this IOVA" from
// each record's first IOVA and size (SEMANTICS 2): a record type without a size is refused
// where the store is named.
#include <cstdint>

#include <passthru/type1/dma_store.hpp>

struct mapping {
    passthru::iova iova{};
#ifdef PASSTHRU_CONTROL
    std::uint64_t size = 0;
#endif
    std::uint64_t vaddr = 0;
};

int main() {
    passthru::type1::dma_store<mapping> store;
    return static_cast<int>(store.size());
}
// expect: StoreRecord
