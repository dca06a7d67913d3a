// Scalar fields with curves and points through gnuplot (see field_plot.hpp):
// the field is one `with image` layer under a palette of `bands` discrete
// colours (filled contours), the curves and points are drawn over it.
#include "experiments/lib/field_plot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/lib/gnuplot_run.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;

// The curve colours and dashes of plot.cpp's first curves, darker ones first so
// they stand out on the light-to-dark field.
const char* const kCurveColours[] = {"#000000", "#D55E00", "#0072B2", "#CC79A7", "#009E73", "#7F3C8D"};

}  // namespace

void plot_field(const fs::path& png, const FieldPlotSpec& spec, const Tensor<double>& values,
                const std::vector<Series>& curves, const std::vector<FieldPoint>& points,
                const std::vector<FieldArrow>& arrows) {
  for (const FieldArrow& a : arrows) {
    if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(a.dx) || !std::isfinite(a.dy)) {
      throw InputError("plot_field: an arrow is not finite");
    }
    const bool hex = a.colour.size() == 7 && a.colour[0] == '#' &&
                     a.colour.find_first_not_of("0123456789abcdefABCDEF", 1) == std::string::npos;
    if (!hex) throw InputError("plot_field: arrow colour '" + a.colour + "' is not of the form #RRGGBB");
  }
  if (values.dimension() != 2 || values.shape()[0] < 2 || values.shape()[1] < 2) {
    throw ShapeError("plot_field: the field must be a 2-D array of at least 2 x 2 cells, got shape " +
                     shape_str(shape_of(values)));
  }
  for (double v : values) {
    if (!std::isfinite(v)) throw InputError("plot_field: the field has a non-finite value");
    if (spec.log_colour && v <= 0) throw InputError("plot_field: a logarithmic colour scale needs positive values");
  }
  for (double w : {spec.x0, spec.x1, spec.y0, spec.y1})
    if (!std::isfinite(w)) throw InputError("plot_field: the window must be finite");
  if (!(spec.x1 > spec.x0) || !(spec.y1 > spec.y0)) throw InputError("plot_field: the window is empty");
  if (spec.bands < 2 || spec.bands > 64) throw InputError("plot_field: bands must be 2..64");
  if (spec.width < 16 || spec.width > 10000 || spec.height < 16 || spec.height > 10000) {
    throw InputError("plot_field: size outside 16..10000 pixels");
  }
  for (std::size_t k = 0; k < curves.size(); ++k) {
    const Series& s = curves[k];
    if (s.x.empty() || s.x.size() != s.y.size()) {
      throw InputError("plot_field curve " + std::to_string(k) + " '" + s.label + "' needs x and y of the same non-zero length");
    }
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) throw InputError("plot_field curve '" + s.label + "' has a non-finite point");
  }
  const std::size_t ny = values.shape()[0], nx = values.shape()[1];
  // Key entries (labelled curves and arrow groups) set the bottom margin, in lines.
  std::size_t key_entries = 0;
  for (const Series& c : curves) key_entries += !c.label.empty();
  std::vector<std::string> group_names;
  for (const FieldArrow& a : arrows)
    if (!a.group.empty() && std::find(group_names.begin(), group_names.end(), a.group) == group_names.end())
      group_names.push_back(a.group);
  key_entries += group_names.size();
  const double dx = (spec.x1 - spec.x0) / double(nx - 1), dy = (spec.y1 - spec.y0) / double(ny - 1);
  render_with_gnuplot(png, [&](const fs::path& scratch, const std::string& terminal, const fs::path& drawn) {
    std::ostringstream field;
    field.precision(10);
    for (std::size_t i = 0; i < ny; ++i)
      for (std::size_t j = 0; j < nx; ++j)
        field << spec.x0 + dx * double(j) << ' ' << spec.y1 - dy * double(i) << ' ' << values(i, j)
              << (j + 1 == nx ? "\n\n" : "\n");
    write_gnuplot_input(scratch / "field.dat", field.str());
    std::ostringstream s;
    s.precision(10);
    s << "set terminal " << terminal << " size " << spec.width << ',' << spec.height << " noenhanced\n"
      << "set output " << gnuplot_quoted(drawn.string()) << "\nset title " << gnuplot_quoted(spec.title) << "\n"
      << "set xlabel " << gnuplot_quoted(spec.xlabel) << "\nset ylabel " << gnuplot_quoted(spec.ylabel) << "\n"
      << "set cblabel " << gnuplot_quoted(spec.value_label + " (" + std::to_string(spec.bands) + " bands" +
                                         (spec.log_colour ? ", log scale)" : ")")) << "\n"
      << "set xrange [" << spec.x0 << ':' << spec.x1 << "]\nset yrange [" << spec.y0 << ':' << spec.y1 << "]\n"
      << "set size ratio -1\nset bmargin " << 4 + key_entries << "\n"
      << "set key at screen 0.5, screen 0.015 center bottom vertical box\n"
      << (spec.log_colour ? "set logscale cb\nset format cb '%g'\n" : "")
      << "set palette defined (0 '#FFFFE5', 1 '#C7E9B4', 2 '#7FCDBB', 3 '#41B6C4', 4 '#2C7FB8', 5 '#253494')\n"
      << "set palette maxcolors " << spec.bands << "\nset grid front\n";
    std::vector<std::pair<std::string, std::string>> groups;  // (name, colour), first appearance order
    for (std::size_t k = 0; k < arrows.size(); ++k) {
      const FieldArrow& a = arrows[k];
      s << "set arrow " << k + 1 << " from " << a.x << ',' << a.y << " rto " << a.dx << ',' << a.dy
        << " head filled size graph 0.015,25 linewidth 1.8 linecolor rgb '" << a.colour << "' front\n";
      if (!a.group.empty() && std::none_of(groups.begin(), groups.end(), [&](const auto& g) { return g.first == a.group; }))
        groups.push_back({a.group, a.colour});
    }
    s << "plot " << gnuplot_quoted((scratch / "field.dat").string()) << " using 1:2:3 with image notitle";
    for (const auto& [name, colour] : groups)  // key entries for the arrow groups
      s << ", \\\n  NaN with lines linewidth 1.8 linecolor rgb '" << colour << "' title " << gnuplot_quoted(name);
    for (std::size_t k = 0; k < curves.size(); ++k) {
      const fs::path file = scratch / ("curve_" + std::to_string(k) + ".dat");
      std::ostringstream c;
      c.precision(10);
      for (std::size_t i = 0; i < curves[k].x.size(); ++i) c << curves[k].x[i] << ' ' << curves[k].y[i] << '\n';
      write_gnuplot_input(file, c.str());
      const std::size_t interval = std::max<std::size_t>(1, curves[k].x.size() / 12);
      s << ", \\\n  " << gnuplot_quoted(file.string()) << " using 1:2 with linespoints linewidth 2.5 linecolor rgb '"
        << kCurveColours[k % 6] << "' dashtype " << k % 5 + 1 << " pointtype " << 2 * (k % 6) + 5
        << " pointsize 1.0 pointinterval " << interval << ' '
        << (curves[k].label.empty() ? "notitle" : "title " + gnuplot_quoted(curves[k].label));
    }
    if (!points.empty()) {
      std::ostringstream p;
      p.precision(10);
      for (const FieldPoint& q : points) {  // a data file's string column: "…" (inner quotes dropped)
        std::string label;
        for (char ch : q.label)
          if (ch != '"' && ch != '\n') label += ch;
        p << q.x << ' ' << q.y << " \"" << label << "\"\n";
      }
      write_gnuplot_input(scratch / "points.dat", p.str());
      const std::string file = gnuplot_quoted((scratch / "points.dat").string());
      s << ", \\\n  " << file << " using 1:2 with points pointtype 7 pointsize 2.2 linecolor rgb '#FFB000' notitle"
        << ", \\\n  " << file << " using 1:2 with points pointtype 6 pointsize 2.2 linewidth 1.5 linecolor rgb '#000000' notitle"
        << ", \\\n  " << file << " using 1:2:3 with labels offset 1.6,0.9 left font ',11' notitle";
    }
    s << "\nset output\n";
    return s.str();
  });
}

}  // namespace fluxion
