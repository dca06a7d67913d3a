// Tests for nn/io: .npy and .safetensors round trips, byte layout, exact
// interop with NumPy (tests/python/io_fixtures.py), and the rejection of bad
// files with a message that names the file and the problem.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

#include "autodiff/errors.hpp"
#include "autodiff/tensor.hpp"
#include "nn/io/npy.hpp"
#include "nn/io/safetensors.hpp"

#ifndef FLUXION_SOURCE_DIR
#error "FLUXION_SOURCE_DIR (the repository root as a string literal) must be defined for the tests"
#endif

namespace fs = std::filesystem;
using namespace fluxion;

namespace {

/// A fresh directory under the system temp dir, removed when it goes out of scope.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("fluxion_test_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignore;
    fs::remove_all(path, ignore);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return path / name; }
};

void write_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Runs `action`, which must throw InputError; checks that the message names
/// `file` and contains `problem`.
template <class Action>
void check_input_error(Action&& action, const fs::path& file, const std::string& problem) {
  std::string message;
  bool threw = false;
  try {
    action();
  } catch (const InputError& e) {
    threw = true;
    message = e.what();
  }
  INFO("expected problem: ", problem, "\n  message: ", message);
  REQUIRE(threw);
  CHECK(contains(message, file.string()));
  CHECK(contains(message, problem));
}

/// The value at flat index i -- the same formula as tests/python/io_fixtures.py.
double formula(std::size_t i, int salt) { return (static_cast<double>(i) + salt) / 3.0 - 2.5; }

