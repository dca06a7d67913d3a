// fluxion._core: the C++ library behind `import fluxion` (pybind11).
//
// This file only converts: NumPy arrays to Tensor<T> and back, Python
// arguments to the library's option structs, C++ errors to Python
// exceptions. Every computation is a library call, the same one the CLI
// makes (attribution/method_registry.hpp for explain and interactions,
// attribution/axiom_checks.hpp for check, attribution/faithfulness.hpp for
// deletion/insertion, nn/ for models and training). The friendly signatures,
// defaults and docstrings are in fluxion/__init__.py.
//
// Precision follows the input array: float32 arrays are explained with the
// model in float, float64 arrays in double (a Model holds both copies).
// Arrays in: one copy into the tensor (C order as is, any other layout
// converted). Arrays out: no copy (the array owns the result tensor).
// The GIL is released while the library computes, so Python threads explain
// in parallel.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attribution/axiom_checks.hpp"
#include "attribution/faithfulness.hpp"
#include "attribution/method_registry.hpp"
#include "attribution/per_example.hpp"
#include "autodiff/errors.hpp"
#include "autodiff/ops.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/convert.hpp"
#include "nn/models/load_graph.hpp"
#include "nn/models/model_io.hpp"
#include "nn/onnx/onnx_reader.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/training/dataset.hpp"
#include "nn/training/evaluate.hpp"
#include "nn/training/trainer.hpp"

namespace py = pybind11;
using namespace fluxion;

namespace {

// ---------------------------------------------------------------- the model

/// A Fluxion model in both precisions (float for float32 inputs, double for
/// float64), built from one set of weights.
struct Model {
  Sequential<double> f64;
  Sequential<float> f32;
  std::string source;  // the file or description it came from, for messages
  // An ONNX model is a graph and has no Sequential: these are set instead.
  std::shared_ptr<const Graph<double>> graph64;
  std::shared_ptr<const Graph<float>> graph32;

  bool is_graph() const { return graph64 != nullptr; }
  /// The model as the function every method explains, in precision T.
  template <class T>
  Function<T> function() {
    if (!is_graph()) return as_function(in<T>());
    if constexpr (std::is_same_v<T, float>)
      return as_function(*graph32);
    else
      return as_function(*graph64);
  }
  Shape input_shape() const { return is_graph() ? graph64->input_shape() : f64.input_shape(); }
  /// model = head ∘ features at the representation layer (IG2): the input of the last Linear / Gemm.
  template <class T>
  void split_into(Function<T>& features, Function<T>& head) {
    if (is_graph()) {
      const auto& g = [&]() -> const Graph<T>& {
        if constexpr (std::is_same_v<T, float>)
          return *graph32;
        else
          return *graph64;
      }();
      auto split = g.split_at(g.default_representation());
      features = split.features;
      head = split.head;
      return;
    }
    auto split = split_at_last_linear(in<T>());
    features = as_function(split.features);
    head = as_function(split.head);
  }
  Shape output_shape() const { return is_graph() ? graph64->output_shape() : f64.output_shape(); }
  /// The Sequential, for what only Fluxion's own models have (training, saving, set_parameters).
  Sequential<double>& sequential(const char* what) {
    if (is_graph())
      throw ArgumentError(source + " is an ONNX model (a graph): " + what +
                          " is available for Fluxion's own models (load a .safetensors model or build_model)");
    return f64;
  }

  template <class T>
  Sequential<T>& in() {
    if constexpr (std::is_same_v<T, float>)
      return f32;
    else
      return f64;
  }
};

Model model_from(Sequential<double> model, std::string source) {
  Model m{std::move(model), {}, std::move(source)};
  m.f32 = convert_model<float>(m.f64);
  m.f64.eval();
  return m;
}

// ---------------------------------------------------------------- arrays

/// The array as a Tensor<T> (one copy; Fortran or strided layouts converted).
template <class T>
Tensor<T> to_tensor(const py::array_t<T, py::array::c_style | py::array::forcecast>& a) {
  Shape shape(a.shape(), a.shape() + a.ndim());
  Tensor<T> t = Tensor<T>::from_shape(shape);
  std::copy(a.data(), a.data() + a.size(), t.data());
  return t;
}

/// The tensor as an array that owns it (no copy).
template <class T>
py::array_t<T> to_array(Tensor<T> t) {
  auto* owned = new Tensor<T>(std::move(t));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<Tensor<T>*>(p); });
  std::vector<py::ssize_t> shape(owned->shape().begin(), owned->shape().end());
  return py::array_t<T>(shape, owned->data(), free_when_done);
}

