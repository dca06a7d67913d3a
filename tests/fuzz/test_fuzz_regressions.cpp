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
#include <sstream>
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
                "shape [1099511627776, 1099511627776] has too many elements (the count overflows 64 bits; the size limit "
                "is 2^31)", [&] {
                  parse_npy<float>(npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                             "'shape': (1099511627776, 1099511627776), }",
                                             ""),
                                   "overflow.npy");
                });
  check_rejects("big.npy", "shape [2147483649] has 2147483649 elements, above the size limit of 2^31", [&] {
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
                "shape [0, 10995116277760000000, 1099511627776] holds no elements, but its non-zero extents multiply "
                "to more than 2^31, the size limit (a tensor's strides are products of them)",
                [&] { parse_npy<float>(crash, "fuzz-crash.npy"); });
  // Small enough other extents are fine: an empty array of shape [0, 2^31],
  // stored as either dtype and read as either type (the same rule for all).
  for (const char* descr : {"<f4", "<f8"}) {
    INFO("descr " << descr);
    const std::string header = "{'descr': '"s + descr + "', 'fortran_order': False, 'shape': ";
    const Tensor<double> empty = parse_npy<double>(npy_bytes(header + "(0, 2147483648), }", ""), "empty.npy");
    CHECK(empty.size() == 0);
    CHECK(shape_of(empty) == Shape{0, 2147483648});
    CHECK(shape_of(parse_npy<float>(npy_bytes(header + "(0, 2147483648), }", ""), "empty.npy")) ==
          Shape{0, 2147483648});
    check_rejects("beyond.npy", "more than 2^31, the size limit",
                  [&] { parse_npy<float>(npy_bytes(header + "(0, 2147483649), }", ""), "beyond.npy"); });
  }
}

TEST_CASE("fuzz regressions: the .npy size rule counts elements, not bytes") {
  // The reader used to cap the data at 4 GiB as well: an '<f4' array of 2^30
  // elements (4 GiB) was read as double, written back as '<f8' (8 GiB), and
  // the re-read refused it. Now the limit is 2^31 elements in either dtype;
  // memory stays bounded because all the bytes must be in the file.
  check_rejects("f8.npy",
                "file is truncated: shape [1073741824] of <f8 needs 8589934592 data bytes but only 0 follow the header",
                [&] {
                  parse_npy<float>(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824,), }", ""),
                                   "f8.npy");
                });
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

TEST_CASE("fuzz regressions: .safetensors shapes above the size limit of 2^31 elements") {
  check_rejects("shape.safetensors",
                "tensor 'a' shape [4294967296, 4294967296, 4294967296] has too many elements (the count overflows 64 "
                "bits; the size limit is 2^31)",
                [&] {
                  parse_safetensors(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,)"
                                                      R"(4294967296],"data_offsets":[0,0]}})",
                                                      ""),
                                    "shape.safetensors");
                });
  // The byte count wraps to exactly the span (2^62 * 4 = 2^64 = 0 mod 2^64):
  // the rule counts elements, so there is nothing to wrap.
  check_rejects("wrap.safetensors",
                "tensor 'a' shape [4611686018427387904] has 4611686018427387904 elements, above the size limit of "
                "2^31",
                [&] {
                  parse_safetensors(
                      safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})",
                                        ""),
                      "wrap.safetensors");
                });
}

TEST_CASE("fuzz regressions: an empty .safetensors tensor whose other extents overflow the tensor strides") {
  // The .npy crash below, transposed: zero bytes, so the offsets [0, 0] match.
  check_rejects("empty.safetensors",
                "tensor 'a' shape [0, 1099511627776, 1099511627776] holds no elements, but its non-zero extents "
                "multiply to more than 2^31, the size limit (a tensor's strides are products of them)",
                [&] {
                  parse_safetensors(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[0,1099511627776,)"
                                                      R"(1099511627776],"data_offsets":[0,0]}})",
                                                      ""),
                                    "empty.safetensors");
                });
}

