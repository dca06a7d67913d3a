// Regression tests from fuzzing the file readers (tests/fuzz/fuzz_*.cpp):
// the inputs that crashed a reader or made it misbehave, and the nastiest
// near-valid inputs built for the seed corpora (overflowing sizes, lengths
// past the end, truncated data). Each must fail with an InputError that names
// the input and the problem -- before anything large is allocated.
//
// The bytes are embedded here, so these run in the normal doctest suite
// without clang or libFuzzer.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "autodiff/errors.hpp"
#include "nn/data/idx.hpp"
#include "nn/io/npy.hpp"
#include "nn/io/safetensors.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/model_io.hpp"

using namespace fluxion;
using namespace std::string_literals;

namespace {

/// The message of the InputError `read` throws ("" if it throws none).
template <class Read>
std::string error_of(Read&& read) {
  try {
    read();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

/// `read` must throw InputError("<source>: ...") containing `problem`.
template <class Read>
void check_rejects(const std::string& source, const std::string& problem, Read&& read) {
  const std::string message = error_of(read);
  INFO("expected: " << source << ": ..." << problem << "\n  message: " << message);
  CHECK(message.rfind(source + ": ", 0) == 0);
  CHECK(message.find(problem) != std::string::npos);
}

/// A .npy file (version 1.0) with the given header dict and data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict + "\n";
  return "\x93NUMPY\x01\x00"s + static_cast<char>(header.size() & 0xFF) + static_cast<char>(header.size() >> 8) +
         header + data;
}

/// A .safetensors file with the given JSON header and data buffer.
std::string safetensors_bytes(const std::string& header, const std::string& buffer) {
  std::string length(8, '\0');
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((std::uint64_t{header.size()} >> (8 * i)) & 0xFF);
  return length + header + buffer;
}

}  // namespace

// ------------------------------------------------------------------ IDX

TEST_CASE("fuzz regressions: IDX headers that promise too much are rejected before allocating") {
  // images: count = rows = cols = 0xFFFFFFFF, no pixels
  const std::string huge = "\x00\x00\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"s;
  check_rejects("huge.idx", "the header says 4294967295 items, above the limit of 10,000,000",
                [&] { parse_idx_images(huge, "huge.idx"); });

  const std::string wide = "\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00\x10\x01\x00\x00\x00\x01"s;  // 1 x 4097 x 1
  check_rejects("wide.idx", "image size 4097x1 is not sane (each side must be 1..4096)",
                [&] { parse_idx_images(wide, "wide.idx"); });

  const std::string truncated = "\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x03"s +
                                std::string(10, '\x01');  // 2 x 3 x 3 needs 18 pixels
  check_rejects("truncated.idx", "file is truncated: 2 images of 3x3 need 34 bytes but the file has 26",
                [&] { parse_idx_images(truncated, "truncated.idx"); });

  const std::string many_labels = "\x00\x00\x08\x01\x00\x98\x96\x81"s;  // 10,000,001 labels
  check_rejects("labels.idx", "the header says 10000001 items, above the limit of 10,000,000",
                [&] { parse_idx_labels(many_labels, "labels.idx"); });

  const std::string bad_label = "\x00\x00\x08\x01\x00\x00\x00\x03\x01\x0c\x03"s;
  check_rejects("labels.idx", "label 12 at index 1 is outside 0..9",
                [&] { parse_idx_labels(bad_label, "labels.idx"); });

  check_rejects("magic.idx", "file is truncated: 4 bytes is shorter than the 16-byte IDX images header",
                [&] { parse_idx_images("\x00\x00\x08\x03"s, "magic.idx"); });
}

// ------------------------------------------------------------------ .npy

TEST_CASE("fuzz regressions: .npy shapes whose size overflows or exceeds the limits") {
  check_rejects("overflow.npy",
                "shape [1099511627776, 1099511627776] has too many elements (the count overflows 64 bits)", [&] {
                  parse_npy<float>(npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                             "'shape': (1099511627776, 1099511627776), }",
                                             ""),
                                   "overflow.npy");
                });
  check_rejects("big.npy", "shape [2147483649] has 2147483649 elements, above the limit of 2^31", [&] {
    parse_npy<double>(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483649,), }", ""), "big.npy");
  });
  check_rejects("digits.npy", "a shape extent in the header is too large", [&] {
    parse_npy<float>(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", ""),
                     "digits.npy");
  });
  std::string rank65 = "(";
  for (int i = 0; i < 65; ++i) rank65 += "1, ";
  rank65 += ")";
  check_rejects("rank.npy", "shape has 65 dimensions, above numpy's limit of 64", [&] {
    parse_npy<float>(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': " + rank65 + ", }", "\0\0\0\0"s),
                     "rank.npy");
  });
}

