#pragma once
// A plain-text table that fits a terminal width.
//
// Columns are aligned to their widest cell. When a row does not fit the width, columns
// with a `demote_rank` leave the row (highest rank first) and become labelled detail
// lines under it; if it still does not fit, `wrap` columns break between words. Every
// row may also carry detail lines of its own (a long reason, a list of ranges), indented
// under the second column and wrapped to the width. Lines break only between a cell's
// atoms, so a range like "[0x0, 0xFEDFFFFF]" is never cut in two.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace report {

// Text as unbreakable atoms, shown joined by single spaces.
struct cell {
    std::vector<std::string> atoms;

    cell() = default;
    // The words of `text` (split at spaces) are its atoms.
    cell(std::string_view text) {
        for (std::size_t i = 0; i < text.size();) {
            if (text[i] == ' ') {
                ++i;
                continue;
            }
            std::size_t j = std::min(text.find(' ', i), text.size());
            atoms.emplace_back(text.substr(i, j - i));
            i = j;
        }
    }
    cell(const char* text) : cell(std::string_view(text)) {}
    cell(const std::string& text) : cell(std::string_view(text)) {}
    // A cell whose pieces may be put on separate lines but are never broken themselves.
    static cell of_atoms(std::vector<std::string> pieces) {
        cell c;
        c.atoms = std::move(pieces);
        return c;
    }

    bool empty() const { return atoms.empty(); }
    // Width on one line.
    std::size_t width() const {
        std::size_t w = 0;
        for (const std::string& a : atoms) w += a.size() + (w ? 1 : 0);
        return w;
    }
    // Narrowest width it can be wrapped to: its longest atom.
    std::size_t min_width() const {
        std::size_t w = 0;
        for (const std::string& a : atoms) w = std::max(w, a.size());
        return w;
    }
    // Greedy fill into lines of at most `w` characters; an atom wider than `w` gets a
    // line of its own. Always at least one (possibly empty) line.
    std::vector<std::string> wrap(std::size_t w) const {
        std::vector<std::string> lines;
        std::string line;
        for (const std::string& a : atoms) {
            if (!line.empty() && line.size() + 1 + a.size() > w) {
                lines.push_back(line);
                line.clear();
            }
            line += (line.empty() ? "" : " ") + a;
        }
        if (!line.empty() || lines.empty()) lines.push_back(line);
        return lines;
    }
};

enum class align : unsigned char { left, right };

struct column {
    std::string title;
    align side = align::left;
    bool wrap = false;   // may break between words when the row is too wide
    int demote_rank = 0; // > 0: may become a detail line when the row is too wide
};

class text_table {
public:
    static constexpr std::size_t margin = 1; // spaces before the first column
    static constexpr std::size_t gap = 2;    // spaces between columns

    // Which columns a width leaves in the row, and how wide each is.
    struct layout {
        std::vector<std::size_t> in_row;  // column indices, in order
        std::vector<std::size_t> widths;  // one per in_row entry
        std::vector<std::size_t> demoted; // column indices shown as detail lines, in order
        std::size_t row_width() const {
            std::size_t w = margin;
            for (std::size_t x : widths) w += x;
            return w + (widths.empty() ? 0 : gap * (widths.size() - 1));
        }
    };

    text_table(std::vector<column> columns, std::vector<std::string> detail_labels = {})
        : columns_(std::move(columns)), detail_labels_(std::move(detail_labels)) {}

    // One cell per column, then one per detail label (empty ones are not printed).
    // `starts_group` puts a blank line before the row.
    void add_row(std::vector<cell> cells, std::vector<cell> details = {},
                 bool starts_group = false) {
        cells.resize(columns_.size());
        details.resize(detail_labels_.size());
        rows_.push_back({std::move(cells), std::move(details), starts_group});
    }

    layout fit(std::size_t width) const {
        layout l;
        for (std::size_t c = 0; c < columns_.size(); ++c) {
            l.in_row.push_back(c);
            l.widths.push_back(natural_width(c));
        }
        // Wrapping some cells onto two lines is cheaper than moving a column out of every
        // row, so first narrow the wrapping columns as far as no cell needs a third line;
        // only if that is not enough, demote the highest-ranked column and try again.
        for (;;) {
            narrow(l, width, /*two_lines=*/true);
            if (l.row_width() <= width) return l;
            std::size_t best = l.in_row.size();
            for (std::size_t k = 0; k < l.in_row.size(); ++k) {
                const int rank = columns_[l.in_row[k]].demote_rank;
                if (rank > 0 && (best == l.in_row.size() ||
                                 rank > columns_[l.in_row[best]].demote_rank))
                    best = k;
            }
            if (best == l.in_row.size()) break;
            l.demoted.push_back(l.in_row[best]);
            std::sort(l.demoted.begin(), l.demoted.end());
            l.in_row.erase(l.in_row.begin() + static_cast<std::ptrdiff_t>(best));
            l.widths.erase(l.widths.begin() + static_cast<std::ptrdiff_t>(best));
            for (std::size_t k = 0; k < l.in_row.size(); ++k) l.widths[k] = natural_width(l.in_row[k]);
        }
        narrow(l, width, /*two_lines=*/false); // the last resort: down to the longest word
        return l;
    }