/// "float32" or "float64" for a NumPy array; ArgumentError for any other dtype.
std::string float_kind(const py::array& a, const std::string& what) {
  if (py::isinstance<py::array_t<float>>(a)) return "float32";
  if (py::isinstance<py::array_t<double>>(a)) return "float64";
  throw ArgumentError(what + " must be a float32 or float64 array, got dtype " +
                      py::str(a.dtype()).cast<std::string>());
}

/// Attributions of NaN or infinite inputs are meaningless: refuse them.
template <class T>
void require_finite(const Tensor<T>& t, const std::string& what) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.data()[i]))
      throw ArgumentError(what + ": element " + std::to_string(i) + " is " +
                          (std::isnan(t.data()[i]) ? "NaN" : "infinite") + " (inputs must be finite)");
}

/// x as a batch [N, ...input_shape]: a single example gets a leading axis of 1
/// (`single` says so). ShapeError naming both shapes if x fits neither form.
template <class T>
Tensor<T> as_batch(const Tensor<T>& x, const Shape& example, bool& single) {
  const Shape shape = shape_of(x);
  single = shape == example;
  if (single) {
    Shape batch{1};
    batch.insert(batch.end(), example.begin(), example.end());
    Tensor<T> b = Tensor<T>::from_shape(batch);
    std::copy(x.data(), x.data() + x.size(), b.data());
    return b;
  }
  if (shape.size() != example.size() + 1 || !std::equal(example.begin(), example.end(), shape.begin() + 1) ||
      shape[0] == 0)
    throw ShapeError("x has shape " + shape_str(shape) + "; the model takes one example " + shape_str(example) +
                     " or a batch [N, " + shape_str(example).substr(1));
  return x;
}

// ---------------------------------------------------------------- explain

/// What explain / interactions / check take besides the model and x.
struct Request {
  std::string method = "ig";
  std::optional<std::vector<long long>> target;  // none: the predicted class
  std::string baseline = "zeros";                // zeros | black | blur | user
  std::optional<py::array> baseline_values;      // with baseline = "user"
  int steps = 0;
  std::uint64_t seed = 0;
  std::size_t samples = 0;
  std::optional<py::array> references;
  std::optional<std::vector<long long>> reference_labels;
  std::string output = "logit";
  std::size_t batch_size = 64;
  double tolerance = 1e-3;  // check only
  MethodOptions options;    // the reference-compatible options (rule, aggregate, ...)
  std::vector<long long> false_classes;  // checked >= 0 before it becomes options.false_classes
};

/// One resolved call: everything run_method needs, in precision T.
template <class T>
struct Prepared {
  const MethodSpec<T>* method;
  ExplainedOutput<T> out;
  Tensor<T> x;
  bool single = false;
  std::vector<std::size_t> classes;
  MethodSettings<T> settings;
};

template <class T>
std::vector<std::size_t> resolve_classes(const Request& r, const ExplainedOutput<T>& out, const Tensor<T>& x,
                                         std::size_t classes_of_model) {
  const std::size_t n = x.shape()[0];
  if (!r.target) return resolve_targets(out, x, {});
  const auto& t = *r.target;
  if (t.size() != 1 && t.size() != n)
    throw ArgumentError("target takes one class or one per example (" + std::to_string(n) + "), got " +
                        std::to_string(t.size()));
  std::vector<std::size_t> classes;
  for (long long c : t) {
    if (c < 0 || static_cast<std::size_t>(c) >= classes_of_model)
      throw ArgumentError("target " + std::to_string(c) + " is not a class of the model, which has " +
                          std::to_string(classes_of_model) + " outputs");
    classes.push_back(static_cast<std::size_t>(c));
  }
  if (classes.size() == 1) classes.assign(n, classes[0]);
  return classes;
}

