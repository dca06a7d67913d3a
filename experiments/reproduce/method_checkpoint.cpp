// Checkpoints of a method comparison (see method_checkpoint.hpp).
#include "experiments/reproduce/method_checkpoint.hpp"

#include <bit>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "nn/io/atomic_file.hpp"
#include "nn/io/npy.hpp"

namespace fluxion::experiments {

namespace fs = std::filesystem;

std::string fnv1a64_hex(std::string_view bytes) {
  // Fowler–Noll–Vo 1a, 64-bit offset basis and prime.
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

std::string tensor_fingerprint(const Tensor<double>& t) {
  // The shape (as text) then the raw element bytes, hashed together.
  std::string bytes;
  for (auto d : t.shape()) bytes += std::to_string(d) + ",";
  bytes.append(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(double));
  return fnv1a64_hex(bytes);
}

std::string method_slug(const std::string& label) {
  std::string slug;
  for (char c : label) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (plain) {
      slug += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    } else if (!slug.empty() && slug.back() != '_') {
      slug += '_';
    }
  }
  while (!slug.empty() && slug.back() == '_') slug.pop_back();
  return slug + "-" + fnv1a64_hex(label).substr(0, 8);
}

fs::path checkpoint_folder(const fs::path& experiment_dir, const std::string& comparison) {
  return experiment_dir / "partial" / comparison;
}

namespace {

/// A double as the 16 hex digits of its IEEE-754 bit pattern (exact, NaN-safe).
std::string double_bits(double v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(v)));
  return text;
}

double double_from_bits(const std::string& hex) {
  if (hex.size() != 16 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw std::runtime_error("'" + hex + "' is not 16 hex digits");
  return std::bit_cast<double>(static_cast<std::uint64_t>(std::stoull(hex, nullptr, 16)));
}

nlohmann::json bits_of(const std::vector<double>& values) {
  nlohmann::json a = nlohmann::json::array();
  for (double v : values) a.push_back(double_bits(v));
  return a;
}

std::vector<double> doubles_of(const nlohmann::json& a) {
  std::vector<double> values;
  for (const auto& e : a) values.push_back(double_from_bits(e.get<std::string>()));
  return values;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path.string() + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void store_method(const fs::path& folder, const std::string& slug, const nlohmann::json& fingerprint,
                  const StoredMethod& method) {
  fs::create_directories(folder);
  std::ostringstream npy;
  write_npy(npy, method.output.values);
  const std::string bytes = npy.str();
  write_bytes_atomically(folder / (slug + ".npy"), bytes);
  nlohmann::json shape = nlohmann::json::array();
  for (auto d : method.output.values.shape()) shape.push_back(d);
  const nlohmann::json record = {{"fingerprint", fingerprint},
                                 {"values_fnv1a64", fnv1a64_hex(bytes)},
                                 {"values_shape", shape},
                                 {"output_changes_bits", bits_of(method.output.output_changes)},
                                 {"completeness_gaps_bits", bits_of(method.output.completeness_gaps)},
                                 {"reference", method.output.reference},
                                 {"seconds_per_image", method.seconds_per_image}};
  write_bytes_atomically(folder / (slug + ".json"), record.dump(2) + "\n");
}

LoadedMethod load_method(const fs::path& folder, const std::string& slug, const nlohmann::json& fingerprint) {
  const fs::path json_path = folder / (slug + ".json"), npy_path = folder / (slug + ".npy");
  LoadedMethod loaded;
  if (!fs::exists(json_path)) return loaded;
  try {
    const nlohmann::json record = nlohmann::json::parse(read_bytes(json_path));
    if (record.at("fingerprint") != fingerprint) {
      loaded.problem = json_path.string() + " was computed with other settings (its fingerprint differs)";
      return loaded;
    }
    const std::string bytes = read_bytes(npy_path);
    if (fnv1a64_hex(bytes) != record.at("values_fnv1a64").get<std::string>()) {
      loaded.problem = npy_path.string() + " does not match the checksum recorded in " + json_path.string();
      return loaded;
    }
    StoredMethod m;
    m.output.values = parse_npy<double>(bytes, npy_path.string());
    std::vector<std::size_t> shape(m.output.values.shape().begin(), m.output.values.shape().end());
    if (shape != record.at("values_shape").get<std::vector<std::size_t>>()) {
      loaded.problem = npy_path.string() + " has another shape than " + json_path.string() + " records";
      return loaded;
    }
    m.output.output_changes = doubles_of(record.at("output_changes_bits"));
    m.output.completeness_gaps = doubles_of(record.at("completeness_gaps_bits"));
    m.output.reference = record.at("reference").get<std::string>();
    m.seconds_per_image = record.at("seconds_per_image").get<double>();
    loaded.method = std::move(m);
  } catch (const std::exception& e) {
    loaded.problem = json_path.string() + " or its .npy is damaged (" + e.what() + ")";
  }
  return loaded;
}

void stop_if_requested(const fs::path& experiment_dir) {
  const char* value = std::getenv("FLUXION_STOP_AFTER_METHODS");
  if (value == nullptr || *value == '\0') return;
  const unsigned long limit = std::strtoul(value, nullptr, 10);
  std::size_t stored = 0;
  std::error_code ignore;
  for (const auto& entry : fs::recursive_directory_iterator(experiment_dir / "partial", ignore))
    stored += entry.path().extension() == ".json";
  if (stored >= limit)
    throw std::runtime_error("stopped after " + std::to_string(stored) +
                             " stored methods (test hook FLUXION_STOP_AFTER_METHODS=" + value + ")");
}

}  // namespace fluxion::experiments
