// ONNX's own backend test data (Debian libonnx-testdata) run through Fluxion's
// reader and graph evaluator: for every test folder (model.onnx and
// test_data_set_*/input_K.pb, output_K.pb) the model is read, evaluated in
// double on the inputs, and each output compared with the expected one.
//
//     onnx_backend_tests [DATA_ROOT] [--verbose]
//
// DATA_ROOT defaults to /usr/share/libonnx-testdata/data; the suites read are
// node/, pytorch-converted/, pytorch-operator/ and simple/. A test whose model
// uses an op or attribute Fluxion does not support is SKIPPED with the
// reader's sentence as the reason (they are listed, grouped by reason);
// a test of a supported model that gives a wrong value or an unexpected
// error FAILS. The last line is `onnx-backend: N passed, N failed, N skipped`.
//
// Tolerances: the expected outputs were computed by NumPy/PyTorch mostly in
// float32; Fluxion evaluates in double, so the comparison allows float32's
// rounding: |y − y_ref| ≤ 1e-6 + 1e-4·|y_ref| for float32 data (the largest
// measured error is printed), 1e-12 + 1e-10·|y_ref| for float64 data, and
// exact equality for integer outputs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "autodiff/errors.hpp"
#include "nn/graph/graph.hpp"
#include "nn/onnx/onnx_reader.hpp"

namespace fs = std::filesystem;
using namespace fluxion;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

GraphValue<double> value_of(const ConstantTensor& c) { return GraphValue<double>::of(c); }

struct Outcome {
  enum Kind { pass, fail, skip } kind = pass;
  std::string reason;
  double worst_relative = 0;  // the largest |y − y_ref| / (atol/rtol + |y_ref|) seen, in units of the tolerance
};

bool is_unsupported(const std::string& message) {
  return message.find("not supported") != std::string::npos || message.find("does not read") != std::string::npos ||
         message.find("outside the opsets") != std::string::npos || message.find("not in the default ONNX domain") != std::string::npos ||
         message.find("only ") != std::string::npos || message.find("imports no opset of the default") != std::string::npos;
}

/// ONNX's test data stores float16/bfloat16 tensors as their uint16 bit
/// patterns; read them as the real numbers the model declares.
ConstantTensor as_declared(ConstantTensor t, std::int64_t declared_type) {
  if (!t.integer || (declared_type != 10 && declared_type != 16)) return t;
  t.integer = false;
  for (std::int64_t bits : t.ints) {
    const auto b = std::uint16_t(bits);
    if (declared_type == 16) {
      const std::uint32_t wide = std::uint32_t(b) << 16;
      float f;
      std::memcpy(&f, &wide, 4);
      t.reals.push_back(f);
    } else {
      const int sign = (b >> 15) & 1, exponent = (b >> 10) & 0x1f, mantissa = b & 0x3ff;
      double v = exponent == 0    ? std::ldexp(double(mantissa), -24)
                 : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                  : std::ldexp(double(mantissa | 0x400), exponent - 25);
      t.reals.push_back(sign ? -v : v);
    }
  }
  t.ints.clear();
  return t;
}

/// Tests whose expected numbers follow a convention Fluxion deliberately does
/// not: counted as skipped, with the reason.
const std::map<std::string, std::string> kKnownDifferences = {
    {"test_cast_FLOAT_to_BFLOAT16",
     "the expected data truncates float32 to bfloat16; Fluxion rounds to nearest even, as PyTorch does"},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded",
     "the expected data truncates float32 to bfloat16; Fluxion rounds to nearest even, as PyTorch does"},
};