template <class T>
Tensor<T> formula_tensor(const Shape& shape, int salt) {
  Tensor<T> t(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(formula(i, salt));
  return t;
}

/// Same shape and bit-for-bit equal values.
template <class A, class B>
bool identical(const Tensor<A>& a, const Tensor<B>& b) {
  if (shape_of(a) != shape_of(b)) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (static_cast<double>(a.data()[i]) != static_cast<double>(b.data()[i])) return false;
  return true;
}

/// True when `dir` holds no entries (no stray temporary files).
bool empty_dir(const fs::path& dir) { return fs::is_empty(dir); }

// ------------------------------------------------------------ npy bytes

/// A hand-made .npy file: prefix, the given dict (padded), then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const std::size_t fixed = major == 1 ? 10 : 12;
  header.append((64 - (fixed + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < fixed - 8; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string npy_dict(const std::string& descr, const std::string& shape, const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

// ------------------------------------------------------------ safetensors bytes

/// A hand-made safetensors file: u64 length, the JSON text, `buffer_bytes` zeros.
std::string safetensors_bytes(const std::string& json, std::size_t buffer_bytes) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((json.size() >> (8 * i)) & 0xFF);
  return out + json + std::string(buffer_bytes, '\0');
}

std::uint64_t little_u64(const std::string& bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return v;
}

// ------------------------------------------------------------ Python interop

/// The interpreter to run io_fixtures.py with: $FLUXION_PYTHON, else the
/// first of python3 / /usr/bin/python3 that can import numpy ("" if none).
std::string python_with_numpy() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("FLUXION_PYTHON")) candidates.emplace_back(env);
  candidates.emplace_back("python3");
  candidates.emplace_back("/usr/bin/python3");
  for (const std::string& python : candidates)
    if (std::system((python + " -c 'import numpy' > /dev/null 2>&1").c_str()) == 0) return python;
  return "";
}

int run_fixtures(const std::string& python, const std::string& mode, const fs::path& dir) {
  const std::string command =
      python + " '" FLUXION_SOURCE_DIR "/tests/python/io_fixtures.py' " + mode + " '" + dir.string() + "'";
  return std::system(command.c_str());
}

struct NpyFixture {
  const char* name;
  const char* descr;
  Shape shape;
  int salt;
};
// The same table as NPY_ARRAYS in io_fixtures.py.
const std::vector<NpyFixture> kNpyFixtures = {
    {"f4_matrix", "<f4", {2, 3}, 1}, {"f8_cube", "<f8", {2, 3, 4}, 2}, {"f8_scalar", "<f8", {}, 3},
    {"f4_vector", "<f4", {5}, 4},    {"f4_empty", "<f4", {0, 3}, 5},
};

struct SafetensorsFixture {
  const char* name;
  const char* py_dtype;  // dtype in the Python-written file
  Shape shape;
  int salt;
};
// The same table as SAFETENSORS in io_fixtures.py.
const std::vector<SafetensorsFixture> kSafetensorsFixtures = {
    {"0.weight", "F32", {3, 2}, 10}, {"0.bias", "F64", {3}, 11}, {"2.weight", "F32", {1, 3}, 12},
    {"scale", "F64", {}, 13},        {"empty", "F32", {0}, 14},
};
const std::map<std::string, std::string> kMetadata = {{"format", "pt"}, {"arch", "mlp:2-3-1"}};

}  // namespace

// ================================================================ npy

TEST_CASE("npy: float and double round trips keep shape and exact values") {
  TempDir dir;
  for (const Shape& shape : {Shape{}, Shape{5}, Shape{2, 3}, Shape{2, 3, 4}, Shape{0, 3}, Shape{1, 1, 2, 1, 3}}) {
    INFO("shape ", shape_str(shape));
    const auto f = formula_tensor<float>(shape, 1);
    const auto d = formula_tensor<double>(shape, 2);
    write_npy(dir / "f.npy", f);
    write_npy(dir / "d.npy", d);
    CHECK(npy_dtype(dir / "f.npy") == "<f4");
    CHECK(npy_dtype(dir / "d.npy") == "<f8");
    CHECK(identical(read_npy<float>(dir / "f.npy"), f));
    CHECK(identical(read_npy<double>(dir / "d.npy"), d));
    // Conversions: f4 -> double widens exactly, f8 -> float rounds to nearest.
    CHECK(identical(read_npy<double>(dir / "f.npy"), f));
    CHECK(identical(read_npy<float>(dir / "d.npy"), formula_tensor<float>(shape, 2)));
  }
}

TEST_CASE("npy: the writer produces version 1.0 with the data 64-byte aligned") {
  TempDir dir;
  write_npy(dir / "a.npy", formula_tensor<double>({2, 3}, 0));
  const std::string bytes = read_raw(dir / "a.npy");
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.substr(0, 6) == "\x93NUMPY");
  CHECK(bytes[6] == 1);
  CHECK(bytes[7] == 0);
  const std::size_t header_length =
      static_cast<unsigned char>(bytes[8]) | static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8;
  CHECK((10 + header_length) % 64 == 0);
  CHECK(bytes.size() == 10 + header_length + 6 * 8);
  const std::string header = bytes.substr(10, header_length);
  CHECK(contains(header, "'descr': '<f8'"));
  CHECK(contains(header, "'fortran_order': False"));
  CHECK(contains(header, "'shape': (2, 3)"));
  CHECK(header.back() == '\n');

  write_npy(dir / "v.npy", formula_tensor<float>({7}, 0));
  CHECK(contains(read_raw(dir / "v.npy"), "'shape': (7,)"));
  write_npy(dir / "s.npy", formula_tensor<float>({}, 0));
  CHECK(contains(read_raw(dir / "s.npy"), "'shape': ()"));
}

TEST_CASE("npy: hand-made headers in other spellings and versions are read") {
  TempDir dir;
  const float values[2] = {1.5f, -2.0f};
  const std::string data(reinterpret_cast<const char*>(values), sizeof values);
  write_raw(dir / "a.npy", npy_bytes("{\"shape\":(2,),\"fortran_order\":False,\"descr\":\"<f4\"}", data));
  write_raw(dir / "b.npy", npy_bytes(npy_dict("<f4", "( 2 , )"), data, 2));
  write_raw(dir / "c.npy", npy_bytes(npy_dict("<f4", "(2,)"), data, 3));
  for (const char* name : {"a.npy", "b.npy", "c.npy"}) {
    INFO(name);
    const auto t = read_npy<float>(dir / name);
    REQUIRE(shape_of(t) == Shape{2});
    CHECK(t(0) == 1.5f);
    CHECK(t(1) == -2.0f);
  }
}

