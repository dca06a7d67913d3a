// Line plots through a gnuplot subprocess (see plot.hpp and gnuplot_run.hpp):
// every curve gets its own colour, dash type and marker, the key sits outside
// the axes.
#include "experiments/lib/plot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/lib/gnuplot_run.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;

/// Series with at most this many points get a marker on every point; longer
/// ones get markers spaced so that about kMarkersPerCurve are drawn.
constexpr std::size_t kMarkedPointLimit = 30;
constexpr std::size_t kMarkersPerCurve = 12;

/// Curve i's style: colour i mod 12, dash type i mod 5, point type i mod 10 —
/// colours, dashes and markers cycle with periods 12, 5 and 10, so the
/// first 12 curves all differ in colour and any two consecutive ones also in
/// dash and marker. Colours: Okabe–Ito's 8 (yellow darkened) plus 4 more.
struct CurveStyle {
  const char* colour;
  int dash, point;
};
CurveStyle curve_style(std::size_t i) {
  static const char* const colours[] = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#C9B200", "#0072B2",
                                        "#D55E00", "#CC79A7", "#7F3C8D", "#8C564B", "#1B9E77", "#999999"};
  static const int points[] = {7, 5, 9, 11, 13, 6, 4, 8, 10, 12};  // filled circle, square, triangles, …
  return {colours[i % 12], static_cast<int>(i % 5) + 1, points[i % 10]};
}

/// Pixels added below spec.height for the key, so the axes keep their size:
/// kKeyRowPixels per key row, with as many columns as entries of the widest
/// label (≈ kKeyCharPixels per character plus the line sample) fit the width.
constexpr int kKeyRowPixels = 18, kKeyCharPixels = 7, kKeySamplePixels = 70;
int key_height(const PlotSpec& spec, const std::vector<Series>& series) {
  std::size_t entries = 0, widest = 0;
  for (const Series& s : series) {
    if (s.label.empty()) continue;
    ++entries;
    std::size_t glyphs = 0;
    for (unsigned char c : s.label) glyphs += (c & 0xC0) != 0x80;
    widest = std::max(widest, glyphs);
  }
  if (entries == 0) return 0;
  const std::size_t column = widest * kKeyCharPixels + kKeySamplePixels;
  const std::size_t columns = std::max<std::size_t>(1, std::size_t(spec.width) / column);
  return kKeyRowPixels * int((entries + columns - 1) / columns);
}

void check_series(const Series& s, std::size_t index, const PlotSpec& spec) {
  const std::string name = "plot series " + std::to_string(index) + " '" + s.label + "'";
  if (s.x.empty() || s.x.size() != s.y.size()) {
    throw InputError(name + " needs x and y of the same non-zero length, got " + std::to_string(s.x.size()) +
                     " and " + std::to_string(s.y.size()));
  }
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) throw InputError(name + " has a non-finite point");
    if ((spec.logx && s.x[i] <= 0) || (spec.logy && s.y[i] <= 0)) {
      throw InputError(name + " has a non-positive value on a log axis");
    }
  }
}

void check_plot(const PlotSpec& spec, const std::vector<Series>& series) {
  if (series.empty()) throw InputError("plot_lines needs at least one series");
  if (spec.width < 16 || spec.width > 10000 || spec.height < 16 || spec.height > 10000) {
    throw InputError("plot size " + std::to_string(spec.width) + "x" + std::to_string(spec.height) +
                     " is outside 16..10000 pixels");
  }
  for (std::size_t i = 0; i < series.size(); ++i) check_series(series[i], i, spec);
}

/// All series as gnuplot data blocks ("x y" lines, blocks separated by two blank lines).
std::string data_blocks(const std::vector<Series>& series) {
  std::ostringstream out;
  out.precision(17);
  for (const Series& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) out << s.x[i] << ' ' << s.y[i] << '\n';
    out << "\n\n";
  }
  return out.str();
}

std::string script(const std::string& terminal, const PlotSpec& spec, const std::vector<Series>& series,
                   const fs::path& data, const fs::path& output) {
  std::ostringstream s;
  s << "set terminal " << terminal << " size " << spec.width << ',' << spec.height + key_height(spec, series)
    << " noenhanced\n"
    << "set output " << gnuplot_quoted(output.string()) << '\n'
    << "set title " << gnuplot_quoted(spec.title) << '\n'
    << "set xlabel " << gnuplot_quoted(spec.xlabel) << '\n'
    << "set ylabel " << gnuplot_quoted(spec.ylabel) << '\n'
    // The key sits below the axes, so it never covers a curve and the axes keep the full width.
    << "set grid\nset key outside below center horizontal nobox spacing 1.2 width 2\n";
  if (spec.logx) s << "set logscale x\nset format x '%g'\n";
  if (spec.logy) s << "set logscale y\nset format y '%g'\n";
  s << "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const CurveStyle style = curve_style(i);
    const std::size_t points = series[i].x.size();
    const std::size_t interval = points <= kMarkedPointLimit ? 1 : (points + kMarkersPerCurve - 1) / kMarkersPerCurve;
    s << (i ? ", \\\n     " : "") << gnuplot_quoted(data.string()) << " index " << i
      << " using 1:2 with linespoints linewidth 2 linecolor rgb '" << style.colour << "' dashtype " << style.dash
      << " pointtype " << style.point << " pointsize 1.1 pointinterval " << interval << ' '
      << (series[i].label.empty() ? "notitle" : "title " + gnuplot_quoted(series[i].label));
  }
  s << "\nset output\n";
  return s.str();
}

}  // namespace

void plot_lines(const std::filesystem::path& png, const PlotSpec& spec, const std::vector<Series>& series) {
  check_plot(spec, series);
  render_with_gnuplot(png, [&](const fs::path& scratch, const std::string& terminal, const fs::path& drawn) {
    const fs::path data = scratch / "data.dat";
    write_gnuplot_input(data, data_blocks(series));
    return script(terminal, spec, series, data, drawn);
  });
}

}  // namespace fluxion
