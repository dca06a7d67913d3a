// Labelled heatmap grids through gnuplot (see heatmap_grid.hpp). Every
// position is computed in pixels and handed to gnuplot as screen
// coordinates; each panel is one `plot … matrix with image` of a multiplot.
#include "experiments/lib/heatmap_grid.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/lib/gnuplot_run.hpp"
#include "experiments/lib/report.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;

// Layout in pixels (a 9-pt font is about kCharWidth wide per character).
constexpr double kCharWidth = 6.3;
constexpr int kGap = 14, kTitleHeight = 30, kColumnTitleHeight = 18, kCaptionLine = 13, kBottom = 10;
constexpr int kColourBarWidth = 16, kColourBarArea = 120, kIndexTics = 22;
constexpr int kTitleLine = 16;              // height of each further line of a wrapped title
constexpr double kTitleFontRatio = 11.0 / 9;  // the title's 11-pt glyphs against the 9-pt kCharWidth

std::size_t text_width(const std::string& text) {
  std::size_t glyphs = 0;  // UTF-8: count lead bytes only
  for (unsigned char c : text) glyphs += (c & 0xC0) != 0x80;
  return static_cast<std::size_t>(kCharWidth * double(glyphs)) + 1;
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole).
std::vector<std::string> wrapped(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::string line, word;
  std::istringstream words(text);
  while (words >> word) {
    if (!line.empty() && text_width(line + " " + word) > std::size_t(double(width) * kCharWidth)) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::vector<double> finite_cells(const Tensor<double>& values) {
  std::vector<double> cells;
  for (double v : values)
    if (!std::isnan(v)) cells.push_back(v);
  return cells;
}

void check_grid(const HeatmapGridSpec& spec, const std::vector<std::vector<HeatmapPanel>>& rows) {
  if (rows.empty() || rows.front().empty()) throw ShapeError("heatmap grid: no panels");
  const std::size_t cols = rows.front().size();
  if (spec.column_titles.size() != cols) {
    throw ShapeError("heatmap grid: " + std::to_string(spec.column_titles.size()) + " column titles for " +
                     std::to_string(cols) + " columns");
  }
  if (spec.row_labels.size() != rows.size()) {
    throw ShapeError("heatmap grid: " + std::to_string(spec.row_labels.size()) + " row labels for " +
                     std::to_string(rows.size()) + " rows");
  }
  if (!(spec.clip_percentile > 0 && spec.clip_percentile <= 100)) {
    throw InputError("heatmap grid: clip percentile must be in (0, 100], got " + format_number(spec.clip_percentile));
  }
  if (spec.panel_pixels < 16 || spec.panel_pixels > 2000) {
    throw InputError("heatmap grid: panel size must be 16..2000 pixels, got " + std::to_string(spec.panel_pixels));
  }
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != cols) {
      throw ShapeError("heatmap grid: row " + std::to_string(r) + " has " + std::to_string(rows[r].size()) +
                       " panels, row 0 has " + std::to_string(cols));
    }
    for (std::size_t c = 0; c < cols; ++c) {
      const HeatmapPanel& p = rows[r][c];
      const std::string where = "heatmap grid panel (" + std::to_string(r) + ", " + std::to_string(c) + ")";
      if (p.values.dimension() != 2 || p.values.shape()[0] == 0 || p.values.shape()[1] == 0) {
        throw ShapeError(where + ": expected a non-empty 2-D array, got shape " + shape_str(shape_of(p.values)));
      }
      for (double v : p.values)
        if (std::isinf(v)) throw InputError(where + " has an infinite value");
      for (const auto& m : p.marks) {
        if (m[0] < 0 || m[1] < 0 || std::size_t(m[0]) >= p.values.shape()[0] ||
            std::size_t(m[1]) >= p.values.shape()[1]) {
          throw InputError(where + ": mark (" + std::to_string(m[0]) + ", " + std::to_string(m[1]) +
                           ") lies outside the panel");
        }
      }
    }
  }
}

/// gnuplot's `with image` needs at least two rows and two columns to size its
/// pixels, so a 1 × w (or h × 1) panel is drawn with every cell repeated along
/// that axis: `repeat` is 2 for an axis of length 1, else 1.
std::size_t repeat_of(std::size_t length) { return length == 1 ? 2 : 1; }