template <class T>
Prepared<T> prepare(Model& model, const py::array& x_array, const Request& r) {
  Prepared<T> p;
  p.method = &method_spec<T>(r.method);
  if (r.steps < 0) throw ArgumentError("steps must be >= 0 (0: the method's default), got " + std::to_string(r.steps));
  p.settings.options = r.options;
  for (long long j : r.false_classes) {
    if (j < 0) throw ArgumentError("false_classes takes class indices >= 0, got " + std::to_string(j));
    p.settings.options.false_classes.push_back(static_cast<std::size_t>(j));
  }
  check_method_options(p.method->info, p.settings.options);
  if (r.batch_size == 0) throw ArgumentError("batch_size must be positive");
  p.out.model = model.function<T>();
  p.out.kind = parse_output_kind(r.output);
  p.out.batch_size = r.batch_size;
  const Tensor<T> x = to_tensor<T>(x_array);
  require_finite(x, "x");
  p.x = as_batch(x, model.input_shape(), p.single);
  p.classes = resolve_classes(r, p.out, p.x, model.output_shape()[0]);

  MethodSettings<T>& s = p.settings;
  s.steps = r.steps;
  s.seed = r.seed;
  s.samples = r.samples;
  Tensor<T> user;
  if (r.baseline_values) {
    if (float_kind(*r.baseline_values, "baseline") != float_kind(x_array, "x"))
      throw ArgumentError("baseline must have x's dtype (" + float_kind(x_array, "x") + ")");
    user = to_tensor<T>(*r.baseline_values);
    require_finite(user, "baseline");
  }
  if (p.method->info.takes_baseline) s.baseline = resolve_baseline(p.x, r.baseline, user);
  if (r.references) {
    if (float_kind(*r.references, "references") != float_kind(x_array, "x"))
      throw ArgumentError("references must have x's dtype (" + float_kind(x_array, "x") + ")");
    s.references = to_tensor<T>(*r.references);
    require_finite(s.references, "references");
  }
  if (p.method->info.needs_references && s.references.dimension() == 0)
    throw ArgumentError(r.method + " needs references (a pool [R, ...] of examples to draw baselines from)");
  if (r.reference_labels)
    for (long long c : *r.reference_labels) s.reference_labels.push_back(static_cast<std::size_t>(c));
  else if (p.method->info.needs_reference_labels && s.references.dimension() > 0)
    s.reference_labels = predicted_classes(p.out.model, s.references, r.batch_size);
  if (p.method->info.needs_split_model) model.split_into(s.features, s.head);
  return p;
}

/// explain / interactions: (values, output changes, completeness gaps, reference, single example?).
template <class T>
py::tuple explain_in(Model& model, const py::array& x, const Request& r, bool interactions) {
  Prepared<T> p = prepare<T>(model, x, r);
  const MethodInfo& info = p.method->info;
  if (info.interactions != interactions)
    throw ArgumentError("'" + r.method + "' is " + (info.interactions ? "an interaction" : "an attribution") +
                        " method: use fluxion." + (info.interactions ? "interactions" : "explain"));
  MethodOutput<T> result;
  {
    py::gil_scoped_release unlocked;
    // one example at a time, example i seeded with example_seed(seed, i): the CLI's rule, so the same
    // seed gives the CLI's numbers (attribution/per_example.hpp)
    result = run_method_per_example(*p.method, p.out, p.x, p.classes, p.settings);
  }
  return py::make_tuple(to_array(std::move(result.values)), result.output_changes, result.completeness_gaps,
                        result.reference, p.single);
}

template <class T>
py::list check_in(Model& model, const py::array& x, const Request& r) {
  Prepared<T> p = prepare<T>(model, x, r);
  std::vector<AxiomGap> gaps;
  {
    py::gil_scoped_release unlocked;
    gaps = check_axioms(*p.method, p.out, p.x, p.classes, p.settings, r.tolerance).gaps;
  }
  py::list rows;
  for (const AxiomGap& g : gaps)
    rows.append(py::dict(py::arg("axiom") = g.axiom, py::arg("gap") = g.relative_gap,
                         py::arg("tolerance") = g.tolerance, py::arg("note") = g.note));
  return rows;
}