TEST_CASE("fuzz regressions: an empty .npy array whose other extents overflow the tensor strides") {
  // Found by fuzz_npy: shape (0, 10995116277760000000, 1099511627776) holds no
  // elements, so the count passed, but building the tensor multiplied the
  // other extents into its signed strides (UBSan: signed integer overflow in
  // xtensor's compute_strides).
  const std::string crash =
      "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, "
      "'shape': (0000000000000, 10995116277760000000, 1099511627776), }            \n"s;
  REQUIRE(crash.size() == 128);
  check_rejects("fuzz-crash.npy",
                "shape [0, 10995116277760000000, 1099511627776] holds no elements, but its other extents multiply to "
                "more than 2^31 (the size limit)",
                [&] { parse_npy<float>(crash, "fuzz-crash.npy"); });
  // Small enough other extents are fine: an empty array of shape [0, 2^31].
  const Tensor<double> empty = parse_npy<double>(
      npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2147483648), }", ""), "empty.npy");
  CHECK(empty.size() == 0);
  CHECK(shape_of(empty) == Shape{0, 2147483648});
}

TEST_CASE("fuzz regressions: .npy header lengths past the end and truncated data") {
  // Version 1.0 header length 0xFFFF in a 20-byte file.
  const std::string v1 = "\x93NUMPY\x01\x00\xff\xff{'descr': "s;
  check_rejects("long.npy", "header length 65535 exceeds the file size (20 bytes)",
                [&] { parse_npy<float>(v1, "long.npy"); });
  // Version 2.0 header length 0xFFFFFFFF: must not allocate 4 GiB.
  const std::string v2 = "\x93NUMPY\x02\x00\xff\xff\xff\xff{}"s;
  check_rejects("long2.npy", "header length 4294967295 exceeds the file size (14 bytes)",
                [&] { parse_npy<double>(v2, "long2.npy"); });
  check_rejects(
      "short.npy", "file is truncated: shape [4] of <f8 needs 32 data bytes but only 16 follow the header", [&] {
        parse_npy<double>(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", std::string(16, '\0')),
                          "short.npy");
      });
  check_rejects("prefix.npy", "file is truncated inside the .npy prefix",
                [&] { parse_npy<float>("\x93NUMPY\x01"s, "prefix.npy"); });
  check_rejects("quote.npy", "the header has an unterminated string",
                [&] { parse_npy<float>(npy_bytes("{'descr", ""), "quote.npy"); });
}

// ------------------------------------------------------------------ .safetensors

TEST_CASE("fuzz regressions: .safetensors lengths and offsets that point past the end") {
  // Header length 2^63 in a 10-byte file.
  const std::string huge_header = "\x00\x00\x00\x00\x00\x00\x00\x80{}"s;
  check_rejects("huge.safetensors", "header length 9223372036854775808 exceeds the file size (10 bytes)",
                [&] { parse_safetensors(huge_header, "huge.safetensors"); });
  check_rejects("tiny.safetensors", "file is truncated: 5 bytes is too short for the 8-byte safetensors header length",
                [&] { parse_safetensors("\x02\x00\x00\x00\x00"s, "tiny.safetensors"); });
  check_rejects(
      "past.safetensors", "tensor 'a' data_offsets [0, 16] are out of range: the data buffer has 8 bytes", [&] {
        parse_safetensors(
            safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')),
            "past.safetensors");
      });
  check_rejects("overlap.safetensors", "tensors 'a' and 'b' have overlapping data_offsets", [&] {
    parse_safetensors(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                        std::string(12, '\0')),
                      "overlap.safetensors");
  });
}

