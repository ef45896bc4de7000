// The fuzz targets without libFuzzer (g++ builds): run every file of the corpus
// directories given on the command line, then `--random N` inputs from a fixed seed, so
// the same corpus and the same seeded inputs run on every build.
// Usage: fuzz_<target> <corpus-dir>... [--random N]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    std::size_t files = 0, random = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--random" && i + 1 < argc) {
            random = std::strtoull(argv[++i], nullptr, 10);
            continue;
        }
        for (const auto& e : std::filesystem::directory_iterator(arg)) {
            std::ifstream f(e.path(), std::ios::binary);
            const std::vector<char> bytes{std::istreambuf_iterator<char>(f), {}};
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            ++files;
        }
    }
    std::mt19937_64 rng(20261201);
    std::vector<std::uint8_t> buf;
    for (std::size_t n = 0; n < random; ++n) {
        buf.resize(16 + rng() % 1024);
        for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
        LLVMFuzzerTestOneInput(buf.data(), buf.size());
    }
    std::printf("ran %zu corpus files and %zu seeded inputs\n", files, random);
}