template <class T>
py::dict deletion_insertion_in(Model& model, const py::array& x_array, const py::array& a_array,
                               std::optional<std::vector<long long>> target, std::size_t features_per_step,
                               double fraction_per_step, bool by_absolute_value, std::size_t batch_size) {
  ExplainedOutput<T> out;
  out.model = model.function<T>();
  out.batch_size = batch_size;
  bool single = false;
  const Tensor<T> x = as_batch(to_tensor<T>(x_array), model.input_shape(), single);
  require_finite(x, "x");
  if (float_kind(a_array, "attributions") != float_kind(x_array, "x"))
    throw ArgumentError("attributions must have x's dtype (" + float_kind(x_array, "x") + ")");
  Tensor<T> a = to_tensor<T>(a_array);
  if (a.size() != x.size())
    throw ShapeError("attributions have shape " + shape_str(shape_of(a)) + ", x has " + shape_str(shape_of(x)));
  a.reshape(x.shape());
  Request r;
  r.target = std::move(target);
  const std::vector<std::size_t> classes = resolve_classes(r, out, x, model.output_shape()[0]);
  FaithfulnessOptions<T> options;
  options.features_per_step = features_per_step;
  options.fraction_per_step = fraction_per_step;
  options.rank_by_absolute_value = by_absolute_value;
  DeletionInsertion<T> curves;
  {
    py::gil_scoped_release unlocked;
    curves = deletion_insertion(out, x, a, classes, options);
  }
  auto curve = [](PerturbationCurve<T>& c) {
    return py::dict(py::arg("fractions") = c.fractions, py::arg("values") = to_array(std::move(c.values)),
                    py::arg("auc") = c.auc);
  };
  return py::dict(py::arg("deletion") = curve(curves.deletion), py::arg("insertion") = curve(curves.insertion),
                  py::arg("difference") = curves.difference);
}

// ---------------------------------------------------------------- errors

/// Python classes of the library's errors (made in PYBIND11_MODULE).
PyObject* error_base = nullptr;      // fluxion.Error
PyObject* argument_error = nullptr;  // fluxion.ArgumentError(Error, ValueError): bad options, shapes, values
PyObject* file_error = nullptr;      // fluxion.FileError(Error, OSError): files that cannot be read

