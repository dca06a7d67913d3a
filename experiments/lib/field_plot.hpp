// A scalar field over a 2-D window drawn as filled contour bands (a banded
// sequential colour map with its colour bar), with curves and labelled points
// on top and real axes — the tutorials' toy-problem pictures — by gnuplot
// (gnuplot_run.hpp) into one PNG.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "experiments/lib/plot.hpp"

namespace fluxion {

struct FieldPoint {
  double x = 0, y = 0;
  std::string label;  // printed next to the point and listed in the key
};

/// An arrow from (x, y) to (x + dx, y + dy) in `colour` ("#RRGGBB"); arrows
/// sharing a `group` name get one key entry with that name (empty: none).
struct FieldArrow {
  double x = 0, y = 0, dx = 0, dy = 0;
  std::string colour = "#000000";
  std::string group;
};

struct FieldPlotSpec {
  std::string title, xlabel, ylabel, value_label;  // value_label: the colour bar's
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;           // the window
  int bands = 12;                                  // contour bands of the colour map (2..64)
  bool log_colour = false;                         // logarithmic colour scale (values must be > 0)
  int width = 800, height = 640;
};

/// values[i, j] is the field at x = x0 + (x1 − x0) j / (nx − 1),
/// y = y1 − (y1 − y0) i / (ny − 1) (row 0 at the top, as on screen). Curves use
/// plot.hpp's styles (distinct colour, dash and marker each); points are black-
/// ringed filled circles with their labels. Throws ShapeError unless values is
/// 2-D with at least 2 × 2 cells, InputError for non-finite values or window,
/// a non-finite arrow or a colour not of the form #RRGGBB, an empty window, bands outside 2..64, a value ≤ 0 on a log colour scale, a bad curve (as plot_lines), or gnuplot failing.
void plot_field(const std::filesystem::path& png, const FieldPlotSpec& spec, const Tensor<double>& values,
                const std::vector<Series>& curves, const std::vector<FieldPoint>& points,
                const std::vector<FieldArrow>& arrows = {});

}  // namespace fluxion