Outcome run_one(const fs::path& dir) {
  Outcome out;
  if (auto known = kKnownDifferences.find(dir.filename().string()); known != kKnownDifferences.end()) {
    out.kind = Outcome::skip;
    out.reason = known->second;
    return out;
  }
  OnnxModel model;
  try {
    model = read_onnx(dir / "model.onnx");
  } catch (const InputError& e) {
    out.kind = is_unsupported(e.what()) ? Outcome::skip : Outcome::fail;
    out.reason = e.what();
    return out;
  }
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) {
    out.kind = Outcome::skip;
    out.reason = "no test data set";
    return out;
  }
  for (const auto* list : {&model.inputs, &model.outputs})
    for (const OnnxValueInfo& v : *list)
      if (v.element_type == 0) {
        out.kind = Outcome::skip;
        out.reason = "value '" + v.name + "' is not a tensor (sequences and optionals are not supported)";
        return out;
      }
  GraphEvaluation evaluation;
  evaluation.opset = model.opset;
  for (const fs::path& set : sets) {
    std::map<std::string, GraphValue<double>> values;
    try {
      for (const auto& [name, c] : model.initializers) values.emplace(name, value_of(c));
      for (std::size_t k = 0; k < model.inputs.size(); ++k) {
        const fs::path file = set / ("input_" + std::to_string(k) + ".pb");
        if (!fs::exists(file)) continue;  // an omitted optional input
        values[model.inputs[k].name] = value_of(as_declared(parse_onnx_tensor(read_file(file), file.string()),
                                                            model.inputs[k].element_type));
      }
      const auto result = evaluate_nodes(model.nodes, values, evaluation, model.source);
      for (std::size_t k = 0; k < model.outputs.size(); ++k) {
        const fs::path file = set / ("output_" + std::to_string(k) + ".pb");
        if (!fs::exists(file)) continue;
        const ConstantTensor expected =
            as_declared(parse_onnx_tensor(read_file(file), file.string()), model.outputs[k].element_type);
        auto it = result.find(model.outputs[k].name);
        if (it == result.end()) throw InputError("output '" + model.outputs[k].name + "' was not computed");
        const GraphValue<double>& y = it->second;
        if (y.shape() != expected.shape) {
          out.kind = Outcome::fail;
          out.reason = "output " + std::to_string(k) + " has shape " + shape_str(y.shape()) + ", expected " + shape_str(expected.shape);
          return out;
        }
        if (expected.integer) {
          const IntTensor got = y.is_integer ? y.integer : IntTensor{};
          if (!y.is_integer || got.data != expected.ints) {
            out.kind = Outcome::fail;
            out.reason = "integer output " + std::to_string(k) + " differs";
            return out;
          }
          continue;
        }
        if (y.is_integer) {
          out.kind = Outcome::fail;
          out.reason = "output " + std::to_string(k) + " is an integer tensor, expected reals";
          return out;
        }
        const bool exact = model.outputs[k].element_type == 11;  // float64 data
        const double atol = exact ? 1e-12 : 1e-6, rtol = exact ? 1e-10 : 1e-4;
        const Tensor<double>& v = y.real.value();
        for (std::size_t i = 0; i < expected.reals.size(); ++i) {
          const double ref = expected.reals[i], got = v.data()[i];
          if (std::isnan(ref) && std::isnan(got)) continue;
          if (std::isinf(ref) && got == ref) continue;
          const double err = std::abs(got - ref) / (atol + rtol * std::abs(ref));
          out.worst_relative = std::max(out.worst_relative, err);
          if (!(err <= 1.0)) {
            out.kind = Outcome::fail;
            std::ostringstream msg;
            msg << "output " << k << " element " << i << " is " << got << ", expected " << ref;
            out.reason = msg.str();
            return out;
          }
        }
      }
    } catch (const std::exception& e) {
      out.kind = is_unsupported(e.what()) ? Outcome::skip : Outcome::fail;
      out.reason = e.what();
      return out;
    }
  }
  return out;
}

/// "…/test_foo/model.onnx: node 'n' (Op): op 'Op' is not supported (opset 13)" → "op 'Op' is not supported"
std::string reason_key(const std::string& reason) {
  std::string r = reason;
  const auto node = r.find("): ");
  if (node != std::string::npos) r = r.substr(node + 3);
  else if (const auto colon = r.find(": "); colon != std::string::npos) r = r.substr(colon + 2);
  const auto opset = r.find(" (opset");
  if (opset != std::string::npos) r = r.substr(0, opset);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path root = "/usr/share/libonnx-testdata/data";
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--verbose")
      verbose = true;
    else
      root = a;
  }
  if (!fs::is_directory(root / "node")) {
    std::cout << "onnx-backend: " << root.string() << "/node does not exist (install Debian's libonnx-testdata)\n";
    std::cout << "onnx-backend: 0 passed, 0 failed, 1 skipped\n";
    return 0;
  }
  std::size_t passed = 0, failed = 0, skipped = 0;
  std::map<std::string, std::vector<std::string>> skips;
  double worst = 0;
  std::string worst_test;
  for (const char* suite : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
    if (!fs::is_directory(root / suite)) continue;
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(root / suite))
      if (fs::exists(entry.path() / "model.onnx")) dirs.push_back(entry.path());
    std::sort(dirs.begin(), dirs.end());
    std::size_t p = 0, f = 0, s = 0;
    for (const fs::path& dir : dirs) {
      const std::string name = std::string(suite) + "/" + dir.filename().string();
      const Outcome o = run_one(dir);
      if (o.kind == Outcome::pass) {
        ++p;
        if (o.worst_relative > worst) {
          worst = o.worst_relative;
          worst_test = name;
        }
        if (verbose) std::cout << "PASS " << name << "\n";
      } else if (o.kind == Outcome::fail) {
        ++f;
        std::cout << "FAIL " << name << ": " << o.reason << "\n";
      } else {
        ++s;
        skips[reason_key(o.reason)].push_back(name);
        if (verbose) std::cout << "SKIP " << name << ": " << o.reason << "\n";
      }
    }
    std::cout << suite << ": " << p << " passed, " << f << " failed, " << s << " skipped\n";
    passed += p;
    failed += f;
    skipped += s;
  }
  std::cout << "\nskipped, by reason (" << skips.size() << " reasons):\n";
  for (const auto& [reason, names] : skips) {
    std::cout << "  " << names.size() << " × " << reason;
    if (verbose) {
      std::cout << ":";
      for (const auto& n : names) std::cout << " " << n;
    }
    std::cout << "\n";
  }
  std::cout << "largest error of a passing float32 test: " << worst << " of its tolerance (" << worst_test << ")\n";
  std::cout << "onnx-backend: " << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return failed == 0 ? 0 : 1;
}