    std::string render(std::size_t width) const {
        const layout l = fit(width);
        std::string out;

        std::vector<cell> titles;
        for (const column& c : columns_) titles.emplace_back(c.title);
        emit_row(out, l, titles);
        std::string rule(margin, ' ');
        for (std::size_t k = 0; k < l.widths.size(); ++k)
            rule += (k ? std::string(gap, ' ') : "") + std::string(l.widths[k], '-');
        out += rule + "\n";

        // Detail lines start under the second column, labels padded to the longest.
        std::vector<std::string> labels;
        for (std::size_t c : l.demoted) labels.push_back(columns_[c].title);
        labels.insert(labels.end(), detail_labels_.begin(), detail_labels_.end());
        std::size_t label_width = 0;
        for (const std::string& s : labels) label_width = std::max(label_width, s.size());
        const std::size_t indent = margin + (l.widths.size() > 1 ? l.widths[0] + gap : 0);
        const std::size_t used = indent + label_width + gap;
        const std::size_t value_width = width > used + 20 ? width - used : 20;

        for (std::size_t r = 0; r < rows_.size(); ++r) {
            const row& row = rows_[r];
            if (row.starts_group && r != 0) out += "\n";
            emit_row(out, l, row.cells);
            std::vector<const cell*> values;
            for (std::size_t c : l.demoted) values.push_back(&row.cells[c]);
            for (const cell& d : row.details) values.push_back(&d);
            for (std::size_t i = 0; i < values.size(); ++i) {
                if (values[i]->empty()) continue;
                const std::vector<std::string> lines = values[i]->wrap(value_width);
                for (std::size_t n = 0; n < lines.size(); ++n) {
                    std::string label = n == 0 ? labels[i] : "";
                    label.resize(label_width, ' ');
                    out += std::string(indent, ' ') + label + std::string(gap, ' ') + lines[n] + "\n";
                }
            }
        }
        return out;
    }

private:
    struct row {
        std::vector<cell> cells;
        std::vector<cell> details;
        bool starts_group = false;
    };

    std::size_t natural_width(std::size_t c) const {
        std::size_t w = cell(columns_[c].title).width();
        for (const row& r : rows_) w = std::max(w, r.cells[c].width());
        return w;
    }
    std::size_t min_width(std::size_t c) const {
        std::size_t w = cell(columns_[c].title).min_width();
        for (const row& r : rows_) w = std::max(w, r.cells[c].min_width());
        return w;
    }

    // The narrowest width at which no cell of column `c` (title included) takes more
    // than two lines.
    std::size_t two_line_width(std::size_t c) const {
        auto fits = [&](std::size_t w) {
            if (cell(columns_[c].title).wrap(w).size() > 2) return false;
            for (const row& r : rows_)
                if (r.cells[c].wrap(w).size() > 2) return false;
            return true;
        };
        std::size_t w = min_width(c);
        while (!fits(w)) ++w;
        return w;
    }

    // Lines column `c`'s cells take at width `w`, over all rows.
    std::size_t line_count(std::size_t c, std::size_t w) const {
        std::size_t n = 0;
        for (const row& r : rows_) n += r.cells[c].wrap(w).size();
        return n;
    }

    // Narrow the wrapping columns one character at a time, each time the one whose
    // narrowing adds the fewest lines (the wider on a tie), until the row fits or every
    // wrapping column is at its limit (two lines per cell, or its longest word).
    void narrow(layout& l, std::size_t width, bool two_lines) const {
        while (l.row_width() > width) {
            std::size_t best = l.in_row.size(), best_cost = 0;
            for (std::size_t k = 0; k < l.in_row.size(); ++k) {
                const std::size_t c = l.in_row[k];
                const std::size_t limit = two_lines ? two_line_width(c) : min_width(c);
                if (!columns_[c].wrap || l.widths[k] <= limit) continue;
                const std::size_t cost = line_count(c, l.widths[k] - 1) - line_count(c, l.widths[k]);
                if (best == l.in_row.size() || cost < best_cost ||
                    (cost == best_cost && l.widths[k] > l.widths[best])) {
                    best = k;
                    best_cost = cost;
                }
            }
            if (best == l.in_row.size()) return;
            --l.widths[best];
        }
    }

    void emit_row(std::string& out, const layout& l, const std::vector<cell>& cells) const {
        std::vector<std::vector<std::string>> wrapped;
        std::size_t height = 1;
        for (std::size_t k = 0; k < l.in_row.size(); ++k) {
            wrapped.push_back(cells[l.in_row[k]].wrap(l.widths[k]));
            height = std::max(height, wrapped.back().size());
        }
        for (std::size_t n = 0; n < height; ++n) {
            std::string line(margin, ' ');
            for (std::size_t k = 0; k < l.in_row.size(); ++k) {
                const std::string text = n < wrapped[k].size() ? wrapped[k][n] : "";
                const std::string pad(l.widths[k] > text.size() ? l.widths[k] - text.size() : 0, ' ');
                if (k) line += std::string(gap, ' ');
                line += columns_[l.in_row[k]].side == align::right ? pad + text : text + pad;
            }
            line.erase(line.find_last_not_of(' ') + 1);
            out += line + "\n";
        }
    }

    std::vector<column> columns_;
    std::vector<std::string> detail_labels_;
    std::vector<row> rows_;
};

} // namespace report
