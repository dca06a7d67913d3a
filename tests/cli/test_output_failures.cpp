// Outputs that cannot be written: a missing or non-folder parent, an output
// path that is a folder, and a full disk (RLIMIT_FSIZE in the child with
// SIGXFSZ ignored, so the write fails with EFBIG part-way). Each must exit 1
// with one sentence naming the output, and leave no partial or temporary file
// (tests/cli/expect_failure.hpp).
#include <doctest/doctest.h>

#include "nn/io/npy.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/expect_failure.hpp"
#include "tests/nn/scratch_dir.hpp"

using namespace fluxion;
using namespace fluxion::testing;

namespace {

struct OutputSetup {
  ScratchDir dir{"cli_output"};
  OutputSetup() {
    write_tiny_model(dir / "model.safetensors");
    write_npy(dir / "x.npy", filled<double>({4}, 1.0));
  }
  std::vector<std::string> explain(const std::string& out, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{"explain", "--model", "model.safetensors", "--method", "ig",
                               "--input", "x.npy", "--out", out};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace

TEST_CASE("output: folder of --out does not exist") {
  OutputSetup s;
  expect_clean_failure(s.dir.path, {"--out in a missing folder", s.explain("missing/attr.npy"), 1,
                                    {"missing/attr.npy", "No such file or directory"}});
}

TEST_CASE("output: parent of --out is a file") {
  OutputSetup s;
  expect_clean_failure(s.dir.path, {"--out below a regular file", s.explain("x.npy/attr.npy"), 1,
                                    {"x.npy/attr.npy", "Not a directory"}});
}

TEST_CASE("output: --out is a folder") {
  OutputSetup s;
  std::filesystem::create_directory(s.dir / "results");
  expect_clean_failure(s.dir.path, {"--out is an existing folder", s.explain("results"), 1, {"results"}});
  CHECK(files_in(s.dir / "results").empty());
}

TEST_CASE("output: disk full while writing the attributions") {
  OutputSetup s;
  FailureCase c{"disk full writing --out (.npy)", s.explain("attr.npy"), 1, {"attr.npy", "File too large"}};
  c.file_size_limit = 100;  // the .npy header alone is 128 bytes
  expect_clean_failure(s.dir.path, c);
}

TEST_CASE("output: disk full while writing the heatmap removes the attributions too") {
  OutputSetup s;
  FailureCase c{"disk full writing --png", s.explain("attr.npy", {"--png", "map.png"}), 1, {"map.png"}};
  c.file_size_limit = 200;  // the 160-byte .npy fits, the PNG does not
  expect_clean_failure(s.dir.path, c);
}

TEST_CASE("output: disk full while training writes its checkpoint") {
  OutputSetup s;
  write_synthetic_mnist(s.dir / "data", 64, 32, 8, 1);
  FailureCase c{"disk full writing the training checkpoint",
                {"train", "--arch", small_mlp_architecture(8, 8), "--data", "data", "--epochs", "2", "--batch-size",
                 "16", "--out", "model.safetensors"},
                1,
                {"model.checkpoint.safetensors", "File too large"}};
  c.file_size_limit = 1000;  // 610 float parameters (+ Adam state) do not fit
  expect_clean_failure(s.dir.path, c);
}

TEST_CASE("output: train --out below a regular file") {
  OutputSetup s;
  write_synthetic_mnist(s.dir / "data", 64, 32, 8, 1);
  expect_clean_failure(s.dir.path, {"train --out below a regular file",
                                    {"train", "--arch", small_mlp_architecture(8, 8), "--data", "data", "--epochs",
                                     "1", "--out", "x.npy/model.safetensors"},
                                    1,
                                    {"x.npy", "Not a directory"}});
}
