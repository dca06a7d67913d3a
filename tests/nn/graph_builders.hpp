// Test helpers that write Graph nodes by hand: attribute builders and node(),
// shared by the graph, export and ONNX tests (one place, one spelling).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/graph/graph.hpp"

namespace fluxion::testing {

inline GraphAttribute ints_attribute(std::vector<std::int64_t> v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::integers;
  a.ints = std::move(v);
  return a;
}
inline GraphAttribute int_attribute(std::int64_t v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::integer;
  a.i = v;
  return a;
}
inline GraphAttribute real_attribute(double v) {
  GraphAttribute a;
  a.kind = GraphAttribute::Kind::real;
  a.f = v;
  return a;
}

/// op(in) → out, named "<op>_<first output>".
inline GraphNode node(std::string op, std::vector<std::string> in, std::vector<std::string> out,
                      std::map<std::string, GraphAttribute> attributes = {}) {
  GraphNode n;
  n.op = std::move(op);
  n.name = n.op + "_" + out.at(0);
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  n.attributes = std::move(attributes);
  return n;
}

}  // namespace fluxion::testing