TEST_CASE("npy: reading f8 as float rejects values beyond float's range") {
  TempDir dir;
  Tensor<double> big = formula_tensor<double>({3}, 0);
  big(1) = 1e300;
  write_npy(dir / "big.npy", big);
  check_input_error([&] { read_npy<float>(dir / "big.npy"); }, dir / "big.npy",
                    "element 1 (1e+300) does not fit in float32");
  CHECK(read_npy<double>(dir / "big.npy")(1) == 1e300);
}

TEST_CASE("npy: bad files are rejected with a message naming the file and the problem") {
  TempDir dir;
  const fs::path p = dir / "bad.npy";
  const std::string six_f4(24, '\0');
  auto check_bytes = [&](const std::string& bytes, const std::string& problem) {
    write_raw(p, bytes);
    check_input_error([&] { read_npy<float>(p); }, p, problem);
    check_input_error([&] { npy_dtype(p); }, p, problem);
  };

  check_input_error([&] { read_npy<double>(dir / "missing.npy"); }, dir / "missing.npy", "does not exist");
  check_bytes("", "empty");
  check_bytes("this is not a numpy file at all", "magic");
  check_bytes("\x93NUM", "magic");
  check_bytes(std::string("\x93NUMPY\x01", 7), "truncated");
  check_bytes(npy_bytes(npy_dict("<f4", "(2, 3)"), six_f4, 4), "version 4.0");
  // Header length field says 0xFFFF bytes, the file is much shorter.
  check_bytes(std::string("\x93NUMPY\x01\x00\xff\xff{'descr'", 17), "header length 65535 exceeds the file size");
  check_bytes(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", six_f4), "dict");
  check_bytes(npy_bytes("[1, 2, 3]", six_f4), "dict");
  check_bytes(npy_bytes("{'descr': '<f4', 'shape': (2, 3)}", six_f4), "lacks one of the keys");
  check_bytes(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", six_f4),
              "unexpected or repeated key 'x'");
  check_bytes(npy_bytes(npy_dict("<f4", "(2, -3)"), six_f4), "non-negative integers");
  check_bytes(npy_bytes(npy_dict("<i8", "(3,)"), six_f4), "dtype '<i8' is not supported");
  check_bytes(npy_bytes(npy_dict(">f4", "(2, 3)"), six_f4), "dtype '>f4' is not supported");
  check_bytes(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", six_f4),
              "structured dtypes");
  check_bytes(npy_bytes(npy_dict("<f4", "(2, 3)", "True"), six_f4), "Fortran order");
  check_bytes(npy_bytes(npy_dict("<f4", "(2, 3)", "maybe"), six_f4), "True or False");
  check_bytes(npy_bytes(npy_dict("<f4", "(2, 3)"), six_f4.substr(0, 20)), "truncated");
  check_bytes(npy_bytes(npy_dict("<f4", "(2, 3)"), six_f4 + "xx"), "does not match the shape");
  check_bytes(npy_bytes(npy_dict("<f8", "(2, 3)"), six_f4), "truncated");  // f8 needs 48 bytes
  check_bytes(npy_bytes(npy_dict("<f4", "(4294967296, 4294967296)"), six_f4), "the count overflows 64 bits");
  check_bytes(npy_bytes(npy_dict("<f4", "(99999999999999999999999,)"), six_f4), "too large");
  check_bytes(npy_bytes(npy_dict("<f4", "(65536, 65536)"), six_f4), "above the size limit of 2^31");
  // No byte limit (it would depend on the dtype): 8 GiB of '<f8' is merely more than this file holds.
  check_bytes(npy_bytes(npy_dict("<f8", "(1073741824,)"), six_f4), "needs 8589934592 data bytes");
}

TEST_CASE("npy: a failed write throws and leaves no file behind") {
  TempDir dir;
  const fs::path target = dir / "no_such_dir" / "a.npy";
  check_input_error([&] { write_npy(target, formula_tensor<float>({2}, 0)); }, target, "cannot");
  CHECK_FALSE(fs::exists(target));
  CHECK(empty_dir(dir.path));
}

// ================================================================ safetensors

TEST_CASE("safetensors: F64 round trip is exact, F32 rounds to float, metadata survives") {
  TempDir dir;
  std::map<std::string, Tensor<double>> tensors;
  for (const auto& f : kSafetensorsFixtures) tensors[f.name] = formula_tensor<double>(f.shape, f.salt);

  write_safetensors(dir / "f64.safetensors", tensors, kMetadata, StorageDtype::F64);
  write_safetensors(dir / "f32.safetensors", tensors, kMetadata, StorageDtype::F32);
  const SafetensorsFile f64 = read_safetensors(dir / "f64.safetensors");
  const SafetensorsFile f32 = read_safetensors(dir / "f32.safetensors");

  CHECK(f64.metadata == kMetadata);
  CHECK(f32.metadata == kMetadata);
  REQUIRE(f64.tensors.size() == tensors.size());
  REQUIRE(f32.tensors.size() == tensors.size());
  for (const auto& f : kSafetensorsFixtures) {
    INFO("tensor ", f.name);
    CHECK(f64.dtypes.at(f.name) == "F64");
    CHECK(f32.dtypes.at(f.name) == "F32");
    CHECK(identical(f64.tensors.at(f.name), tensors.at(f.name)));
    CHECK(identical(f32.tensors.at(f.name), formula_tensor<float>(f.shape, f.salt)));
  }

  write_safetensors(dir / "plain.safetensors", tensors, {}, StorageDtype::F64);
  const SafetensorsFile plain = read_safetensors(dir / "plain.safetensors");
  CHECK(plain.metadata.empty());
  CHECK_FALSE(contains(read_raw(dir / "plain.safetensors"), "__metadata__"));
}

TEST_CASE("safetensors: the header is space-padded to 8 bytes and tensors are packed by name") {
  TempDir dir;
  std::map<std::string, Tensor<double>> tensors = {{"b", formula_tensor<double>({3}, 0)},
                                                   {"a", formula_tensor<double>({2, 2}, 1)}};
  write_safetensors(dir / "m.safetensors", tensors, {{"arch", "x"}}, StorageDtype::F32);
  const std::string bytes = read_raw(dir / "m.safetensors");
  const std::uint64_t length = little_u64(bytes);
  CHECK(length % 8 == 0);
  CHECK(bytes.size() == 8 + length + (4 + 3) * 4);
  const std::string header = bytes.substr(8, length);
  CHECK(header.front() == '{');
  const std::size_t last_brace = header.rfind('}');
  CHECK(header.find_first_not_of(' ', last_brace + 1) == std::string::npos);
  CHECK(contains(header, "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}"));
  CHECK(contains(header, "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]}"));
}

TEST_CASE("safetensors: writing refuses values beyond F32 and a tensor named __metadata__") {
  TempDir dir;
  Tensor<double> big = formula_tensor<double>({2}, 0);
  big(0) = -1e40;
  const fs::path p = dir / "big.safetensors";
  check_input_error([&] { write_safetensors(p, {{"w", big}}, {}, StorageDtype::F32); }, p,
                    "tensor 'w' holds -1e+40, which does not fit in F32");
  CHECK_FALSE(fs::exists(p));
  write_safetensors(p, {{"w", big}}, {}, StorageDtype::F64);  // fine in F64
  CHECK(read_safetensors(p).tensors.at("w")(0) == -1e40);

  const fs::path q = dir / "meta.safetensors";
  check_input_error([&] { write_safetensors(q, {{"__metadata__", big}}, {}, StorageDtype::F64); }, q,
                    "cannot be named __metadata__");
  CHECK_FALSE(fs::exists(q));
}

TEST_CASE("safetensors: a failed write throws and leaves no file behind") {
  TempDir dir;
  const fs::path target = dir / "no_such_dir" / "w.safetensors";
  check_input_error(
      [&] { write_safetensors(target, {{"w", formula_tensor<double>({2}, 0)}}, {}, StorageDtype::F32); }, target,
      "cannot");
  CHECK_FALSE(fs::exists(target));
  CHECK(empty_dir(dir.path));
}

TEST_CASE("safetensors: bad files are rejected with a message naming the file and the problem") {
  TempDir dir;
  const fs::path p = dir / "bad.safetensors";
  auto check_bytes = [&](const std::string& bytes, const std::string& problem) {
    write_raw(p, bytes);
    check_input_error([&] { read_safetensors(p); }, p, problem);
  };
  auto check_header = [&](const std::string& json, std::size_t buffer_bytes, const std::string& problem) {
    check_bytes(safetensors_bytes(json, buffer_bytes), problem);
  };
  auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape, int begin,
                  int end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(begin) + "," + std::to_string(end) + "]}";
  };

  check_input_error([&] { read_safetensors(dir / "missing.safetensors"); }, dir / "missing.safetensors",
                    "does not exist");
  check_bytes("", "empty");
  check_bytes("abc", "truncated");
  check_bytes(std::string("\x10\x00\x00\x00\x00\x00\x00\x00{}", 10), "header length 16 exceeds the file size");
  check_bytes(std::string(8, '\xff') + "garbage", "exceeds the file size");
  check_header("{\"w\": [1, 2", 0, "not valid JSON");
  check_header("\x01\x02\x03\x04\x05\x06\x07\x08", 0, "not valid JSON");
  check_header("[1, 2]", 0, "not an object");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor 'w' lacks the 'data_offsets' entry");
  check_header("{\"w\":5}", 0, "tensor 'w' is not described by a JSON object");
  check_header("{" + entry("w", "F16", "[2]", 0, 4) + "}", 4, "tensor 'w' has dtype F16");
  check_header("{" + entry("w", "BF16", "[2]", 0, 4) + "}", 4, "tensor 'w' has dtype BF16");
  check_header("{" + entry("ids", "I64", "[2]", 0, 16) + "}", 16, "tensor 'ids' has dtype I64");
  check_header("{" + entry("w", "F32", "[2,-3]", 0, 24) + "}", 24, "non-negative integers");
  check_header("{" + entry("w", "F32", "[2.5]", 0, 8) + "}", 8, "non-negative integers");
  check_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8, "exactly [begin, end]");
  check_header("{" + entry("w", "F32", "[2]", 8, 0) + "}", 8, "begin > end");
  check_header("{" + entry("w", "F32", "[2,3]", 0, 20) + "}", 24, "tensor 'w' shape [2, 3] of F32 needs 24 bytes");
  check_header("{" + entry("w", "F64", "[4294967296,4294967296]", 0, 8) + "}", 8, "the count overflows 64 bits");
  check_header("{" + entry("w", "F32", "[4]", 8, 24) + "}", 16, "out of range");
  check_header("{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[2]", 8, 16) + "}", 16,
               "tensors 'a' and 'b' have overlapping data_offsets");
  check_header("{" + entry("a", "F32", "[2]", 0, 8) + ",\"__metadata__\":{\"epochs\":3}}", 8,
               "__metadata__ value for 'epochs' is not a string");
  check_header("{\"__metadata__\":[\"x\"]}", 0, "__metadata__ is not a JSON object");
}

