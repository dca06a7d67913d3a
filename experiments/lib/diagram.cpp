// Node-and-arrow diagrams through gnuplot (see diagram.hpp): boxes are
// rectangle objects sized to their text, arrows run between box borders
// (the segment between the centres, shortened where it leaves each box).
#include "experiments/lib/diagram.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/lib/gnuplot_run.hpp"

namespace fluxion {
namespace {

namespace fs = std::filesystem;

constexpr double kCharWidth = 6.6, kLineHeight = 15, kPadding = 8;  // pixels, 10-pt font

std::size_t glyphs(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

struct Extent {
  double half_w, half_h;  // in [0, 1] units
};

/// Where the segment from the centre c towards p leaves the box of half-size e.
std::pair<double, double> exit_point(double cx, double cy, double px, double py, Extent e) {
  const double dx = px - cx, dy = py - cy;
  const double sx = dx != 0 ? e.half_w / std::abs(dx) : 1e300, sy = dy != 0 ? e.half_h / std::abs(dy) : 1e300;
  const double s = std::min({sx, sy, 1.0});
  return {cx + s * dx, cy + s * dy};
}

}  // namespace

void plot_diagram(const fs::path& png, const std::string& title, const std::vector<DiagramNode>& nodes,
                  const std::vector<DiagramEdge>& edges, int width, int height) {
  if (nodes.empty()) throw InputError("diagram '" + png.string() + "' has no nodes");
  if (width < 16 || width > 10000 || height < 16 || height > 10000) {
    throw InputError("diagram size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is outside 16..10000 pixels");
  }
  std::vector<Extent> extent;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const DiagramNode& n = nodes[k];
    if (n.lines.empty()) throw InputError("diagram node " + std::to_string(k) + " has no text");
    if (!(n.x >= 0 && n.x <= 1 && n.y >= 0 && n.y <= 1)) {
      throw InputError("diagram node " + std::to_string(k) + " lies outside [0, 1]²");
    }
    std::size_t widest = 0;
    for (const auto& l : n.lines) widest = std::max(widest, glyphs(l));
    extent.push_back({(double(widest) * kCharWidth / 2 + kPadding) / width,
                      (double(n.lines.size()) * kLineHeight / 2 + kPadding) / height});
  }
  for (const DiagramEdge& e : edges) {
    if (e.from >= nodes.size() || e.to >= nodes.size() || e.from == e.to) {
      throw InputError("diagram edge " + std::to_string(e.from) + " → " + std::to_string(e.to) +
                       " needs two different existing nodes");
    }
  }
  render_with_gnuplot(png, [&](const fs::path&, const std::string& terminal, const fs::path& drawn) {
    std::ostringstream s;
    s.precision(6);
    s << "set terminal " << terminal << " size " << width << ',' << height << " font ',10' noenhanced\n"
      << "set output " << gnuplot_quoted(drawn.string()) << "\nset title " << gnuplot_quoted(title) << "\n"
      << "set xrange [0:1]\nset yrange [0:1]\nset lmargin at screen 0.02\nset rmargin at screen 0.98\n"
      << "set bmargin at screen 0.02\nset tmargin at screen 0.9\nunset border\nunset tics\nunset key\n";
    int object = 1, label = 1, arrow = 1;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const DiagramNode& n = nodes[k];
      s << "set object " << object++ << " rect center " << n.x << ',' << n.y << " size " << 2 * extent[k].half_w
        << ',' << 2 * extent[k].half_h << " fillcolor rgb '#EEF3FA' fillstyle solid 1.0 border lc rgb '#1F4E79' lw 1.5\n";
      const double line_step = kLineHeight / height;
      for (std::size_t l = 0; l < n.lines.size(); ++l) {
        const double y = n.y + (double(n.lines.size()) - 1) / 2 * line_step - double(l) * line_step;
        s << "set label " << label++ << ' ' << gnuplot_quoted(n.lines[l]) << " at " << n.x << ',' << y
          << " center front\n";
      }
    }
    for (const DiagramEdge& e : edges) {
      const DiagramNode &a = nodes[e.from], &b = nodes[e.to];
      const auto [x0, y0] = exit_point(a.x, a.y, b.x, b.y, extent[e.from]);
      const auto [x1, y1] = exit_point(b.x, b.y, a.x, a.y, extent[e.to]);
      s << "set arrow " << arrow++ << " from " << x0 << ',' << y0 << " to " << x1 << ',' << y1
        << " head filled size screen 0.012,20 lw 1.5 lc rgb '#444444'\n";
      if (!e.label.empty()) {
        s << "set label " << label++ << ' ' << gnuplot_quoted(e.label) << " at " << (x0 + x1) / 2 << ','
          << (y0 + y1) / 2 + 0.035 << " center front textcolor rgb '#7F3C8D'\n";
      }
    }
    s << "plot NaN notitle\nset output\n";
    return s.str();
  });
}

}  // namespace fluxion