TEST_CASE("fuzz regressions: an empty F32 tensor the reader accepted but its F64 re-write did not") {
  // Found by fuzz_safetensors after 249 s (9.3 M runs): the reader limited
  // an empty tensor's non-zero extents by their byte count, 2^61.2 elements
  // x 4 bytes (F32) fit in 64 bits, so the file was read; written back as
  // F64 (x 8 bytes) the same shape overflowed and the re-read rejected it.
  // The size rule now counts elements whatever the dtype, so reader and
  // writer agree: both reject the shape, in either dtype, with one sentence.
  const std::string found = "\x58\x00\x00\x00\x00\x00\x00\x00"s +
                            R"({"a":{"dtype":"F32","shape":[2,499,42,0,664,0,664,66,92049,24],"data_offsets":[0,0]}})"
                            "   ";
  REQUIRE(found.size() == 96);
  const std::string sentence =
      "tensor 'a' shape [2, 499, 42, 0, 664, 0, 664, 66, 92049, 24] holds no elements, but its non-zero extents "
      "multiply to more than 2^31, the size limit (a tensor's strides are products of them)";
  check_rejects("fuzz-found.safetensors", sentence, [&] { parse_safetensors(found, "fuzz-found.safetensors"); });
  check_rejects("f64.safetensors", sentence, [&] {
    parse_safetensors(safetensors_bytes(R"({"a":{"dtype":"F64","shape":[2,499,42,0,664,0,664,66,92049,24],)"
                                        R"("data_offsets":[0,0]}})",
                                        ""),
                      "f64.safetensors");
  });

  // At the limit, an empty tensor is read in either dtype and survives the
  // re-write in both.
  for (const char* dtype : {"F32", "F64"}) {
    INFO("dtype " << dtype);
    const std::string edge = safetensors_bytes(
        R"({"a":{"dtype":")"s + dtype + R"(","shape":[65536,0,32768],"data_offsets":[0,0]}})", "");
    const SafetensorsFile file = parse_safetensors(edge, "edge.safetensors");
    REQUIRE(shape_of(file.tensors.at("a")) == Shape{65536, 0, 32768});
    for (StorageDtype storage : {StorageDtype::F32, StorageDtype::F64}) {
      std::ostringstream out;
      write_safetensors(out, "edge-out.safetensors", file.tensors, file.metadata, storage);
      CHECK(shape_of(parse_safetensors(out.str(), "edge-out.safetensors").tensors.at("a")) ==
            Shape{65536, 0, 32768});
    }
  }
}

TEST_CASE("fuzz regressions: the writers refuse shapes their readers would reject") {
  // One past the limit: an empty tensor (cheap to build) whose non-zero
  // extents multiply to 2^31 + 1. Writing it would produce a file the
  // reader rejects, so the writers fail first, with the reader's sentence.
  const Tensor<double> beyond(Shape{0, 2147483649});
  const std::string sentence =
      "shape [0, 2147483649] holds no elements, but its non-zero extents multiply to more than 2^31, the size limit";
  for (StorageDtype storage : {StorageDtype::F32, StorageDtype::F64}) {
    std::ostringstream out;
    check_rejects("out.safetensors", "tensor 'e' " + sentence,
                  [&] { write_safetensors(out, "out.safetensors", {{"e", beyond}}, {}, storage); });
    CHECK(out.str().empty());
  }
  std::ostringstream npy_out;
  check_rejects("write_npy", sentence, [&] { write_npy(npy_out, beyond); });
  CHECK(npy_out.str().empty());
  // numpy's rank limit, which the .npy reader applies, holds for the writer too.
  const Tensor<float> rank65(Shape(65, 1));
  check_rejects("write_npy", "shape has 65 dimensions, above numpy's limit of 64",
                [&] { write_npy(npy_out, rank65); });
  CHECK(npy_out.str().empty());
}

// ------------------------------------------------------------------ architecture

TEST_CASE("fuzz regressions: a JSON number beyond double's range is an InputError, not a json exception") {
  // Found by fuzz_architecture: nlohmann::json throws out_of_range (not
  // parse_error) for 1e30000, and build_model let it escape.
  const std::string crash = R"({"mnput_shape": [4], "layers": [{"type": "softplus", "beta":1e30000}]})";
  check_rejects("fuzz-crash.json",
                "\"{\"mnput_shape\": [4], \"layers\": [{\"type\": \"softplus\", \"beta\":...\" is neither a preset "
                "(mlp, cnn, resnet) nor valid JSON",
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
  CHECK(message == "arch.json: \"\\x89PNG\\r\\n\\x1a\\n garbage\" is neither a preset (mlp, cnn, resnet) nor valid JSON");
  // Keys and types from the JSON too.
  const std::string odd_key = R"({"input_shape":[4],"layers":[{"type":"re\nlu","x\ty":1}]})";
  const std::string odd = error_of([&] { build_model<float>(odd_key, 0, "arch.json"); });
  CHECK(odd ==
        "arch.json: layer 0 has unknown type \"re\\nlu\" (known: linear, conv2d, batchnorm2d, residual, "
        "maxpool2d, avgpool2d, global_avgpool2d, flatten, relu, softplus, tanh, sigmoid, dropout)");
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
