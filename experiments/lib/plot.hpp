// Line plots as PNG files, drawn by gnuplot run as a subprocess.
//
// The data and the script go to a private temporary directory, gnuplot draws
// into a temporary PNG there (pngcairo terminal when gnuplot has it, else the
// libgd png terminal), and the finished bytes are written atomically to the
// destination, so a failed plot never leaves a partial file behind.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace fluxion {

/// One curve: points (x[i], y[i]) joined in order; `label` goes in the key
/// (empty label: not listed), which is drawn below the axes.
/// Curve k gets colour k mod 12, dash type k mod 5 and marker k mod 10, so up
/// to 12 curves differ in colour and consecutive ones also in dash and marker;
/// curves with ≤ 30 points mark every point, longer ones about 12 points.
struct Series {
  std::string label;
  std::vector<double> x, y;
};

/// Title, axis labels (printed literally: quotes and underscores are safe),
/// log scales and the picture size in pixels; the key's rows (18 pixels each,
/// as many columns as the widest label allows) are added below `height`.
struct PlotSpec {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  int width = 800, height = 500;
};

/// Draws the series into `png`. Throws InputError for no series, a series with
/// no points or x/y of different lengths, non-finite values, non-positive values
/// on a log axis, a size outside 16..10000 pixels, gnuplot missing from PATH, or
/// gnuplot failing (the message carries gnuplot's stderr).
void plot_lines(const std::filesystem::path& png, const PlotSpec& spec, const std::vector<Series>& series);

}  // namespace fluxion
