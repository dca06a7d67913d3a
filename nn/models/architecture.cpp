#include "nn/models/architecture.hpp"

#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "nn/io/checked_reading.hpp"
#include "autodiff/errors.hpp"
#include "nn/modules/activations.hpp"
#include "nn/modules/conv2d.hpp"
#include "nn/modules/dropout.hpp"
#include "nn/modules/flatten.hpp"
#include "nn/modules/linear.hpp"
#include "nn/modules/pooling.hpp"

namespace fluxion {

namespace {

using reading::checked_mul;

using json = nlohmann::json;

const char* const kMlp =
    R"({"input_shape":[1,28,28],"layers":[{"type":"flatten"},{"type":"linear","in":784,"out":256},)"
    R"({"type":"relu"},{"type":"linear","in":256,"out":256},{"type":"relu"},{"type":"linear","in":256,"out":10}]})";

const char* const kCnn =
    R"({"input_shape":[1,28,28],"layers":[)"
    R"({"type":"conv2d","in":1,"out":16,"kernel":5,"stride":1,"padding":0},{"type":"relu"},)"
    R"({"type":"maxpool2d","kernel":2,"stride":2},)"
    R"({"type":"conv2d","in":16,"out":32,"kernel":5,"stride":1,"padding":0},{"type":"relu"},)"
    R"({"type":"maxpool2d","kernel":2,"stride":2},{"type":"flatten"},)"
    R"({"type":"linear","in":512,"out":128},{"type":"relu"},{"type":"linear","in":128,"out":10}]})";

constexpr std::uint64_t kMaxFieldValue = std::uint64_t{1} << 31;       // in, out, kernel, stride, padding
constexpr std::uint64_t kMaxModelParameters = std::uint64_t{1} << 31;  // summed over all layers

/// A JSON value for an error message: numbers, booleans and short strings as
/// written; arrays and objects by kind (dumping them is recursive and unbounded).
std::string shown(const json& v) {
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  std::string text = v.dump();
  return text.size() <= 60 ? text : text.substr(0, 57) + "...";
}

/// Text from the description for an error message: at most 60 bytes ("..."
/// marks a cut), control and non-ASCII bytes escaped ("\n", "\x89") so the
/// message stays one printable line.
std::string printable(const std::string& text) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text.substr(0, 60)) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f)
          out += std::string("\\x") + digits[c >> 4] + digits[c & 0xF];
        else
          out += static_cast<char>(c);
    }
  }
  return text.size() > 60 ? out + "..." : out;
}

/// One layer entry, its fields validated but nothing built yet.
struct LayerSpec {
  std::string type;
  std::size_t in = 0, out = 0, kernel = 0, stride = 0, padding = 0;  // as the type uses them
  bool bias = true;
  double beta = 1.0;  // softplus
  double p = 0.5;     // dropout
  std::string where;  // "<source>: layer <i> (<type>)", for errors
};

/// The whole description, validated field by field (the layers' fit is
/// checked when the Sequential is built).
struct ArchitectureSpec {
  Shape input_shape;
  std::vector<LayerSpec> layers;
};

// Reads the fields of one layer entry, checking names, types and ranges;
// `where` is "<source>: layer <i> (<type>)".
class LayerFields {
 public:
  LayerFields(const json& entry, std::string where) : entry_(entry), where_(std::move(where)) {}