TEST_CASE("fuzz regressions: .safetensors bytes after the last tensor") {
  // The format ends the buffer where the last tensor ends (gaps between
  // tensors are tolerated); trailing bytes mean a corrupt file.
  check_rejects(
      "trailing.safetensors",
      "the file has 24 bytes after its last tensor (the data buffer has 32 bytes, the tensors end at byte 8)", [&] {
        parse_safetensors(
            safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(32, '\0')),
            "trailing.safetensors");
      });
  check_rejects("only-bytes.safetensors", "the file has 4 bytes after its last tensor",
                [&] { parse_safetensors(safetensors_bytes("{}", "abcd"), "only-bytes.safetensors"); });
}

TEST_CASE("fuzz regressions: .safetensors shapes whose byte count overflows") {
  check_rejects("shape.safetensors",
                "tensor 'a' shape [4294967296, 4294967296, 4294967296] is too large (the byte count overflows 64 bits)",
                [&] {
                  parse_safetensors(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,)"
                                                      R"(4294967296],"data_offsets":[0,0]}})",
                                                      ""),
                                    "shape.safetensors");
                });
  // The product wraps to exactly the span (2^62 * 4 = 2^64 = 0 mod 2^64): still an overflow.
  check_rejects("wrap.safetensors", "tensor 'a' shape [4611686018427387904] is too large", [&] {
    parse_safetensors(
        safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", ""),
        "wrap.safetensors");
  });
}

TEST_CASE("fuzz regressions: an empty .safetensors tensor whose other extents overflow the tensor strides") {
  // The .npy crash above, transposed: zero bytes, so the offsets [0, 0] match.
  check_rejects("empty.safetensors",
                "tensor 'a' shape [0, 1099511627776, 1099511627776] holds no elements, but its other extents are too "
                "large (their byte count overflows 64 bits)",
                [&] {
                  parse_safetensors(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[0,1099511627776,)"
                                                      R"(1099511627776],"data_offsets":[0,0]}})",
                                                      ""),
                                    "empty.safetensors");
                });
}

// ------------------------------------------------------------------ architecture

TEST_CASE("fuzz regressions: a JSON number beyond double's range is an InputError, not a json exception") {
  // Found by fuzz_architecture: nlohmann::json throws out_of_range (not
  // parse_error) for 1e30000, and build_model let it escape.
  const std::string crash = R"({"mnput_shape": [4], "layers": [{"type": "softplus", "beta":1e30000}]})";
  check_rejects("fuzz-crash.json",
                "\"{\"mnput_shape\": [4], \"layers\": [{\"type\": \"softplus\", \"beta\":...\" is neither a preset "
                "(mlp, cnn) nor valid JSON",
                [&] { build_model<float>(crash, 0, "fuzz-crash.json"); });
  check_rejects("fuzz-crash.json", "nor valid JSON", [&] { described_parameters(crash, "fuzz-crash.json"); });
  // The same description inside a model file.
  const std::string file = safetensors_bytes(
      R"({"__metadata__":{"architecture":"{\"input_shape\":[4],\"layers\":[{\"type\":\"softplus\",\"beta\":1e400}]}"}})",
      "");
  check_rejects("model.safetensors", "nor valid JSON", [&] { parse_model<double>(file, "model.safetensors"); });
}

