// Node-and-arrow diagrams (a computation graph with the values and gradients
// on its nodes) drawn by gnuplot (gnuplot_run.hpp) into one PNG: each node a
// labelled box of text lines at (x, y) in [0, 1]² (y up), each edge an arrow
// from one node's box to another's with an optional label at its middle.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace fluxion {

struct DiagramNode {
  double x = 0, y = 0;             // centre, in [0, 1]² (y up)
  std::vector<std::string> lines;  // text, top to bottom (at least one)
};

struct DiagramEdge {
  std::size_t from = 0, to = 0;  // node indices
  std::string label;             // at the arrow's middle (may be empty)
};

/// Draws the diagram into `png` (width × height pixels). Throws InputError for
/// no nodes, a node without text or outside [0, 1]², an edge naming a missing
/// node or a node itself, a size outside 16..10000, or gnuplot failing.
void plot_diagram(const std::filesystem::path& png, const std::string& title, const std::vector<DiagramNode>& nodes,
                  const std::vector<DiagramEdge>& edges, int width = 900, int height = 500);

}  // namespace fluxion