  std::size_t positive(const char* key) { return integer_or(key, 0, 1, true); }
  std::size_t positive_or(const char* key, std::size_t fallback) { return integer_or(key, fallback, 1, false); }
  std::size_t non_negative_or(const char* key, std::size_t fallback) { return integer_or(key, fallback, 0, false); }
  double number_or(const char* key, double fallback) {
    used_.insert(key);
    if (!entry_.contains(key)) return fallback;
    const json& v = entry_[key];
    if (!v.is_number()) fail(std::string("field \"") + key + "\" must be a number, got " + shown(v));
    return v.get<double>();
  }
  bool flag_or(const char* key, bool fallback) {
    used_.insert(key);
    if (!entry_.contains(key)) return fallback;
    const json& v = entry_[key];
    if (!v.is_boolean()) fail(std::string("field \"") + key + "\" must be true or false, got " + shown(v));
    return v.get<bool>();
  }
  // Every field must have been read: an unknown one is probably a typo.
  void check_no_unknown_fields() {
    for (auto it = entry_.begin(); it != entry_.end(); ++it)
      if (it.key() != "type" && !used_.count(it.key())) fail("has an unknown field \"" + printable(it.key()) + "\"");
  }
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(where_ + " " + problem); }
  /// The value of field `key` as an error message shows it.
  std::string shown_field(const char* key) const { return entry_.contains(key) ? shown(entry_.at(key)) : "nothing"; }

 private:
  /// An integer field in [minimum, 2^31]; `fallback` when absent and not required.
  std::size_t integer_or(const char* key, std::size_t fallback, std::uint64_t minimum, bool required) {
    used_.insert(key);
    if (!entry_.contains(key)) {
      if (required) fail(std::string("needs the field \"") + key + "\"");
      return fallback;
    }
    const json& v = entry_[key];
    // nlohmann holds non-negative integers as unsigned, negative ones as signed.
    const bool negative = v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0;
    if (!v.is_number_integer() || negative || v.get<std::uint64_t>() < minimum)
      fail(std::string("field \"") + key + "\" must be an integer >= " + std::to_string(minimum) + ", got " +
           shown(v));
    if (v.get<std::uint64_t>() > kMaxFieldValue)
      fail(std::string("field \"") + key + "\" is " + shown(v) + ", above the limit of 2^31");
    return static_cast<std::size_t>(v.get<std::uint64_t>());
  }

  const json& entry_;
  std::string where_;
  std::set<std::string> used_;
};

// ---------------------------------------------------------------- the layer kinds

// How each field set is read from a layer's JSON entry.
void read_nothing(LayerFields&, LayerSpec&) {}
void read_linear(LayerFields& f, LayerSpec& s) {
  s.in = f.positive("in");
  s.out = f.positive("out");
  s.bias = f.flag_or("bias", true);
}
void read_conv2d(LayerFields& f, LayerSpec& s) {
  s.in = f.positive("in");
  s.out = f.positive("out");
  s.kernel = f.positive("kernel");
  s.stride = f.positive_or("stride", 1);
  s.padding = f.non_negative_or("padding", 0);
  s.bias = f.flag_or("bias", true);
}
void read_pool(LayerFields& f, LayerSpec& s) {
  s.kernel = f.positive("kernel");
  s.stride = f.positive_or("stride", s.kernel);
}
void read_softplus(LayerFields& f, LayerSpec& s) {
  s.beta = f.number_or("beta", 1.0);
  // Checked here, not only by SoftPlus: a beta beyond float's range would
  // make the conversion to float undefined.
  if (!(s.beta > 0.0 && s.beta <= std::numeric_limits<float>::max()))
    f.fail("is invalid: softplus: beta must be a finite number > 0 (at most 3.4e38), got " + f.shown_field("beta"));
}
void read_dropout(LayerFields& f, LayerSpec& s) { s.p = f.number_or("p", 0.5); }

/// Picks the scalar type of a layer factory (a tag, so one generic lambda
/// serves float and double).
template <class T>
struct As {};
template <class T>
using LayerFactory = std::shared_ptr<Module<T>> (*)(As<T>, const LayerSpec&, std::mt19937_64&);

/// One kind of layer: its "type" in the description, how its fields are
/// read, the shape of its weight (nullptr: no parameters; a bias, when the
/// layer has one, is [out]) and how the module is built.
struct LayerKind {
  const char* type;
  void (*read)(LayerFields&, LayerSpec&);
  Shape (*weight_shape)(const LayerSpec&);
  LayerFactory<float> make_float;
  LayerFactory<double> make_double;

  template <class T>
  std::shared_ptr<Module<T>> make(const LayerSpec& spec, std::mt19937_64& rng) const {
    if constexpr (std::is_same_v<T, float>)
      return make_float(As<float>{}, spec, rng);
    else
      return make_double(As<double>{}, spec, rng);
  }
};

/// A table row: the generic `factory` is instantiated for both precisions.
template <class Factory>
constexpr LayerKind kind(const char* type, void (*read)(LayerFields&, LayerSpec&),
                         Shape (*weight_shape)(const LayerSpec&), Factory factory) {
  return {type, read, weight_shape, factory, factory};
}

template <class T>
using Layer = std::shared_ptr<Module<T>>;
using Rng = std::mt19937_64;