/// The panel's matrix as gnuplot `matrix` text, v ↦ clamp(v / divisor, lo, hi) (NaN kept),
/// each cell repeated repeat_of(rows) × repeat_of(cols) times.
std::string matrix_text(const Tensor<double>& values, double divisor, double lo, double hi) {
  std::ostringstream out;
  out.precision(7);
  const std::size_t rows = values.shape()[0], cols = values.shape()[1];
  const std::size_t fy = repeat_of(rows), fx = repeat_of(cols);
  for (std::size_t i = 0; i < rows * fy; ++i) {
    for (std::size_t j = 0; j < cols * fx; ++j) {
      const double v = values(i / fy, j / fx);
      out << (j ? " " : "");
      if (std::isnan(v)) out << "NaN";
      else out << std::clamp(v / divisor, lo, hi);
    }
    out << '\n';
  }
  return out.str();
}


struct Box {  // a rectangle in pixels from the top-left corner of the picture
  double left, top, width, height;
};

std::string screen(double pixels, double extent) {
  std::ostringstream s;
  s.precision(6);
  s << "screen " << pixels / extent;
  return s.str();
}

}  // namespace

double clip_limit(const std::vector<double>& values, double percentile) {
  if (!(percentile > 0 && percentile <= 100)) {
    throw ArgumentError("clip percentile must be in (0, 100], got " + format_number(percentile));
  }
  std::vector<double> magnitudes;
  for (double v : values)
    if (std::isfinite(v)) magnitudes.push_back(std::abs(v));
  if (magnitudes.empty()) throw ArgumentError("clip limit of a map with no finite value");
  const auto rank = static_cast<std::size_t>(std::ceil(percentile / 100.0 * double(magnitudes.size())));
  const std::size_t k = std::clamp<std::size_t>(rank, 1, magnitudes.size()) - 1;
  std::nth_element(magnitudes.begin(), magnitudes.begin() + std::ptrdiff_t(k), magnitudes.end());
  return magnitudes[k] > 0 ? magnitudes[k] : 1.0;
}

