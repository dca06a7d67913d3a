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
#include "nn/modules/batchnorm.hpp"
#include "nn/modules/conv2d.hpp"
#include "nn/modules/dropout.hpp"
#include "nn/modules/flatten.hpp"
#include "nn/modules/linear.hpp"
#include "nn/modules/pooling.hpp"
#include "nn/modules/residual.hpp"

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

// A small ResNet (He et al. 2016) for 28×28 digits: a 3×3 stem, three basic
// blocks (16 channels at 28×28, 32 at 14×14, 64 at 7×7; the last two halve the
// size with stride 2 and project the shortcut with a 1×1 conv + BatchNorm),
// global average pooling and one linear layer. Convolutions before a
// BatchNorm have no bias (the BatchNorm's β takes its place), as in torchvision.
#define FLUXION_CONV_BN(in, out, kernel, stride, padding)                                                         \
  R"({"type":"conv2d","in":)" #in R"(,"out":)" #out R"(,"kernel":)" #kernel R"(,"stride":)" #stride               \
  R"(,"padding":)" #padding R"(,"bias":false},{"type":"batchnorm2d","channels":)" #out "}"
const char* const kResnet =
    R"({"input_shape":[1,28,28],"layers":[)"
    FLUXION_CONV_BN(1, 16, 3, 1, 1) R"(,{"type":"relu"},)"
    R"({"type":"residual","body":[)" FLUXION_CONV_BN(16, 16, 3, 1, 1) R"(,{"type":"relu"},)"
    FLUXION_CONV_BN(16, 16, 3, 1, 1) R"(],"shortcut":[]},{"type":"relu"},)"
    R"({"type":"residual","body":[)" FLUXION_CONV_BN(16, 32, 3, 2, 1) R"(,{"type":"relu"},)"
    FLUXION_CONV_BN(32, 32, 3, 1, 1) R"(],"shortcut":[)" FLUXION_CONV_BN(16, 32, 1, 2, 0) R"(]},{"type":"relu"},)"
    R"({"type":"residual","body":[)" FLUXION_CONV_BN(32, 64, 3, 2, 1) R"(,{"type":"relu"},)"
    FLUXION_CONV_BN(64, 64, 3, 1, 1) R"(],"shortcut":[)" FLUXION_CONV_BN(32, 64, 1, 2, 0) R"(]},{"type":"relu"},)"
    R"({"type":"global_avgpool2d"},{"type":"linear","in":64,"out":10}]})";
#undef FLUXION_CONV_BN

