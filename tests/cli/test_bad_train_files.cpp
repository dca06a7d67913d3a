// `fluxion train` given broken files: the IDX data folder (--data) and an
// architecture JSON file (--arch file.json). Each case must fail with exit
// code 1, one sentence naming the file and the problem, and leave neither a
// model nor a checkpoint (tests/cli/expect_failure.hpp). A bad inline --arch
// value is a bad flag: exit code 2.
#include <doctest/doctest.h>

#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/expect_failure.hpp"
#include "tests/nn/scratch_dir.hpp"

using namespace fluxion;
using namespace fluxion::testing;

namespace {

constexpr std::uint32_t kSide = 8;

/// A folder with synthetic 8×8 digits in data/ and a small MLP for them.
struct TrainSetup {
  ScratchDir dir{"cli_train"};
  std::string arch = small_mlp_architecture(kSide, 8);
  TrainSetup() { write_synthetic_mnist(dir / "data", 64, 32, kSide, 1); }
  std::vector<std::string> args() const {
    return {"train", "--arch", arch, "--data", "data", "--epochs", "1", "--batch-size", "16",
            "--out", "model.safetensors"};
  }
  void fails(const std::string& name, std::vector<std::string> mentions, int code = 1) const {
    expect_clean_failure(dir.path, {name, args(), code, std::move(mentions)});
  }
  std::filesystem::path images() const { return dir / "data" / "train-images-idx3-ubyte"; }
  std::filesystem::path labels() const { return dir / "data" / "train-labels-idx1-ubyte"; }
};

}  // namespace

TEST_CASE("train: the good setup succeeds (the failures below are the files' fault)") {
  TrainSetup s;
  ProcessOptions options;
  options.working_dir = s.dir.path;
  const ProcessResult r = run_fluxion(s.args(), options);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(s.dir / "model.safetensors"));
}

// ---- IDX data ---------------------------------------------------------------------

TEST_CASE("train: truncated IDX images") {
  TrainSetup s;
  const std::string good = read_bytes(s.images());
  write_raw(s.images(), good.substr(0, good.size() - 5));
  s.fails("truncated IDX images", {"train-images-idx3-ubyte", "truncated"});
}

TEST_CASE("train: IDX images longer than their header says") {
  TrainSetup s;
  write_raw(s.images(), read_bytes(s.images()) + "extra");
  s.fails("oversized IDX images (extra bytes)", {"train-images-idx3-ubyte", "does not match its header"});
}

TEST_CASE("train: garbage instead of IDX images") {
  TrainSetup s;
  write_raw(s.images(), "GIF89a and then some more bytes that are not IDX");
  s.fails("garbage IDX images (bad magic)", {"train-images-idx3-ubyte", "magic"});
}

TEST_CASE("train: empty IDX labels") {
  TrainSetup s;
  write_raw(s.labels(), "");
  s.fails("empty IDX labels", {"train-labels-idx1-ubyte", "empty"});
}

TEST_CASE("train: IDX header whose image count x size is huge") {
  TrainSetup s;
  write_raw(s.images(), idx_images_bytes(10'000'000, 4096, 4096, std::string(64, '\0')));
  s.fails("IDX header: 10^7 images of 4096x4096 (167 TB)", {"train-images-idx3-ubyte", "10000000 images"});
}

TEST_CASE("train: IDX header above the item limit") {
  TrainSetup s;
  write_raw(s.images(), idx_images_bytes(4'000'000'000u, 8, 8, ""));
  s.fails("IDX header: 4e9 images (above the 10^7 limit)", {"train-images-idx3-ubyte", "limit"});
}

TEST_CASE("train: IDX images of size 0") {
  TrainSetup s;
  write_raw(s.images(), idx_images_bytes(64, 0, 8, ""));
  s.fails("IDX header: images of 0 rows", {"train-images-idx3-ubyte", "0x8"});
}

TEST_CASE("train: IDX label outside 0..9") {
  TrainSetup s;
  std::string labels = read_bytes(s.labels());
  labels[8 + 3] = char(12);
  write_raw(s.labels(), labels);
  s.fails("IDX label 12", {"train-labels-idx1-ubyte", "label 12"});
}

TEST_CASE("train: IDX label and image counts differ") {
  TrainSetup s;
  write_raw(s.labels(), idx_labels_bytes(3, std::string("\1\2\3")));
  s.fails("IDX labels: 3 labels for 64 images", {"train-labels-idx1-ubyte", "3 labels", "64 images"});
}

TEST_CASE("train: missing data folder") {
  TrainSetup s;
  auto args = s.args();
  args[4] = "no-such-folder";
  expect_clean_failure(s.dir.path, {"missing data folder", args, 1, {"no-such-folder", "fetch-mnist.sh"}});
}

TEST_CASE("train: data that does not fit the model") {
  TrainSetup s;
  s.arch = "mlp";  // takes 28×28 images; the data has 8×8
  s.fails("8x8 data for the 28x28 mlp preset", {"train-images-idx3-ubyte", "[1, 8, 8]", "[1, 28, 28]"});
}

TEST_CASE("train: labels beyond the model's outputs") {
  TrainSetup s;
  s.arch = R"({"input_shape":[1,8,8],"layers":[{"type":"flatten"},{"type":"linear","in":64,"out":3}]})";
  s.fails("labels 0..9 for a model with 3 outputs", {"train-labels-idx1-ubyte", "[3]"});
}

// ---- architecture JSON --------------------------------------------------------------

TEST_CASE("train: truncated architecture file") {
  TrainSetup s;
  write_raw(s.dir / "arch.json", s.arch.substr(0, s.arch.size() / 2));
  s.arch = "arch.json";
  s.fails("truncated architecture JSON file", {"arch.json", "JSON"});
}

TEST_CASE("train: architecture file above 1 MiB") {
  TrainSetup s;
  write_raw(s.dir / "arch.json", std::string(2 << 20, ' ') + s.arch);
  s.arch = "arch.json";
  s.fails("oversized architecture JSON file (2 MiB)", {"arch.json", "1 MiB"});
}

TEST_CASE("train: garbage architecture file") {
  TrainSetup s;
  write_raw(s.dir / "arch.json", std::string("\x89PNG\r\n\x1a\n garbage", 16));
  s.arch = "arch.json";
  s.fails("garbage architecture JSON file", {"arch.json"});
}

TEST_CASE("train: architecture file with a layer above the size limit") {
  TrainSetup s;
  write_raw(s.dir / "arch.json",
            R"({"input_shape":[1,8,8],"layers":[{"type":"flatten"},{"type":"linear","in":64,"out":100000000000}]})");
  s.arch = "arch.json";
  s.fails("architecture file: linear 64 -> 1e11 (above 2^31)", {"arch.json", "layer 1", "2^31"});
}

TEST_CASE("train: inline architecture that is not JSON") {
  TrainSetup s;
  s.arch = R"({"input_shape":[1,8,8],"layers":[{"type":"flat)";
  s.fails("inline --arch: truncated JSON", {"--arch", "JSON"}, 2);
}

TEST_CASE("train: inline architecture whose sizes overflow") {
  TrainSetup s;
  s.arch = R"({"input_shape":[1,8,8],"layers":[{"type":"flatten"},)"
           R"({"type":"linear","in":64,"out":18446744073709551615}]})";
  s.fails("inline --arch: linear out = 2^64-1", {"--arch", "2^31"}, 2);
}

TEST_CASE("train: --arch names no preset, JSON or file") {
  TrainSetup s;
  s.arch = "no-such-arch.json";
  s.fails("--arch: missing file", {"--arch", "no-such-arch.json"}, 2);
}