void plot_heatmap_grid(const fs::path& png, const HeatmapGridSpec& spec,
                       const std::vector<std::vector<HeatmapPanel>>& rows) {
  check_grid(spec, rows);
  const std::size_t n_rows = rows.size(), n_cols = rows.front().size();
  const bool per_map = spec.scale == HeatmapScale::per_map;
  const std::string limit_name =
      spec.clip_percentile == 100 ? "max" : format_number(spec.clip_percentile, 3) + "th percentile";

  // Limits: one per diverging panel (per map) or one per row.
  std::vector<std::vector<double>> limit(n_rows, std::vector<double>(n_cols, 1.0));
  std::vector<bool> row_has_diverging(n_rows, false);
  for (std::size_t r = 0; r < n_rows; ++r) {
    std::vector<double> pooled;
    for (std::size_t c = 0; c < n_cols; ++c) {
      if (rows[r][c].style != PanelStyle::diverging) continue;
      row_has_diverging[r] = true;
      const auto cells = finite_cells(rows[r][c].values);
      if (per_map) limit[r][c] = cells.empty() ? 1.0 : clip_limit(cells, spec.clip_percentile);
      pooled.insert(pooled.end(), cells.begin(), cells.end());
    }
    if (!per_map && !pooled.empty()) {
      const double row_limit = clip_limit(pooled, spec.clip_percentile);
      for (std::size_t c = 0; c < n_cols; ++c) limit[r][c] = row_limit;
    }
  }

  // Captions: the caller's line, then (per map) "L = …" for diverging panels.
  std::vector<std::vector<std::vector<std::string>>> captions(n_rows, std::vector<std::vector<std::string>>(n_cols));
  std::size_t caption_lines = 0, widest = 0;
  for (std::size_t r = 0; r < n_rows; ++r) {
    for (std::size_t c = 0; c < n_cols; ++c) {
      auto& lines = captions[r][c];
      if (!rows[r][c].caption.empty()) lines.push_back(rows[r][c].caption);
      if (per_map && rows[r][c].style == PanelStyle::diverging) lines.push_back("L = " + format_number(limit[r][c], 3));
      caption_lines = std::max(caption_lines, lines.size());
      for (const auto& l : lines) widest = std::max(widest, text_width(l));
    }
  }
  std::size_t label_width = 0;
  for (const auto& l : spec.row_labels) label_width = std::max(label_width, text_width(l));

  // Panels widen for their captions; column titles wrap at word boundaries to
  // the panel's width instead (one more title line each time).
  const double side = std::max<double>(spec.panel_pixels, double(widest) - kGap);
  const auto title_chars = static_cast<std::size_t>(std::max(4.0, (side + kGap) / kCharWidth));
  std::vector<std::vector<std::string>> title_lines;
  std::size_t title_rows = 1;
  for (const auto& t : spec.column_titles) {
    title_lines.push_back(wrapped(t, title_chars));
    title_rows = std::max(title_rows, title_lines.back().size());
  }
  const double tics = spec.show_indices ? kIndexTics : 0;
  const double cell_w = side + kGap + tics, cell_h = side + kGap + tics + double(caption_lines) * kCaptionLine;
  const bool any_bar = std::any_of(row_has_diverging.begin(), row_has_diverging.end(), [](bool b) { return b; });
  const double left = double(label_width) + 12 + tics;
  const double width = left + double(n_cols) * cell_w + (any_bar ? kColourBarArea : kGap);
  // The title: one line, or (wrap_title) broken at spaces into lines that fit the picture.
  const std::vector<std::string> grid_title =
      spec.wrap_title ? wrapped(spec.title, static_cast<std::size_t>(std::max(
                                                8.0, (width - 2 * kGap) / (kCharWidth * kTitleFontRatio))))
                      : std::vector<std::string>{spec.title};
  const double top = kTitleHeight + kTitleLine * double(grid_title.size() - 1) +
                     kColumnTitleHeight * double(title_rows);
  const double height = top + double(n_rows) * cell_h + kBottom;
  if (width > 10000 || height > 10000) {
    throw InputError("heatmap grid '" + png.string() + "' would be " + std::to_string(int(width)) + "x" +
                     std::to_string(int(height)) + " pixels (at most 10000 per side)");
  }
  auto panel_box = [&](std::size_t r, std::size_t c) {
    return Box{left + double(c) * cell_w, top + double(r) * cell_h, side, side};
  };
  auto x_at = [&](double px) { return screen(px, width); };
  auto y_at = [&](double py) { return screen(height - py, height); };  // pixels from the top

  render_with_gnuplot(png, [&](const fs::path& scratch, const std::string& terminal, const fs::path& drawn) {
    std::ostringstream s;
    s << "set terminal " << terminal << " size " << int(std::ceil(width)) << ',' << int(std::ceil(height))
      << " font ',9' noenhanced\nset output " << gnuplot_quoted(drawn.string()) << "\n"
      << "set multiplot\nunset key\nset border linewidth 0.5\n"
      << "set palette maxcolors 256\n";
    // Every text label goes with the first panel's plot, then is unset.
    int label = 1;
    for (std::size_t k = 0; k < grid_title.size(); ++k) {
      s << "set label " << label++ << ' ' << gnuplot_quoted(grid_title[k]) << " at " << x_at(width / 2) << ", "
        << y_at(18 + kTitleLine * double(k)) << " center font ',11'\n";
    }
    for (std::size_t c = 0; c < n_cols; ++c) {
      const Box b = panel_box(0, c);
      const auto& lines = title_lines[c];
      for (std::size_t k = 0; k < lines.size(); ++k) {  // the last line sits just above the panel
        s << "set label " << label++ << ' ' << gnuplot_quoted(lines[k]) << " at " << x_at(b.left + b.width / 2) << ", "
          << y_at(b.top - 7 - kColumnTitleHeight * double(lines.size() - 1 - k)) << " center\n";
      }
    }
    for (std::size_t r = 0; r < n_rows; ++r) {
      const Box b = panel_box(r, 0);
      s << "set label " << label++ << ' ' << gnuplot_quoted(spec.row_labels[r]) << " at " << x_at(b.left - 8 - tics)
        << ", " << y_at(b.top + b.height / 2) << " right\n";
      for (std::size_t c = 0; c < n_cols; ++c) {
        const Box p = panel_box(r, c);
        for (std::size_t k = 0; k < captions[r][c].size(); ++k) {
          s << "set label " << label++ << ' ' << gnuplot_quoted(captions[r][c][k]) << " at "
            << x_at(p.left + p.width / 2) << ", " << y_at(p.top + p.height + tics + 10 + double(k) * kCaptionLine)
            << " center\n";
        }
      }
    }
    bool first = true;
    for (std::size_t r = 0; r < n_rows; ++r) {
      // The row's colour bar goes with its last diverging panel (per row), or
      // with the grid's last diverging panel (per map, spanning every row).
      std::size_t bar_column = n_cols;
      for (std::size_t c = 0; c < n_cols; ++c)
        if (rows[r][c].style == PanelStyle::diverging) bar_column = c;
      std::size_t last_row = n_rows;
      for (std::size_t rr = 0; rr < n_rows; ++rr)
        if (row_has_diverging[rr]) last_row = rr;
      for (std::size_t c = 0; c < n_cols; ++c) {
        const HeatmapPanel& p = rows[r][c];
        const Box b = panel_box(r, c);
        const std::size_t h = p.values.shape()[0], w = p.values.shape()[1];
        const std::size_t fy = repeat_of(h), fx = repeat_of(w);  // drawn pixels per cell (see matrix_text)
        const fs::path data = scratch / ("panel_" + std::to_string(r) + "_" + std::to_string(c) + ".dat");
        const bool diverging = p.style == PanelStyle::diverging;
        const double divisor = diverging && per_map ? limit[r][c] : 1.0;
        const double lo = diverging ? (per_map ? -1.0 : -limit[r][c]) : 0.0;
        const double hi = diverging ? (per_map ? 1.0 : limit[r][c]) : 1.0;
        write_gnuplot_input(data, matrix_text(p.values, divisor, lo, hi));
        s << "set lmargin at " << x_at(b.left) << "\nset rmargin at " << x_at(b.left + b.width) << "\n"
          << "set tmargin at " << y_at(b.top) << "\nset bmargin at " << y_at(b.top + b.height) << "\n"
          << "set xrange [-0.5:" << double(w * fx) - 0.5 << "]\nset yrange [" << double(h * fy) - 0.5 << ":-0.5]\n";
        if (spec.show_indices) {
          // An axis of one cell gets no tic (its index 0 says nothing; it is the only axis repeat_of doubles).
          if (w > 1) s << "set xtics 0,1," << w - 1 << " scale 0 offset 0,0.3\n";
          else s << "unset xtics\n";
          if (h > 1) s << "set ytics 0,1," << h - 1 << " scale 0 offset 0.5,0\n";
          else s << "unset ytics\n";
        } else {
          s << "unset xtics\nunset ytics\n";
        }
        s << "set object 1 rect from graph 0,0 to graph 1,1 behind fillcolor rgb '#c8c8c8' fillstyle solid 1.0 noborder\n";
        if (diverging) {
          s << "set palette defined (-1 '#2166AC', 0 '#FFFFFF', 1 '#B2182B')\nset cbrange [" << lo << ':' << hi << "]\n";
        } else {
          s << "set palette gray\nset cbrange [0:1]\n";
        }
        const bool bar = diverging && c == bar_column && (per_map ? r == last_row : true);
        if (bar) {
          const double bar_left = left + double(n_cols) * cell_w + 4;
          const double bar_top = per_map ? top : b.top, bar_bottom = per_map ? panel_box(last_row, 0).top + side : b.top + b.height;
          s << "set colorbox user origin " << x_at(bar_left) << ", " << y_at(bar_bottom) << " size "
            << screen(kColourBarWidth, width) << ", " << screen(bar_bottom - bar_top, height) << "\n"
            << "set cbtics " << (per_map ? "0.5" : "autofreq") << " format '%.2g'\nset cblabel "
            << gnuplot_quoted(per_map ? spec.value_label + " / L  (L: " + limit_name + " of |value|, per map)"
                                      : spec.value_label + "  (bar ends: ±" + limit_name + " of |value| in the row)")
            << " offset -0.5,0\n";
        } else {
          s << "unset colorbox\n";
        }
        s << "plot " << gnuplot_quoted(data.string()) << " matrix with image notitle";
        if (!p.marks.empty()) {
          const fs::path marks = scratch / ("marks_" + std::to_string(r) + "_" + std::to_string(c) + ".dat");
          std::ostringstream m;
          for (const auto& mark : p.marks)
            m << double(std::size_t(mark[1]) * fx) + 0.5 * double(fx - 1) << ' '
              << double(std::size_t(mark[0]) * fy) + 0.5 * double(fy - 1) << '\n';
          write_gnuplot_input(marks, m.str());
          s << ", " << gnuplot_quoted(marks.string())
            << " using 1:2 with points pointtype 6 pointsize 2.2 linewidth 2 linecolor rgb '#00A000' notitle";
        }
        s << "\n";
        if (first) {
          s << "unset label\n";
          first = false;
        }
      }
    }
    s << "unset multiplot\nset output\n";
    return s.str();
  });
}

}  // namespace fluxion
