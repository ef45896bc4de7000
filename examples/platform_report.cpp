// platform_report: for every platform in passthru's catalog, what Linux VFIO type1 would
// decide when a device is attached (MSI isolation under the current and older kernel
// rules), why, how MSIs get through, which page sizes a domain offers and which IOVA
// ranges are usable. The project's main job (scripts/report).
//
//   platform_report              a table sized to the terminal (80-200 columns)
//   platform_report --width N    a table N columns wide
//   platform_report --markdown   the tables of docs/platforms.md
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <sys/ioctl.h>
#include <unistd.h>

#include "report/catalog_rows.hpp"
#include "report/markdown.hpp"
#include "report/text_report.hpp"

namespace {

constexpr std::size_t min_width = 80, max_width = 200, default_width = 120;

std::optional<std::size_t> parse_width(std::string_view s) {
    std::size_t w = 0;
    if (s.empty() || s.size() > 4) return std::nullopt;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        w = w * 10 + static_cast<std::size_t>(c - '0');
    }
    return w;
}

// --width, else the terminal's width, else $COLUMNS, else a width that reads well in a
// log; always clamped to the 80-200 columns the layout is designed for.
std::size_t output_width(std::optional<std::size_t> requested) {
    std::size_t w = default_width;
    winsize ws{};
    if (requested) {
        w = *requested;
    } else if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col) {
        w = ws.ws_col;
    } else if (const char* env = std::getenv("COLUMNS")) {
        w = parse_width(env).value_or(default_width);
    }
    return w < min_width ? min_width : w > max_width ? max_width : w;
}

int usage() {
    std::cerr << "usage: platform_report [--width N | --markdown]\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    bool markdown = false;
    std::optional<std::size_t> width;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--markdown") {
            markdown = true;
        } else if (arg == "--width" && i + 1 < argc) {
            width = parse_width(argv[++i]);
            if (!width) return usage();
        } else {
            return usage();
        }
    }

    const auto rows = report::catalog_rows();
    if (markdown)
        std::cout << report::markdown_report(rows);
    else
        std::cout << report::text_report(rows, output_width(width));
    return 0;
}
