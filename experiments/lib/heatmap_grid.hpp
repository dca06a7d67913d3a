// Grids of heatmaps a reader can read without the text: a title, a title over
// every column (wrapped at spaces to the panel's width), a label left of every row, a caption under any panel, a
// colour bar that states the normalisation, and marked cells — drawn by
// gnuplot (gnuplot_run.hpp) into one PNG.
//
// Diverging panels use a blue–white–red map symmetric around 0. Their limit L
// is the `clip_percentile`-th percentile of |v| (nearest rank: the ⌈p·N/100⌉-th
// smallest |v| of the N finite cells), values beyond ±L drawn at the end
// colours, taken either
//   - per map: each map is divided by its own L, one colour bar for the whole
//     grid spans −1 … 1 (value / L), and each panel's caption ends with its L; or
//   - per row: one L over all diverging maps of a row, one colour bar per row in
//     the values' own units.
// Grayscale panels show 0 (black) … 1 (white) and carry no colour bar.
// NaN cells are masked: drawn light gray (e.g. a Hessian's diagonal).
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

enum class PanelStyle { diverging, grayscale };

struct HeatmapPanel {
  Tensor<double> values;  // 2-D [rows, cols]; row 0 is drawn at the top
  PanelStyle style = PanelStyle::diverging;
  std::string caption;                     // printed under the panel (may be empty)
  std::vector<std::array<int, 2>> marks;   // (row, col) cells ringed in black
};

enum class HeatmapScale { per_map, per_row };

struct HeatmapGridSpec {
  std::string title;
  std::vector<std::string> column_titles;  // one per column
  std::vector<std::string> row_labels;     // one per row
  HeatmapScale scale = HeatmapScale::per_map;
  double clip_percentile = 99;  // in (0, 100]
  std::string value_label = "value";  // what the colours show (colour-bar label)
  bool show_indices = false;          // integer tics 0 … n−1 on each panel's axes (small matrices)
  int panel_pixels = 120;             // side of a panel
  bool wrap_title = false;            // break the title at spaces into lines that fit the picture's width
};

/// The limit L of `values` described above (NaN cells ignored); 1 when every
/// finite |v| is 0. ArgumentError for a percentile outside (0, 100] or no finite cell.
double clip_limit(const std::vector<double>& values, double percentile);

/// Draws the grid into `png`. Throws ShapeError for no rows, ragged rows, a
/// non-2-D panel or title/label counts that do not match the grid,
/// InputError for ±inf values, a percentile outside (0, 100], a panel size
/// outside 16..2000 pixels, a mark outside its panel, or gnuplot failing.
void plot_heatmap_grid(const std::filesystem::path& png, const HeatmapGridSpec& spec,
                       const std::vector<std::vector<HeatmapPanel>>& rows);

}  // namespace fluxion
