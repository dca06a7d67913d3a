// libFuzzer harness for the .npy reader (nn/io/npy.hpp): every input is read
// as float and as double. A parsed array is touched element by element and
// must survive an in-memory round trip write_npy -> parse_npy bit for bit
// (an array read from '<f4' as double is written as '<f8' and vice versa, so
// the reader's limits must not depend on the stored dtype).
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>

#include "nn/io/npy.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

namespace {

template <class T>
void check_round_trip(const Tensor<T>& array) {
  std::ostringstream out;
  if (!fuzz::accepts("write_npy", [&] { write_npy(out, array); }))
    fuzz::finding("write_npy rejects an array parse_npy accepted");
  Tensor<T> again;
  if (!fuzz::accepts("fuzz-round-trip.npy", [&] { again = parse_npy<T>(out.str(), "fuzz-round-trip.npy"); }))
    fuzz::finding("write_npy produced bytes parse_npy rejects");
  if (shape_of(again) != shape_of(array)) fuzz::finding("the round trip changed the shape");
  if (array.size() != 0 && std::memcmp(again.data(), array.data(), array.size() * sizeof(T)) != 0)
    fuzz::finding("the round trip changed the values");
}

template <class T>
void read_as(std::string_view bytes) {
  Tensor<T> array;
  if (!fuzz::accepts("fuzz.npy", [&] { array = parse_npy<T>(bytes, "fuzz.npy"); })) return;
  double sum = 0;  // touch every element (ASan checks each read)
  for (T v : array) sum += static_cast<double>(v);
  (void)sum;
  if (array.size() != numel_of(shape_of(array))) fuzz::finding("element count does not match the shape");
  check_round_trip(array);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::bytes_of(data, size);
  read_as<float>(bytes);
  read_as<double>(bytes);
  return 0;
}