// Every layer kind a description may name, in the order the error message
// lists them. A new layer is one row here (and its module in nn/modules).
const LayerKind kLayerKinds[] = {
    kind("linear", read_linear, [](const LayerSpec& s) { return Shape{s.out, s.in}; },
         []<class T>(As<T>, const LayerSpec& s, Rng& rng) -> Layer<T> {
           return std::make_shared<Linear<T>>(s.in, s.out, rng, s.bias);
         }),
    kind("conv2d", read_conv2d, [](const LayerSpec& s) { return Shape{s.out, s.in, s.kernel, s.kernel}; },
         []<class T>(As<T>, const LayerSpec& s, Rng& rng) -> Layer<T> {
           return std::make_shared<Conv2d<T>>(s.in, s.out, s.kernel, rng, s.stride, s.padding, s.bias);
         }),
    kind("maxpool2d", read_pool, nullptr,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> {
           return std::make_shared<MaxPool2d<T>>(s.kernel, s.stride);
         }),
    kind("avgpool2d", read_pool, nullptr,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> {
           return std::make_shared<AvgPool2d<T>>(s.kernel, s.stride);
         }),
    kind("flatten", read_nothing, nullptr,
         []<class T>(As<T>, const LayerSpec&, Rng&) -> Layer<T> { return std::make_shared<Flatten<T>>(); }),
    kind("relu", read_nothing, nullptr,
         []<class T>(As<T>, const LayerSpec&, Rng&) -> Layer<T> { return std::make_shared<ReLU<T>>(); }),
    kind("softplus", read_softplus, nullptr,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> {
           return std::make_shared<SoftPlus<T>>(static_cast<T>(s.beta));
         }),
    kind("tanh", read_nothing, nullptr,
         []<class T>(As<T>, const LayerSpec&, Rng&) -> Layer<T> { return std::make_shared<Tanh<T>>(); }),
    kind("sigmoid", read_nothing, nullptr,
         []<class T>(As<T>, const LayerSpec&, Rng&) -> Layer<T> { return std::make_shared<Sigmoid<T>>(); }),
    kind("dropout", read_dropout, nullptr,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> { return std::make_shared<Dropout<T>>(s.p); }),
};

/// The row of `type`; nullptr if no layer kind has that name.
const LayerKind* find_layer_kind(const std::string& type) {
  for (const LayerKind& k : kLayerKinds)
    if (type == k.type) return &k;
  return nullptr;
}

std::string known_layer_types() {
  std::string known;
  for (const LayerKind& k : kLayerKinds) known += (known.empty() ? "" : ", ") + std::string(k.type);
  return known;
}

// ---------------------------------------------------------------- reading a description

LayerSpec parse_layer(const json& entry, std::size_t index, const std::string& source) {
  const std::string where = source + ": layer " + std::to_string(index);
  if (!entry.is_object() || !entry.contains("type") || !entry["type"].is_string())
    throw InputError(where + " must be an object with a string field \"type\"");
  LayerSpec spec;
  spec.type = entry["type"].get<std::string>();
  spec.where = where + " (" + printable(spec.type) + ")";
  const LayerKind* kind = find_layer_kind(spec.type);
  if (!kind)
    throw InputError(where + " has unknown type \"" + printable(spec.type) + "\" (known: " + known_layer_types() + ")");
  LayerFields f(entry, spec.where);
  kind->read(f, spec);
  f.check_no_unknown_fields();
  return spec;
}