// Residual blocks may nest (a block inside a block's body) at most this deep.
constexpr std::size_t kMaxNesting = 8;

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
  std::size_t groups = 1;  // conv2d
  bool bias = true;
  double beta = 1.0;      // softplus
  double p = 0.5;         // dropout
  double eps = 1e-5, momentum = 0.1;  // batchnorm2d
  std::vector<LayerSpec> body, shortcut;  // residual
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
  void mark_used(const char* key) { used_.insert(key); }
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
  s.groups = f.positive_or("groups", 1);
  if (s.in % s.groups != 0 || s.out % s.groups != 0)
    f.fail("is invalid: groups " + std::to_string(s.groups) + " must divide both in (" + std::to_string(s.in) +
           ") and out (" + std::to_string(s.out) + ")");
}
void read_batchnorm(LayerFields& f, LayerSpec& s) {
  s.out = f.positive("channels");
  s.eps = f.number_or("eps", 1e-5);
  s.momentum = f.number_or("momentum", 0.1);
  if (!(s.eps > 0 && s.eps <= 1)) f.fail("is invalid: eps must be a number in (0, 1], got " + f.shown_field("eps"));
  if (!(s.momentum >= 0 && s.momentum <= 1))
    f.fail("is invalid: momentum must be a number in [0, 1], got " + f.shown_field("momentum"));
}
// A residual block's two layer lists are read by parse_layers (below), which
// recurses; this reader only marks the fields as known.
void read_residual(LayerFields& f, LayerSpec&) {
  f.mark_used("body");
  f.mark_used("shortcut");
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

/// The tensors one layer holds: parameters then buffers, under their
/// unprefixed state_dict names, with their shapes.
using LayerState = std::vector<ParameterSpec>;

/// One kind of layer: its "type" in the description, how its fields are
/// read, the tensors it holds (nullptr: none) and how the module is built.
struct LayerKind {
  const char* type;
  void (*read)(LayerFields&, LayerSpec&);
  LayerState (*state)(const LayerSpec&);
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
                         LayerState (*state)(const LayerSpec&), Factory factory) {
  return {type, read, state, factory, factory};
}

/// A weight of `shape` and, when the layer has one, a bias [out].
LayerState weight_and_bias(const LayerSpec& s, Shape weight) {
  LayerState state{{"weight", std::move(weight)}};
  if (s.bias) state.push_back({"bias", {s.out}});
  return state;
}
LayerState batchnorm_state(const LayerSpec& s) {
  return {{"weight", {s.out}}, {"bias", {s.out}}, {"running_mean", {s.out}}, {"running_var", {s.out}}};
}
LayerState residual_state(const LayerSpec& s);  // its paths' layers' states, prefixed (below)

template <class T>
std::shared_ptr<Module<T>> make_layer(const LayerSpec& spec, std::mt19937_64& rng);
template <class T>
Sequential<T> make_path(const std::vector<LayerSpec>& layers, std::mt19937_64& rng) {
  std::vector<std::shared_ptr<Module<T>>> built;
  for (const LayerSpec& l : layers) built.push_back(make_layer<T>(l, rng));
  return Sequential<T>(std::move(built), {});
}

template <class T>
using Layer = std::shared_ptr<Module<T>>;
using Rng = std::mt19937_64;

// Every layer kind a description may name, in the order the error message
// lists them. A new layer is one row here (and its module in nn/modules).
const LayerKind kLayerKinds[] = {
    kind("linear", read_linear, [](const LayerSpec& s) { return weight_and_bias(s, {s.out, s.in}); },
         []<class T>(As<T>, const LayerSpec& s, Rng& rng) -> Layer<T> {
           return std::make_shared<Linear<T>>(s.in, s.out, rng, s.bias);
         }),
    kind("conv2d", read_conv2d,
         [](const LayerSpec& s) { return weight_and_bias(s, {s.out, s.in / s.groups, s.kernel, s.kernel}); },
         []<class T>(As<T>, const LayerSpec& s, Rng& rng) -> Layer<T> {
           return std::make_shared<Conv2d<T>>(s.in, s.out, s.kernel, rng, s.stride, s.padding, s.bias, s.groups);
         }),
    kind("batchnorm2d", read_batchnorm, batchnorm_state,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> {
           return std::make_shared<BatchNorm2d<T>>(s.out, s.eps, s.momentum);
         }),
    kind("residual", read_residual, residual_state,
         []<class T>(As<T>, const LayerSpec& s, Rng& rng) -> Layer<T> {
           Sequential<T> body = make_path<T>(s.body, rng);  // body first: the order the weights are drawn in
           Sequential<T> shortcut = make_path<T>(s.shortcut, rng);
           return std::make_shared<Residual<T>>(std::move(body), std::move(shortcut));
         }),
    kind("maxpool2d", read_pool, nullptr,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> {
           return std::make_shared<MaxPool2d<T>>(s.kernel, s.stride);
         }),
    kind("avgpool2d", read_pool, nullptr,
         []<class T>(As<T>, const LayerSpec& s, Rng&) -> Layer<T> {
           return std::make_shared<AvgPool2d<T>>(s.kernel, s.stride);
         }),
    kind("global_avgpool2d", read_nothing, nullptr,
         []<class T>(As<T>, const LayerSpec&, Rng&) -> Layer<T> { return std::make_shared<GlobalAvgPool2d<T>>(); }),
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

std::vector<LayerSpec> parse_layers(const json& entries, const std::string& where_prefix, std::size_t depth);

/// One layer entry; `where` is "<source>: layer <i>" (nested: "… layer 3 (residual) body layer 1").
LayerSpec parse_layer(const json& entry, const std::string& where, std::size_t depth) {
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
  if (spec.type == "residual") {
    if (depth >= kMaxNesting)
      f.fail("nests residual blocks more than " + std::to_string(kMaxNesting) + " deep");
    if (!entry.contains("body") || !entry["body"].is_array() || entry["body"].empty())
      f.fail("needs a non-empty \"body\" array of layers");
    if (entry.contains("shortcut") && !entry["shortcut"].is_array())
      f.fail("field \"shortcut\" must be an array of layers (empty: the identity)");
    spec.body = parse_layers(entry["body"], spec.where + " body", depth + 1);
    if (entry.contains("shortcut")) spec.shortcut = parse_layers(entry["shortcut"], spec.where + " shortcut", depth + 1);
  }
  return spec;
}

std::vector<LayerSpec> parse_layers(const json& entries, const std::string& where_prefix, std::size_t depth) {
  std::vector<LayerSpec> layers;
  for (std::size_t i = 0; i < entries.size(); ++i)
    layers.push_back(parse_layer(entries[i], where_prefix + " layer " + std::to_string(i), depth));
  return layers;
}

ArchitectureSpec parse_description(const std::string& description, const std::string& source) {
  auto presets = preset_names();
  bool is_preset = std::find(presets.begin(), presets.end(), description) != presets.end();
  json doc;
  try {
    doc = json::parse(is_preset ? preset_description(description) : description);
  } catch (const json::exception&) {  // a syntax error, or a number beyond double's range (1e400)
    throw InputError(source + ": \"" + printable(description) +
                     "\" is neither a preset (mlp, cnn, resnet) nor valid JSON");
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
  spec.layers = parse_layers(doc["layers"], source + ":", 0);
  return spec;
}

/// The tensors a layer will hold (unprefixed state_dict names and shapes).
LayerState layer_state(const LayerSpec& layer) {
  const LayerKind& kind = *find_layer_kind(layer.type);  // parse_layer admitted only known types
  return kind.state ? kind.state(layer) : LayerState{};
}

LayerState residual_state(const LayerSpec& s) {
  LayerState state;
  for (const auto& [path, layers] : {std::pair{"body.", &s.body}, std::pair{"shortcut.", &s.shortcut}})
    for (std::size_t i = 0; i < layers->size(); ++i)
      for (ParameterSpec& p : layer_state((*layers)[i]))
        state.push_back({path + std::to_string(i) + "." + p.name, std::move(p.shape)});
  return state;
}

/// The tensors layer `index` will hold, with their state_dict names ("3.weight").
std::vector<ParameterSpec> layer_parameters(const LayerSpec& layer, std::size_t index) {
  std::vector<ParameterSpec> params;
  for (ParameterSpec& p : layer_state(layer)) params.push_back({std::to_string(index) + "." + p.name, std::move(p.shape)});
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
  if (spec.type == "residual") return find_layer_kind(spec.type)->make<T>(spec, rng);  // its layers name themselves
  try {
    return find_layer_kind(spec.type)->make<T>(spec, rng);  // parse_layer admitted only known types
  } catch (const ShapeError& e) {
    throw InputError(spec.where + " is invalid: " + e.what());
  } catch (const ArgumentError& e) {
    throw InputError(spec.where + " is invalid: " + e.what());
  }
}

}  // namespace

std::vector<std::string> preset_names() { return {"mlp", "cnn", "resnet"}; }

std::string preset_description(const std::string& name) {
  if (name == "mlp") return kMlp;
  if (name == "cnn") return kCnn;
  if (name == "resnet") return kResnet;
  throw InputError("unknown model preset \"" + name + "\" (known: mlp, cnn, resnet)");
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