TEST_CASE("fuzz regressions: architecture sizes are checked before any layer allocates") {
  check_rejects("arch.json",
                "layer 0 (linear) is too large: the model would hold more than 2^31 parameters "
                "(0.weight has shape [100000, 100000])",
                [&] {
                  described_parameters(
                      R"({"input_shape":[100000],"layers":[{"type":"linear","in":100000,"out":100000}]})", "arch.json");
                });
  // The same description must not reach the allocator in build_model either.
  check_rejects("arch.json", "is too large", [&] {
    build_model<float>(R"({"input_shape":[100000],"layers":[{"type":"linear","in":100000,"out":100000}]})", 0,
                       "arch.json");
  });
  check_rejects("arch.json", "layer 0 (linear) field \"in\" is 9223372036854775808, above the limit of 2^31", [&] {
    build_model<double>(R"({"input_shape":[4],"layers":[{"type":"linear","in":9223372036854775808,"out":2}]})", 0,
                        "arch.json");
  });
  check_rejects("arch.json", "layer 0 (conv2d) field \"padding\" is 4611686018427387904, above the limit of 2^31", [&] {
    build_model<float>(R"({"input_shape":[1,4,4],"layers":[{"type":"conv2d","in":1,"out":1,"kernel":1,)"
                       R"("padding":4611686018427387904}]})",
                       0, "arch.json");
  });
  // Summed over layers: two conv2d weights of 2^30 + 2^30 + biases.
  check_rejects("arch.json", "layer 1 (conv2d) is too large", [&] {
    described_parameters(R"({"input_shape":[1,1,1],"layers":[{"type":"conv2d","in":1,"out":1024,"kernel":1024},)"
                         R"({"type":"conv2d","in":1024,"out":1,"kernel":1024}]})",
                         "arch.json");
  });
}

TEST_CASE("fuzz regressions: architecture values that used to reach undefined behaviour") {
  // SoftPlus beta beyond float's range: converting it to float is undefined.
  check_rejects("arch.json", "layer 0 (softplus) is invalid: softplus: beta must be a finite number > 0", [&] {
    build_model<float>(R"({"input_shape":[4],"layers":[{"type":"softplus","beta":1e300}]})", 0, "arch.json");
  });
  // A deeply nested field value: the message names its kind instead of dumping it recursively.
  const std::string nested = std::string(20000, '[') + std::string(20000, ']');
  check_rejects("arch.json", "layer 0 (linear) field \"in\" must be an integer >= 1, got an array", [&] {
    build_model<float>(R"({"input_shape":[4],"layers":[{"type":"linear","out":2,"in":)" + nested + "}]}", 0,
                       "arch.json");
  });
}

TEST_CASE("fuzz regressions: text echoed from a description stays one printable line") {
  // A description that is not JSON is quoted in the message: control and
  // non-ASCII bytes are escaped, so the CLI still prints one line.
  const std::string png = "\x89PNG\r\n\x1a\n garbage"s;
  const std::string message = error_of([&] { build_model<float>(png, 0, "arch.json"); });
  CHECK(message == "arch.json: \"\\x89PNG\\r\\n\\x1a\\n garbage\" is neither a preset (mlp, cnn) nor valid JSON");
  // Keys and types from the JSON too.
  const std::string odd_key = R"({"input_shape":[4],"layers":[{"type":"re\nlu","x\ty":1}]})";
  const std::string odd = error_of([&] { build_model<float>(odd_key, 0, "arch.json"); });
  CHECK(odd ==
        "arch.json: layer 0 has unknown type \"re\\nlu\" (known: linear, conv2d, maxpool2d, avgpool2d, "
        "flatten, relu, softplus, tanh, sigmoid, dropout)");
  CHECK(error_of([&] { build_model<float>(R"({"input_shape":[4],"layers":[{"type":"relu","x\ty":1}]})", 0, "a"); }) ==
        "a: layer 0 (relu) has an unknown field \"x\\ty\"");
}

// ------------------------------------------------------------------ model files

TEST_CASE("fuzz regressions: a tiny model file cannot make the loader build a huge model") {
  // 60000 x 30000 parameters (7 GB as float) described, none stored: rejected
  // by comparing the file with the description, before build_model runs.
  const std::string arch = R"({\"input_shape\":[60000],\"layers\":[{\"type\":\"linear\",\"in\":60000,\"out\":30000}]})";
  const std::string file = safetensors_bytes(R"({"__metadata__":{"architecture":")" + arch + R"("}})", "");
  check_rejects("huge-model.safetensors", "parameter \"0.weight\" required by the architecture is missing",
                [&] { parse_model<float>(file, "huge-model.safetensors"); });
  CHECK(parse_model_metadata(file, "huge-model.safetensors").count("architecture") == 1);
}
