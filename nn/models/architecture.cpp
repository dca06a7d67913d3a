#include "nn/models/architecture.hpp"

#include <algorithm>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "nn/modules/activations.hpp"
#include "nn/modules/conv2d.hpp"
#include "nn/modules/dropout.hpp"
#include "nn/modules/flatten.hpp"
#include "nn/modules/linear.hpp"
#include "nn/modules/pooling.hpp"

namespace fluxion {

namespace {

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

// Reads the fields of one layer entry, checking names and types; `where`
// is "<source>: layer <i> (<type>)".
class LayerFields {
 public:
  LayerFields(const json& entry, std::string where) : entry_(entry), where_(std::move(where)) {}

  std::size_t positive(const char* key) { return positive_or(key, 0, true); }
  std::size_t positive_or(const char* key, std::size_t fallback, bool required = false) {
    used_.insert(key);
    if (!entry_.contains(key)) {
      if (required) fail(std::string("needs the field \"") + key + "\"");
      return fallback;
    }
    const json& v = entry_[key];
    if (!v.is_number_integer() || v.get<long long>() < 1)
      fail(std::string("field \"") + key + "\" must be an integer >= 1, got " + v.dump());
    return v.get<std::size_t>();
  }
  std::size_t non_negative_or(const char* key, std::size_t fallback) {
    used_.insert(key);
    if (!entry_.contains(key)) return fallback;
    const json& v = entry_[key];
    if (!v.is_number_integer() || v.get<long long>() < 0)
      fail(std::string("field \"") + key + "\" must be an integer >= 0, got " + v.dump());
    return v.get<std::size_t>();
  }
  double number_or(const char* key, double fallback) {
    used_.insert(key);
    if (!entry_.contains(key)) return fallback;
    const json& v = entry_[key];
    if (!v.is_number()) fail(std::string("field \"") + key + "\" must be a number, got " + v.dump());
    return v.get<double>();
  }
  bool flag_or(const char* key, bool fallback) {
    used_.insert(key);
    if (!entry_.contains(key)) return fallback;
    const json& v = entry_[key];
    if (!v.is_boolean()) fail(std::string("field \"") + key + "\" must be true or false, got " + v.dump());
    return v.get<bool>();
  }
  // Every field must have been read: an unknown one is probably a typo.
  void check_no_unknown_fields() {
    for (auto it = entry_.begin(); it != entry_.end(); ++it)
      if (it.key() != "type" && !used_.count(it.key())) fail("has an unknown field \"" + it.key() + "\"");
  }
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(where_ + " " + problem); }

 private:
  const json& entry_;
  std::string where_;
  std::set<std::string> used_;
};

template <class T>
std::shared_ptr<Module<T>> make_layer(const json& entry, std::size_t index, const std::string& source,
                                      std::mt19937_64& rng) {
  std::string where = source + ": layer " + std::to_string(index);
  if (!entry.is_object() || !entry.contains("type") || !entry["type"].is_string())
    throw InputError(where + " must be an object with a string field \"type\"");
  std::string type = entry["type"].get<std::string>();
  LayerFields f(entry, where + " (" + type + ")");
  std::shared_ptr<Module<T>> layer;
  try {
    if (type == "linear") {
      std::size_t in = f.positive("in"), out = f.positive("out");
      layer = std::make_shared<Linear<T>>(in, out, rng, f.flag_or("bias", true));
    } else if (type == "conv2d") {
      std::size_t in = f.positive("in"), out = f.positive("out"), k = f.positive("kernel");
      std::size_t stride = f.positive_or("stride", 1), padding = f.non_negative_or("padding", 0);
      layer = std::make_shared<Conv2d<T>>(in, out, k, rng, stride, padding, f.flag_or("bias", true));
    } else if (type == "maxpool2d" || type == "avgpool2d") {
      std::size_t k = f.positive("kernel"), stride = f.positive_or("stride", k);
      if (type == "maxpool2d") layer = std::make_shared<MaxPool2d<T>>(k, stride);
      else layer = std::make_shared<AvgPool2d<T>>(k, stride);
    } else if (type == "flatten") {
      layer = std::make_shared<Flatten<T>>();
    } else if (type == "relu") {
      layer = std::make_shared<ReLU<T>>();
    } else if (type == "softplus") {
      layer = std::make_shared<SoftPlus<T>>(static_cast<T>(f.number_or("beta", 1.0)));
    } else if (type == "tanh") {
      layer = std::make_shared<Tanh<T>>();
    } else if (type == "sigmoid") {
      layer = std::make_shared<Sigmoid<T>>();
    } else if (type == "dropout") {
      layer = std::make_shared<Dropout<T>>(f.number_or("p", 0.5));
    } else {
      throw InputError(where + " has unknown type \"" + type +
                       "\" (known: linear, conv2d, maxpool2d, avgpool2d, flatten, relu, softplus, tanh, sigmoid, "
                       "dropout)");
    }
  } catch (const ShapeError& e) {
    f.fail(std::string("is invalid: ") + e.what());
  }
  f.check_no_unknown_fields();
  return layer;
}

}  // namespace

std::vector<std::string> preset_names() { return {"mlp", "cnn"}; }

std::string preset_description(const std::string& name) {
  if (name == "mlp") return kMlp;
  if (name == "cnn") return kCnn;
  throw InputError("unknown model preset \"" + name + "\" (known: mlp, cnn)");
}

template <class T>
Sequential<T> build_model(const std::string& description, std::uint64_t seed, const std::string& source) {
  auto presets = preset_names();
  bool is_preset = std::find(presets.begin(), presets.end(), description) != presets.end();
  json doc;
  try {
    doc = json::parse(is_preset ? preset_description(description) : description);
  } catch (const json::parse_error&) {
    throw InputError(source + ": \"" + description.substr(0, 60) +
                     "\" is neither a preset (mlp, cnn) nor valid JSON");
  }
  if (!doc.is_object()) throw InputError(source + ": the description must be a JSON object");
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (it.key() != "input_shape" && it.key() != "layers" && it.key() != "dtype")
      throw InputError(source + ": unknown top-level field \"" + it.key() + "\" (known: input_shape, layers, dtype)");
  if (doc.contains("dtype") && doc["dtype"] != "float32" && doc["dtype"] != "float64")
    throw InputError(source + ": \"dtype\" must be \"float32\" or \"float64\", got " + doc["dtype"].dump());
  if (!doc.contains("layers") || !doc["layers"].is_array() || doc["layers"].empty())
    throw InputError(source + ": the description needs a non-empty \"layers\" array");
  if (!doc.contains("input_shape") || !doc["input_shape"].is_array() || doc["input_shape"].empty())
    throw InputError(source + ": the description needs \"input_shape\", e.g. [1, 28, 28]");
  Shape input_shape;
  for (const auto& d : doc["input_shape"]) {
    if (!d.is_number_integer() || d.get<long long>() < 1)
      throw InputError(source + ": \"input_shape\" entries must be integers >= 1, got " + doc["input_shape"].dump());
    input_shape.push_back(d.get<std::size_t>());
  }
  std::mt19937_64 rng(seed);
  std::vector<std::shared_ptr<Module<T>>> layers;
  for (std::size_t i = 0; i < doc["layers"].size(); ++i) layers.push_back(make_layer<T>(doc["layers"][i], i, source, rng));
  try {
    return Sequential<T>(std::move(layers), input_shape);
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