TEST_CASE("safetensors: gaps, zero-length tensors and header padding are accepted") {
  TempDir dir;
  const fs::path p = dir / "ok.safetensors";
  // "e" is empty and sits at an offset shared with "a"; "b" leaves a gap.
  std::string json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                     "\"e\":{\"dtype\":\"F64\",\"shape\":[0, 5],\"data_offsets\":[0,0]},"
                     "\"b\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16]}}   ";
  std::string bytes = safetensors_bytes(json, 0);
  const float a = 0.25f;
  const double b = -3.0;
  bytes.append(reinterpret_cast<const char*>(&a), 4);
  bytes.append(4, '\0');
  bytes.append(reinterpret_cast<const char*>(&b), 8);
  write_raw(p, bytes);
  const SafetensorsFile file = read_safetensors(p);
  REQUIRE(file.tensors.size() == 3);
  CHECK(file.tensors.at("a")(0) == 0.25);
  CHECK(shape_of(file.tensors.at("e")) == Shape{0, 5});
  CHECK(shape_of(file.tensors.at("b")).empty());
  CHECK(file.tensors.at("b")() == -3.0);
  CHECK(file.dtypes.at("b") == "F64");
}

// ================================================================ NumPy interop

TEST_CASE("npy and safetensors files interoperate exactly with NumPy") {
  const std::string python = python_with_numpy();
  INFO("tried $FLUXION_PYTHON, python3 and /usr/bin/python3");
  if (python.empty())
    FAIL("no python3 with numpy found: install numpy with scripts/install-deps.sh "
         "(or point FLUXION_PYTHON at an interpreter that has it)");

  TempDir dir;
  REQUIRE_MESSAGE(run_fixtures(python, "write", dir.path) == 0, "io_fixtures.py write failed");

  // Files written by NumPy, read by Fluxion.
  for (const auto& f : kNpyFixtures) {
    INFO("py_", f.name, ".npy");
    const fs::path path = dir / ("py_" + std::string(f.name) + ".npy");
    CHECK(npy_dtype(path) == f.descr);
    if (std::string(f.descr) == "<f4") {
      CHECK(identical(read_npy<float>(path), formula_tensor<float>(f.shape, f.salt)));
      CHECK(identical(read_npy<double>(path), formula_tensor<float>(f.shape, f.salt)));
    } else {
      CHECK(identical(read_npy<double>(path), formula_tensor<double>(f.shape, f.salt)));
    }
  }
  CHECK(identical(read_npy<double>(dir / "py_f8_v2.npy"), formula_tensor<double>({3, 2}, 6)));
  CHECK(identical(read_npy<float>(dir / "py_f4_v3.npy"), formula_tensor<float>({4}, 7)));
  check_input_error([&] { read_npy<double>(dir / "py_fortran.npy"); }, dir / "py_fortran.npy", "Fortran order");
  check_input_error([&] { read_npy<double>(dir / "py_int64.npy"); }, dir / "py_int64.npy", "'<i8'");

  const SafetensorsFile py = read_safetensors(dir / "py.safetensors");
  CHECK(py.metadata == kMetadata);
  REQUIRE(py.tensors.size() == kSafetensorsFixtures.size());
  for (const auto& f : kSafetensorsFixtures) {
    INFO("py.safetensors tensor ", f.name);
    CHECK(py.dtypes.at(f.name) == f.py_dtype);
    if (std::string(f.py_dtype) == "F32")
      CHECK(identical(py.tensors.at(f.name), formula_tensor<float>(f.shape, f.salt)));
    else
      CHECK(identical(py.tensors.at(f.name), formula_tensor<double>(f.shape, f.salt)));
  }

  // Files written by Fluxion, checked by NumPy and the stdlib parser.
  for (const auto& f : kNpyFixtures) {
    const fs::path path = dir / ("cpp_" + std::string(f.name) + ".npy");
    if (std::string(f.descr) == "<f4")
      write_npy(path, formula_tensor<float>(f.shape, f.salt));
    else
      write_npy(path, formula_tensor<double>(f.shape, f.salt));
  }
  std::map<std::string, Tensor<double>> tensors;
  for (const auto& f : kSafetensorsFixtures) tensors[f.name] = formula_tensor<double>(f.shape, f.salt);
  write_safetensors(dir / "cpp_f32.safetensors", tensors, kMetadata, StorageDtype::F32);
  write_safetensors(dir / "cpp_f64.safetensors", tensors, kMetadata, StorageDtype::F64);
  CHECK_MESSAGE(run_fixtures(python, "check", dir.path) == 0,
                "io_fixtures.py check found mismatches (details on stderr above)");
}
