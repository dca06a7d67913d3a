// `fluxion export`: any model Fluxion reads, written as a standard ONNX file
// that computes what Fluxion computes (nn/export/onnx_writer.hpp):
//
//   fluxion export --model M.safetensors|M.onnx --onnx OUT.onnx [--smooth-beta B] [--dtype float64|float32]
//
// --smooth-beta writes the smoothed model (every Relu as SoftPlus(β), the
// model `explain --smooth-beta B` explains) in standard ops; --dtype picks
// the element type of the file (its weights, input and output). One line on
// stdout says what was written. Bad flags: exit 2; a bad model file or an
// unwritable output: exit 1, one sentence; the output is written atomically.
#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"
#include "nn/export/onnx_writer.hpp"
#include "nn/models/load_graph.hpp"

namespace fluxion::cli {

namespace {

struct ExportFlags {
  std::string model, onnx, dtype = "float64";
  double smooth_beta = 0;  // > 0: export the model with every Relu as SoftPlus(β)
};

void validate_export_flags(const ExportFlags& f) {
  if (!(f.smooth_beta >= 0 && std::isfinite(f.smooth_beta)))
    throw UsageError("--smooth-beta must be a finite number > 0 (0: no smoothing)");
  if (f.dtype != "float32" && f.dtype != "float64")
    throw UsageError("--dtype must be float32 or float64, got '" + f.dtype + "'");
  if (f.onnx.empty()) throw UsageError("--onnx needs a file name");
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

template <class T>
void export_in(const ExportFlags& f) {
  Graph<T> graph = load_graph<T>(f.model);
  if (f.smooth_beta > 0) graph = graph.with_relu_as_softplus(T(f.smooth_beta));
  OnnxExportOptions options;
  options.doc_string = "exported by fluxion from " + f.model +
                       (f.smooth_beta > 0 ? " with every Relu as SoftPlus(beta = " + number(f.smooth_beta) + ")" : "");
  const OnnxExport written = write_onnx(f.onnx, graph, options);
  // One line, however many attributes (a resnet has 9 BatchNorm epsilons).
  if (!written.rounded_attributes.empty())
    std::cerr << "fluxion export: note: ONNX keeps float attributes in float32, so "
              << written.rounded_attributes.size() << " attribute(s) were rounded, e.g. "
              << written.rounded_attributes.front() << "\n";
  std::cout << "wrote " << f.onnx << ": " << written.nodes << " nodes, " << written.initializers << " initializers, opset "
            << written.opset << ", " << f.dtype << (f.smooth_beta > 0 ? ", every Relu as SoftPlus(beta = " + number(f.smooth_beta) + ")" : "") << "\n";
}

}  // namespace

void register_export_command(CLI::App& app) {
  auto flags = std::make_shared<ExportFlags>();
  auto* cmd = app.add_subcommand("export", "Write a model (safetensors or ONNX) as a standard ONNX file");
  cmd->add_option("--model", flags->model,
                  "Model file: .safetensors with the architecture in __metadata__, or an ONNX model (told apart by content)")
      ->required();
  cmd->add_option("--onnx", flags->onnx, "The ONNX file to write (atomically)")->required();
  cmd->add_option("--smooth-beta", flags->smooth_beta, "Write the model with every ReLU replaced by SoftPlus(beta)");
  cmd->add_option("--dtype", flags->dtype, "Element type of the file: float64 | float32")->capture_default_str();
  cmd->callback([flags] {
    validate_export_flags(*flags);
    with_dtype(flags->dtype, [&]<class T>() { export_in<T>(*flags); });
  });
}

}  // namespace fluxion::cli