ArchitectureSpec parse_description(const std::string& description, const std::string& source) {
  auto presets = preset_names();
  bool is_preset = std::find(presets.begin(), presets.end(), description) != presets.end();
  json doc;
  try {
    doc = json::parse(is_preset ? preset_description(description) : description);
  } catch (const json::exception&) {  // a syntax error, or a number beyond double's range (1e400)
    throw InputError(source + ": \"" + printable(description) +
                     "\" is neither a preset (mlp, cnn) nor valid JSON");
  }
  if (!doc.is_object()) throw InputError(source + ": the description must be a JSON object");
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (it.key() != "input_shape" && it.key() != "layers" && it.key() != "dtype")
      throw InputError(source + ": unknown top-level field \"" + printable(it.key()) +
                       "\" (known: input_shape, layers, dtype)");
  if (doc.contains("dtype") && doc["dtype"] != "float32" && doc["dtype"] != "float64")
    throw InputError(source + ": \"dtype\" must be \"float32\" or \"float64\", got " + shown(doc["dtype"]));
  if (!doc.contains("layers") || !doc["layers"].is_array() || doc["layers"].empty())
    throw InputError(source + ": the description needs a non-empty \"layers\" array");
  if (!doc.contains("input_shape") || !doc["input_shape"].is_array() || doc["input_shape"].empty())
    throw InputError(source + ": the description needs \"input_shape\", e.g. [1, 28, 28]");
  ArchitectureSpec spec;
  for (const auto& d : doc["input_shape"]) {
    const bool negative = d.is_number_integer() && !d.is_number_unsigned() && d.get<std::int64_t>() < 0;
    if (!d.is_number_integer() || negative || d.get<std::uint64_t>() < 1)
      throw InputError(source + ": \"input_shape\" entries must be integers >= 1, got " + shown(d));
    spec.input_shape.push_back(d.get<std::size_t>());
  }
  for (std::size_t i = 0; i < doc["layers"].size(); ++i)
    spec.layers.push_back(parse_layer(doc["layers"][i], i, source));
  return spec;
}

/// The parameter tensors layer `index` will hold (state_dict names and shapes).
std::vector<ParameterSpec> layer_parameters(const LayerSpec& layer, std::size_t index) {
  const LayerKind& kind = *find_layer_kind(layer.type);  // parse_layer admitted only known types
  if (!kind.weight_shape) return {};
  const std::string prefix = std::to_string(index) + ".";
  std::vector<ParameterSpec> params{{prefix + "weight", kind.weight_shape(layer)}};
  if (layer.bias) params.push_back({prefix + "bias", {layer.out}});
  return params;
}

/// Every parameter of the architecture, the total checked against
/// kMaxModelParameters before anything is allocated.
std::vector<ParameterSpec> parameters_of(const ArchitectureSpec& spec) {
  std::vector<ParameterSpec> all;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    for (ParameterSpec& p : layer_parameters(spec.layers[i], i)) {
      std::uint64_t count = 1;
      bool fits = true;
      for (std::size_t extent : p.shape) fits = fits && checked_mul(count, extent, count);
      if (!fits || count > kMaxModelParameters - total)
        throw InputError(spec.layers[i].where + " is too large: the model would hold more than 2^31 parameters (" +
                         p.name + " has shape " + shape_str(p.shape) + ")");
      total += count;
      all.push_back(std::move(p));
    }
  }
  return all;
}

template <class T>
std::shared_ptr<Module<T>> make_layer(const LayerSpec& spec, std::mt19937_64& rng) {
  try {
    return find_layer_kind(spec.type)->make<T>(spec, rng);  // parse_layer admitted only known types
  } catch (const ShapeError& e) {
    throw InputError(spec.where + " is invalid: " + e.what());
  } catch (const ArgumentError& e) {
    throw InputError(spec.where + " is invalid: " + e.what());
  }
}

}  // namespace

std::vector<std::string> preset_names() { return {"mlp", "cnn"}; }

std::string preset_description(const std::string& name) {
  if (name == "mlp") return kMlp;
  if (name == "cnn") return kCnn;
  throw InputError("unknown model preset \"" + name + "\" (known: mlp, cnn)");
}

std::vector<ParameterSpec> described_parameters(const std::string& description, const std::string& source) {
  return parameters_of(parse_description(description, source));
}

template <class T>
Sequential<T> build_model(const std::string& description, std::uint64_t seed, const std::string& source) {
  const ArchitectureSpec spec = parse_description(description, source);
  parameters_of(spec);  // sizes are checked before any layer allocates
  std::mt19937_64 rng(seed);
  std::vector<std::shared_ptr<Module<T>>> layers;
  for (const LayerSpec& layer : spec.layers) layers.push_back(make_layer<T>(layer, rng));
  try {
    return Sequential<T>(std::move(layers), spec.input_shape);
  } catch (const ShapeError& e) {
    throw InputError(source + ": " + e.what());
  }
}

template <class T>
std::string describe_model(const Sequential<T>& model) {
  return model.describe().dump();
}

template Sequential<float> build_model(const std::string&, std::uint64_t, const std::string&);
template Sequential<double> build_model(const std::string&, std::uint64_t, const std::string&);
template std::string describe_model(const Sequential<float>&);
template std::string describe_model(const Sequential<double>&);

}  // namespace fluxion