PyObject* new_error(const char* name, PyObject* bases, const char* doc) {
  PyObject* type = PyErr_NewExceptionWithDoc(name, doc, bases, nullptr);
  if (!type) throw py::error_already_set();
  return type;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "Fluxion's C++ library (use the fluxion package, not this module)";

  error_base = new_error("fluxion.Error", PyExc_Exception, "Every error fluxion raises.");
  argument_error = new_error("fluxion.ArgumentError", py::make_tuple(py::handle(error_base), py::handle(PyExc_ValueError)).release().ptr(),
                             "An invalid option, shape or value (the CLI's exit code 2).");
  file_error = new_error("fluxion.FileError", py::make_tuple(py::handle(error_base), py::handle(PyExc_OSError)).release().ptr(),
                         "A file that cannot be read or written (the CLI's exit code 1).");
  m.attr("Error") = py::handle(error_base);
  m.attr("ArgumentError") = py::handle(argument_error);
  m.attr("FileError") = py::handle(file_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ArgumentError& e) {
      PyErr_SetString(argument_error, e.what());
    } catch (const ShapeError& e) {
      PyErr_SetString(argument_error, e.what());
    } catch (const InputError& e) {
      PyErr_SetString(file_error, e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      PyErr_SetString(file_error, (e.path1().string() + ": " + e.code().message()).c_str());
    }
  });

  py::class_<Model>(m, "Model", "A Fluxion model (fluxion.load_model, fluxion.build_model)")
      .def_property_readonly("input_shape", [](const Model& self) { return self.input_shape(); })
      .def_property_readonly("output_shape", [](const Model& self) { return self.output_shape(); })
      .def_property_readonly("description", [](Model& self) { return describe_model(self.sequential("description")); })
      .def_property_readonly("is_graph", [](const Model& self) { return self.is_graph(); })
      .def_property_readonly("source", [](const Model& self) { return self.source; })
      .def("parameters", [](const Model& self) {
        py::dict params;
        if (self.is_graph()) {
          for (auto& [name, value] : self.graph64->parameters()) params[py::str(name)] = to_array(Tensor<double>(value));
          return params;
        }
        for (auto& [name, value] : parameter_tensors(self.f64)) params[py::str(name)] = to_array(Tensor<double>(value));
        return params;
      }, "Every weight and buffer (BatchNorm running statistics) by PyTorch state_dict name, as float64 arrays")
      .def("set_parameters", [](Model& model, const py::dict& params) {
        auto named = named_state(model.sequential("set_parameters"));  // parameters and buffers
        if (params.size() != named.size())
          throw ArgumentError("the model has " + std::to_string(named.size()) + " parameter tensors, got " +
                              std::to_string(params.size()));
        for (auto& p : named) {
          if (!params.contains(p.name)) throw ArgumentError("no value for parameter '" + p.name + "'");
          const Tensor<double> v = to_tensor<double>(params[py::str(p.name)].cast<py::array>());
          if (shape_of(v) != p.value.shape())
            throw ShapeError("parameter '" + p.name + "' has shape " + shape_str(p.value.shape()) + ", got " +
                             shape_str(shape_of(v)));
          require_finite(v, "parameter '" + p.name + "'");
          p.value.assign(v);
        }
        model.f32 = convert_model<float>(model.f64);
      }, py::arg("params"), "Replaces every parameter and buffer tensor (a dict name -> array, as parameters() returns)")
      .def("predict", [](Model& self, const py::array& x, std::size_t batch_size) -> py::array {
        auto run = [&]<class T>() -> py::array {
          bool single = false;
          const Tensor<T> batch = as_batch(to_tensor<T>(x), self.input_shape(), single);
          if (batch_size == 0) throw ArgumentError("batch_size must be positive");
          Tensor<T> logits;
          {
            py::gil_scoped_release unlocked;
            logits = self.is_graph() ? predict_logits(self.function<T>(), batch, batch_size)
                                     : predict_logits(self.in<T>(), batch, batch_size);
          }
          return to_array(std::move(logits));
        };
        return float_kind(x, "x") == "float32" ? run.template operator()<float>() : run.template operator()<double>();
      }, py::arg("x"), py::arg("batch_size") = 500);

  m.def("load_model", [](const std::string& path) {
    if (model_format(path) == ModelFormat::onnx) {  // by content, like the CLI
      const OnnxModel onnx = read_onnx(path);
      Model model;
      model.source = path;
      model.graph64 = std::make_shared<const Graph<double>>(onnx_graph<double>(onnx));
      model.graph32 = std::make_shared<const Graph<float>>(onnx_graph<float>(onnx));
      return model;
    }
    return model_from(load_model<double>(path), path);
  });
  m.def("build_model", [](const std::string& description, std::uint64_t seed) {
    return model_from(build_model<double>(description, seed, "description"), "description");
  });
  m.def("save_model", [](Model& model, const std::string& path) { save_model(path, model.sequential("save_model")); });
  m.def("smooth", [](const Model& model, double beta) {
    if (!(beta > 0) || !std::isfinite(beta)) throw ArgumentError("beta must be a finite number > 0");
    if (model.is_graph()) {
      Model s;
      s.source = model.source;
      s.graph64 = std::make_shared<const Graph<double>>(model.graph64->with_relu_as_softplus(beta));
      s.graph32 = std::make_shared<const Graph<float>>(model.graph32->with_relu_as_softplus(static_cast<float>(beta)));
      return s;
    }
    Model s{smooth(model.f64, beta), smooth(model.f32, static_cast<float>(beta)), model.source};
    return s;
  });

  py::class_<Request>(m, "Request")
      .def(py::init<>())
      .def_readwrite("method", &Request::method)
      .def_readwrite("target", &Request::target)
      .def_readwrite("baseline", &Request::baseline)
      .def_readwrite("baseline_values", &Request::baseline_values)
      .def_readwrite("steps", &Request::steps)
      .def_readwrite("seed", &Request::seed)
      .def_readwrite("samples", &Request::samples)
      .def_readwrite("references", &Request::references)
      .def_readwrite("reference_labels", &Request::reference_labels)
      .def_readwrite("output", &Request::output)
      .def_readwrite("batch_size", &Request::batch_size)
      .def_readwrite("tolerance", &Request::tolerance)
      .def_readwrite("false_classes", &Request::false_classes)
      .def_property("rule", [](const Request& r) { return r.options.rule; },
                    [](Request& r, const std::string& v) { r.options.rule = v; })
      .def_property("sigma_schedule", [](const Request& r) { return r.options.sigma_schedule; },
                    [](Request& r, const std::string& v) { r.options.sigma_schedule = v; })
      .def_property("blur_border", [](const Request& r) { return r.options.blur_border; },
                    [](Request& r, const std::string& v) { r.options.blur_border = v; })
      .def_property("blur_kernel", [](const Request& r) { return r.options.blur_kernel; },
                    [](Request& r, const std::string& v) { r.options.blur_kernel = v; })
      .def_property("max_sigma", [](const Request& r) { return r.options.max_sigma; },
                    [](Request& r, std::optional<double> v) { r.options.max_sigma = v; })
      .def_property("aggregate", [](const Request& r) { return r.options.aggregate; },
                    [](Request& r, const std::string& v) { r.options.aggregate = v; })
      .def_property("noise_sigma", [](const Request& r) { return r.options.noise_sigma; },
                    [](Request& r, std::optional<double> v) { r.options.noise_sigma = v; })
      .def_property("inner_baseline", [](const Request& r) { return r.options.inner_baseline; },
                    [](Request& r, const std::string& v) { r.options.inner_baseline = v; });

  m.def("explain", [](Model& model, const py::array& x, const Request& r, bool interactions) {
    return float_kind(x, "x") == "float32" ? explain_in<float>(model, x, r, interactions)
                                           : explain_in<double>(model, x, r, interactions);
  });
  // For benchmarks/python_overhead.py: the median time of the library call
  // alone (run_method on inputs prepared once), to set against the time of
  // fluxion.explain from Python.
  m.def("_library_seconds", [](Model& model, const py::array& x, const Request& r, int repeats) {
    auto time = [&]<class T>() {
      Prepared<T> p = prepare<T>(model, x, r);
      std::vector<double> seconds;
      py::gil_scoped_release unlocked;
      for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const MethodOutput<T> result = run_method_per_example(*p.method, p.out, p.x, p.classes, p.settings);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::sort(seconds.begin(), seconds.end());
      return seconds[seconds.size() / 2];
    };
    return float_kind(x, "x") == "float32" ? time.template operator()<float>() : time.template operator()<double>();
  });
  m.def("check", [](Model& model, const py::array& x, const Request& r) {
    return float_kind(x, "x") == "float32" ? check_in<float>(model, x, r) : check_in<double>(model, x, r);
  });
  m.def("deletion_insertion", [](Model& model, const py::array& x, const py::array& a,
                                 std::optional<std::vector<long long>> target, std::size_t features_per_step,
                                 double fraction_per_step, bool by_absolute_value, std::size_t batch_size) {
    return float_kind(x, "x") == "float32"
               ? deletion_insertion_in<float>(model, x, a, target, features_per_step, fraction_per_step,
                                              by_absolute_value, batch_size)
               : deletion_insertion_in<double>(model, x, a, target, features_per_step, fraction_per_step,
                                               by_absolute_value, batch_size);
  });
  m.def("methods", [] {
    py::list rows;
    for (const MethodInfo& i : method_catalogue()) {
      py::dict options;  // name -> {default, description, choices: {value: description}}
      for (const MethodOption& o : i.options) {
        py::dict choices;
        for (const OptionChoice& c : o.choices) choices[py::str(c.value)] = c.description;
        options[py::str(o.name)] = py::dict(py::arg("default") = o.default_value,
                                            py::arg("description") = o.description, py::arg("choices") = choices);
      }
      rows.append(py::dict(py::arg("name") = i.name, py::arg("description") = i.description,
                           py::arg("kind") = i.interactions ? "interactions" : "attributions",
                           py::arg("path_method") = i.path_method, py::arg("needs_references") = i.needs_references,
                           py::arg("takes_baseline") = i.takes_baseline, py::arg("default_steps") = i.default_steps,
                           py::arg("options") = options));
    }
    return rows;
  });
  // One step of plain gradient descent on a batch, in float64:
  //   L = (1/N) Σ_n CE(f_θ(x_n), y_n),   g = ∇_θ L,   θ ← θ − η·g
  // in training mode (BatchNorm normalises with the batch's statistics and
  // updates its running ones; Dropout drops), then back to eval mode.
  m.def("train_step", [](Model& model, const py::array& x, const std::vector<std::size_t>& labels, double lr) {
    Sequential<double>& net = model.sequential("train_step");
    const Tensor<double> batch = to_tensor<double>(x);
    require_finite(batch, "x");
    if (!(lr >= 0 && std::isfinite(lr))) throw ArgumentError("lr must be a finite number >= 0, got " + std::to_string(lr));
    if (batch.dimension() == 0 || batch.shape()[0] != labels.size())
      throw ArgumentError("x holds " + std::to_string(batch.dimension() ? batch.shape()[0] : 0) + " examples but " +
                          std::to_string(labels.size()) + " labels were given");
    const std::size_t classes = net.output_shape().empty() ? 0 : net.output_shape()[0];
    for (std::size_t y : labels)
      if (y >= classes) throw ArgumentError("label " + std::to_string(y) + " is not below the " + std::to_string(classes) + " classes");
    auto parameters = net.named_parameters();
    net.train();
    double loss_value = 0;
    try {
      for (auto& p : parameters) p.value.zero_grad();
      Var<double> loss = cross_entropy(net.forward(Var<double>(batch)), labels);
      loss_value = loss.item();
      backward(loss);
    } catch (...) {
      net.eval();
      throw;
    }
    py::dict gradients;
    for (auto& p : parameters) {
      const Tensor<double> g = p.value.has_grad() ? p.value.grad() : Tensor<double>(xt::zeros<double>(p.value.shape()));
      gradients[py::str(p.name)] = to_array(g);
      p.value.assign(Tensor<double>(p.value.value() - lr * g));
      p.value.zero_grad();
    }
    net.eval();
    model.f32 = convert_model<float>(model.f64);
    return py::make_tuple(loss_value, gradients);
  });
  m.def("train", [](Model& model, const std::string& data, std::size_t epochs, std::size_t batch_size, double lr,
                    const std::string& optimizer, std::uint64_t seed, std::size_t limit) {
    model.sequential("train");
    TrainConfig config;
    config.epochs = epochs;
    config.batch_size = batch_size;
    config.lr = lr;
    config.optimizer = optimizer;
    config.seed = seed;
    validate_train_config(config);
    Dataset<float> train = load_mnist_dataset<float>(data, "train");
    Dataset<float> test = load_mnist_dataset<float>(data, "test");
    if (limit > 0) train = head_of(train, limit);
    std::vector<EpochReport> history;
    {
      py::gil_scoped_release unlocked;
      history = train_model(model.f32, train, test, config);
    }
    model.f64 = convert_model<double>(model.f32);
    py::list rows;
    for (const EpochReport& e : history)
      rows.append(py::dict(py::arg("epoch") = e.epoch, py::arg("loss") = e.loss,
                           py::arg("train_accuracy") = e.train_accuracy, py::arg("test_accuracy") = e.test_accuracy,
                           py::arg("test_loss") = e.test_loss, py::arg("seconds") = e.seconds));
    return rows;
  });
}
