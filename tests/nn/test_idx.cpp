// Tests for nn/data/idx: tiny hand-made IDX files (good and bad), load_mnist
// on a fake data directory, and -- when scripts/fetch-mnist.sh has been run --
// a sanity check of the real MNIST files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "autodiff/errors.hpp"
#include "nn/data/idx.hpp"

#ifndef FLUXION_SOURCE_DIR
#error "FLUXION_SOURCE_DIR (the repository root as a string literal) must be defined for the tests"
#endif

namespace fs = std::filesystem;
using namespace fluxion;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("fluxion_test_idx_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
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

/// A 32-bit big-endian number, as IDX headers store them.
std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

/// An IDX image file whose header says count x rows x cols, followed by `pixels`.
std::string idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const std::string& pixels) {
  return be32(0x803) + be32(count) + be32(rows) + be32(cols) + pixels;
}

/// Pixel i = (i * 37) mod 256: covers 0 and values up to 255.
std::string pixel_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 37) % 256);
  return s;
}

std::string idx_labels(const std::vector<int>& labels) {
  std::string s = be32(0x801) + be32(static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) s += static_cast<char>(l);
  return s;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

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

}  // namespace

TEST_CASE("idx: images are read as [N, rows, cols] scaled to [0, 1], labels as ints") {
  TempDir dir;
  write_raw(dir / "img", idx_images(2, 3, 4, pixel_bytes(24)));
  write_raw(dir / "lab", idx_labels({7, 0}));

  const Tensor<float> images = read_idx_images(dir / "img");
  REQUIRE(shape_of(images) == Shape{2, 3, 4});
  for (std::size_t i = 0; i < 24; ++i) CHECK(images.data()[i] == static_cast<float>((i * 37) % 256) / 255.0f);
  CHECK(images(0, 0, 0) == 0.0f);
  CHECK(images(1, 2, 3) == static_cast<float>((23 * 37) % 256) / 255.0f);

  write_raw(dir / "white", idx_images(1, 1, 1, std::string(1, '\xff')));
  CHECK(read_idx_images(dir / "white")(0, 0, 0) == 1.0f);

  CHECK(read_idx_labels(dir / "lab") == std::vector<int>{7, 0});
}

TEST_CASE("idx: bad files are rejected with a message naming the file and the problem") {
  TempDir dir;
  const fs::path p = dir / "bad";
  auto images_error = [&](const std::string& bytes, const std::string& problem) {
    write_raw(p, bytes);
    check_input_error([&] { read_idx_images(p); }, p, problem);
  };
  auto labels_error = [&](const std::string& bytes, const std::string& problem) {
    write_raw(p, bytes);
    check_input_error([&] { read_idx_labels(p); }, p, problem);
  };

  check_input_error([&] { read_idx_images(dir / "missing"); }, dir / "missing", "does not exist");
  images_error("", "empty");
  labels_error("", "empty");
  images_error(be32(0x803) + be32(1), "truncated");
  labels_error(be32(0x801), "truncated");
  images_error(idx_labels({1, 2, 3, 4, 5, 6, 7, 8, 9}), "bad magic number 0x00000801");
  labels_error(idx_images(1, 1, 1, "x"), "bad magic number 0x00000803");
  images_error("GIF89a garbage bytes, definitely not IDX", "bad magic number");
  images_error(idx_images(2, 3, 4, pixel_bytes(23)), "truncated: 2 images of 3x4 need 40 bytes");
  images_error(idx_images(2, 3, 4, pixel_bytes(25)), "does not match its header");
  images_error(idx_images(0, 3, 4, ""), "0 items");
  images_error(idx_images(1, 0, 4, ""), "not sane");
  images_error(idx_images(1, 5000, 4, ""), "not sane");
  images_error(idx_images(20'000'000, 1, 1, ""), "above the limit of 10,000,000");
  images_error(idx_images(0xFFFFFFFF, 4096, 4096, ""), "above the limit");
  labels_error(idx_labels({1, 2}) + "x", "does not match its header");
  labels_error(be32(0x801) + be32(3) + "\x01\x02", "truncated");
  labels_error(idx_labels({3, 9, 10, 1}), "label 10 at index 2 is outside 0..9");
  labels_error(idx_labels({255}), "label 255 at index 0");
}

TEST_CASE("idx: load_mnist reads a split and checks that images and labels agree") {
  TempDir dir;
  write_raw(dir / "train-images-idx3-ubyte", idx_images(3, 28, 28, pixel_bytes(3 * 28 * 28)));
  write_raw(dir / "train-labels-idx1-ubyte", idx_labels({5, 0, 4}));
  write_raw(dir / "t10k-images-idx3-ubyte", idx_images(2, 28, 28, pixel_bytes(2 * 28 * 28)));
  write_raw(dir / "t10k-labels-idx1-ubyte", idx_labels({7, 2, 1}));

  const MnistSplit train = load_mnist(dir.path, "train");
  CHECK(shape_of(train.images) == Shape{3, 28, 28});
  CHECK(train.labels == std::vector<int>{5, 0, 4});

  check_input_error([&] { load_mnist(dir.path, "test"); }, dir / "t10k-labels-idx1-ubyte",
                    "holds 3 labels but t10k-images-idx3-ubyte holds 2 images");

  fs::remove(dir / "t10k-images-idx3-ubyte");
  check_input_error([&] { load_mnist(dir.path, "test"); }, dir / "t10k-images-idx3-ubyte",
                    "run scripts/fetch-mnist.sh");

  CHECK_THROWS_WITH_AS(load_mnist(dir.path, "validation"), doctest::Contains("unknown MNIST split 'validation'"),
                       InputError);
}

// Needs data/mnist (scripts/fetch-mnist.sh); without it the case is reported
// as skipped in the `tests: … skipped` count, never as passed.
const fs::path real_mnist = fs::path(FLUXION_SOURCE_DIR) / "data" / "mnist";

TEST_CASE("idx: the real MNIST files, if fetched, have the known sizes and first labels" *
          doctest::skip(!fs::exists(real_mnist / "t10k-images-idx3-ubyte"))) {
  const fs::path& mnist = real_mnist;
  const MnistSplit test = load_mnist(mnist, "test");
  CHECK(shape_of(test.images) == Shape{10000, 28, 28});
  REQUIRE(test.labels.size() == 10000);
  CHECK(test.labels[0] == 7);  // the first test digit is a 7
  CHECK(*std::min_element(test.images.begin(), test.images.end()) == 0.0f);
  CHECK(*std::max_element(test.images.begin(), test.images.end()) == 1.0f);

  const std::vector<int> train_labels = read_idx_labels(mnist / "train-labels-idx1-ubyte");
  REQUIRE(train_labels.size() == 60000);
  CHECK(train_labels[0] == 5);  // the first training digit is a 5
  std::vector<int> per_class(10, 0);
  for (int l : train_labels) ++per_class[static_cast<std::size_t>(l)];
  CHECK(per_class[1] == 6742);  // the well-known class counts of MNIST's training set
  CHECK(per_class[5] == 5421);
}
