// libFuzzer harness for the .safetensors reader (nn/io/safetensors.hpp). A
// parsed file is touched tensor by tensor and must survive an in-memory round
// trip write_safetensors -> parse_safetensors with the same names, shapes,
// metadata and bits: as F64 always, and as F32 when every tensor was F32.
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "nn/io/safetensors.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

namespace {

bool same_bits(const Tensor<double>& a, const Tensor<double>& b) {
  return shape_of(a) == shape_of(b) &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

void check_round_trip(const SafetensorsFile& file, StorageDtype dtype, const std::string& dtype_name) {
  std::ostringstream out;
  if (!fuzz::accepts("fuzz-out.safetensors",
                     [&] { write_safetensors(out, "fuzz-out.safetensors", file.tensors, file.metadata, dtype); }))
    fuzz::finding("write_safetensors rejects tensors parse_safetensors accepted");
  SafetensorsFile again;
  if (!fuzz::accepts("fuzz-out.safetensors", [&] { again = parse_safetensors(out.str(), "fuzz-out.safetensors"); }))
    fuzz::finding("write_safetensors produced bytes parse_safetensors rejects");
  if (again.metadata != file.metadata) fuzz::finding("the round trip changed the metadata");
  if (again.tensors.size() != file.tensors.size()) fuzz::finding("the round trip changed the tensor count");
  for (const auto& [name, tensor] : file.tensors) {
    auto it = again.tensors.find(name);
    if (it == again.tensors.end()) fuzz::finding("the round trip lost tensor '" + name + "'");
    if (!same_bits(it->second, tensor)) fuzz::finding("the round trip changed tensor '" + name + "'");
    if (again.dtypes.at(name) != dtype_name) fuzz::finding("the round trip stored the wrong dtype");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SafetensorsFile file;
  if (!fuzz::accepts("fuzz.safetensors",
                     [&] { file = parse_safetensors(fuzz::bytes_of(data, size), "fuzz.safetensors"); }))
    return 0;

  bool all_f32 = true;
  for (const auto& [name, tensor] : file.tensors) {
    double sum = 0;  // touch every element (ASan checks each read)
    for (double v : tensor) sum += v;
    (void)sum;
    const std::string& dtype = file.dtypes.at(name);
    if (dtype != "F32" && dtype != "F64") fuzz::finding("tensor '" + name + "' has dtype " + dtype);
    all_f32 = all_f32 && dtype == "F32";
  }
  if (file.dtypes.size() != file.tensors.size()) fuzz::finding("dtypes and tensors disagree");

  check_round_trip(file, StorageDtype::F64, "F64");
  if (all_f32) check_round_trip(file, StorageDtype::F32, "F32");
  return 0;
}
