// `fluxion explain` / `interactions` over inputs read in chunks
// (experiments/cli/streaming_run.hpp): the bytes do not depend on the chunk
// size, on reading IDX or .npy, on --limit, on a SIGKILL and --resume, or on
// the number of MPI ranks; the interaction output forms equal the parts of the
// full matrices they stand for; the progress line and the size refusal.
// Every comparison is of bytes or of values computed here from another run's
// full output, never of numbers the path under test produced for itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <regex>
#include <sstream>
#include <thread>

#include "attribution/method_registry.hpp"
#include "nn/io/npy.hpp"
#include "nn/models/model_io.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/expect_failure.hpp"
#include "tests/cli/fluxion_process.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;

namespace {

constexpr std::uint32_t kSide = 6, kTest = 40;

#ifdef _OPENMP
constexpr bool streaming_built_with_openmp = true;
#else
constexpr bool streaming_built_with_openmp = false;  // one thread: nothing to compare
#endif

/// A folder with synthetic 6×6 MNIST files, an MLP for them, and the test
/// images as .npy too (decoded here from the IDX bytes: pixel / 255 as float32).
struct StreamFixture {
  ScratchDir dir{"cli_streaming"};
  StreamFixture() {
    write_synthetic_mnist(dir / "mnist", 20, kTest, kSide, 5);
    write_model(dir / "mlp.safetensors", small_mlp_architecture(kSide, 8), {}, 11);
    const std::string idx = read_bytes(dir / "mnist/t10k-images-idx3-ubyte");
    REQUIRE(idx.size() == 16 + kTest * kSide * kSide);
    Tensor<float> x = Tensor<float>::from_shape({kTest, kSide, kSide});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(static_cast<unsigned char>(idx[16 + i])) / 255.0f;
    write_npy(dir / "x.npy", x);
  }
  fs::path operator/(const std::string& name) const { return dir / name; }
  std::string idx() const { return (dir / "mnist/t10k-images-idx3-ubyte").string(); }
  ProcessResult run(const std::vector<std::string>& args) const {
    ProcessOptions o;
    o.working_dir = dir.path;
    return run_fluxion(args, o);
  }
  ProcessResult ok(std::vector<std::string> args) const {
    const ProcessResult r = run(args);
    std::string line;
    for (const auto& a : args) line += " " + a;
    INFO("fluxion" << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }
  std::vector<std::string> explain(const std::string& method, const std::string& input, const std::string& out,
                                   std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{"explain", "--model", "mlp.safetensors", "--method", method, "--input", input,
                               "--out", out, "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::vector<std::string> interactions(const std::string& out, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{"interactions", "--model", "mlp.safetensors", "--method", "ih", "--input", "x.npy",
                               "--smooth-beta", "4", "--steps", "8", "--out", out, "--quiet", "--limit", "6"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace

TEST_CASE("streaming: chunk size, IDX input and --limit do not change the bytes") {
  StreamFixture fx;
  for (const std::string method : {"ig", "smoothgrad", "expected_gradients"}) {
    INFO(method);
    std::vector<std::string> extra = {"--steps", "6"};
    if (method == "expected_gradients") extra.insert(extra.end(), {"--references", "x.npy"});
    auto with = [&](std::vector<std::string> more) {
      std::vector<std::string> e = extra;
      e.insert(e.end(), more.begin(), more.end());
      return e;
    };
    fx.ok(fx.explain(method, "x.npy", "one_chunk.npy", with({"--chunk-size", "1000"})));
    const std::string whole = read_bytes(fx / "one_chunk.npy");
    REQUIRE(whole.size() > 128);
    for (const std::string chunk : {"7", "1", "40"}) {
      fx.ok(fx.explain(method, "x.npy", "chunked.npy", with({"--chunk-size", chunk})));
      CHECK_MESSAGE(read_bytes(fx / "chunked.npy") == whole, "--chunk-size " << chunk);
    }
    fx.ok(fx.explain(method, fx.idx(), "from_idx.npy", with({"--chunk-size", "9"})));
    CHECK_MESSAGE(read_bytes(fx / "from_idx.npy") == read_bytes(fx / "one_chunk.npy"), "IDX input");
    // --limit 25: the first 25 rows of the whole run, bit for bit
    fx.ok(fx.explain(method, fx.idx(), "limited.npy", with({"--chunk-size", "10", "--limit", "25"})));
    const Tensor<double> all = read_npy<double>(fx / "one_chunk.npy"), first = read_npy<double>(fx / "limited.npy");
    REQUIRE(first.shape()[0] == 25);
    REQUIRE(first.size() * kTest == all.size() * 25);
    CHECK(std::equal(first.data(), first.data() + first.size(), all.data()));
  }
  // the deterministic method equals the library's run on the whole batch
  const Sequential<double> model = load_model<double>(fx / "mlp.safetensors");
  ExplainedOutput<double> out;
  out.model = as_function(model);
  Tensor<double> x = read_npy<double>(fx / "x.npy");
  x = Tensor<double>(xt::reshape_view(x, Shape{kTest, 1, kSide, kSide}));
  MethodSettings<double> settings;
  settings.steps = 6;
  const auto targets = resolve_targets(out, x, {});
  const Tensor<double> lib = run_method(method_spec<double>("ig"), out, x, targets, settings).values;
  fx.ok(fx.explain("ig", fx.idx(), "ig.npy", {"--steps", "6", "--chunk-size", "3"}));
  const Tensor<double> got = read_npy<double>(fx / "ig.npy");
  REQUIRE(got.size() == lib.size());
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < lib.size(); ++i) {
    worst = std::max(worst, std::fabs(got.data()[i] - lib.data()[i]));
    scale = std::max(scale, std::fabs(lib.data()[i]));
  }
  CHECK(scale > 0);
  CHECK(worst <= 1e-12 * scale);
}

TEST_CASE("streaming: --resume after SIGKILL gives the uninterrupted bytes") {
  StreamFixture fx;
  for (const std::string method : {"ig", "smoothgrad"}) {
    INFO(method);
    // slow enough per chunk (one example, many points) that the kill lands mid-run
    const std::string steps = method == "ig" ? "400" : "8000";
    const std::vector<std::string> extra = {"--steps", steps, "--batch-size", "16", "--chunk-size", "1"};
    const std::string summary = fx.ok(fx.explain(method, fx.idx(), "whole.npy", extra)).out;
    const std::string whole = read_bytes(fx / "whole.npy");
    const std::string name = "killed_" + method + ".npy";
    const fs::path out = fx / name, record = fx / (name + ".progress"), partial = fx / (name + ".partial");
    std::vector<std::string> args = fx.explain(method, fx.idx(), name, extra);
    int killed_at = -1;
    {
      ProcessOptions o;
      o.working_dir = fx.dir.path;
      FluxionProcess p(args, o);
      // The announced moment: the record says a chunk (or more) is durably written.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
      while (std::chrono::steady_clock::now() < deadline && !p.finished()) {
        std::ifstream in(record);
        std::string magic, word;
        int done = -1;
        if (std::getline(in, magic) && (in >> word >> done) && word == "done" && done >= 2) {
          p.kill_now();
          killed_at = done;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    REQUIRE_MESSAGE(killed_at >= 2, "the run was not killed after a recorded chunk");
    REQUIRE_MESSAGE(!fs::exists(out), "the run finished before the kill; nothing was tested");
    CHECK(fs::exists(partial));
    // other flags: the record belongs to another run
    std::vector<std::string> other = args;
    *std::find(other.begin(), other.end(), steps) = "401";
    other.push_back("--resume");
    const ProcessResult refused = fx.run(other);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("--resume") != std::string::npos);
    CHECK(!fs::exists(out));
    // the same flags: continues and ends with the uninterrupted bytes
    args.push_back("--resume");
    std::string resumed = fx.ok(args).out;
    resumed.replace(resumed.find(name), name.size(), "whole.npy");
    CHECK(resumed == summary);  // the summary line covers the chunks done before the kill too
    CHECK(read_bytes(out) == whole);
    CHECK(!fs::exists(record));
    CHECK(!fs::exists(partial));
  }
}

TEST_CASE("streaming: the progress line and --quiet") {
  StreamFixture fx;
  std::vector<std::string> args = {"explain", "--model", "mlp.safetensors", "--method", "ig", "--input", fx.idx(),
                                   "--out", "p.npy", "--chunk-size", "10"};
  const ProcessResult r = fx.ok(args);
  // not a terminal: plain lines, the first after the first chunk, the last at the end
  std::istringstream lines(r.err);
  std::string line;
  std::vector<std::string> all;
  const std::regex format(R"(explain ig: (\d+)/40 examples \((\d+\.\d)%\), \d+\.\d examples/s, ETA (\?|\d+s|\d+m\d\ds|\d+h\d\dm))");
  while (std::getline(lines, line)) {
    std::smatch m;
    CHECK_MESSAGE(std::regex_match(line, m, format), "not a progress line: " << line);
    all.push_back(line);
  }
  REQUIRE(all.size() >= 2);
  CHECK(all.front().rfind("explain ig: 10/40 examples (25.0%)", 0) == 0);
  CHECK(all.back().rfind("explain ig: 40/40 examples (100.0%)", 0) == 0);
  CHECK(all.back().find("ETA 0s") != std::string::npos);
  args.push_back("--quiet");
  CHECK(fx.ok(args).err.empty());
  // one chunk: nothing to report before the end
  CHECK(fx.ok({"explain", "--model", "mlp.safetensors", "--method", "ig", "--input", "x.npy", "--out", "q.npy"}).err.empty());
}

TEST_CASE("streaming: --output-form rows, top-k, row-sums by value") {
  StreamFixture fx;
  const std::size_t d = kSide * kSide, n = 6;
  fx.ok(fx.interactions("full.npy", {"--chunk-size", "4"}));
  const Tensor<double> full = read_npy<double>(fx / "full.npy");
  REQUIRE(full.size() == n * d * d);
  fx.ok(fx.interactions("rows.npy", {"--output-form", "rows", "5,0,35", "--chunk-size", "4"}));
  fx.ok(fx.interactions("sums.npy", {"--output-form", "row-sums"}));
  fx.ok(fx.interactions("top.npy", {"--output-form", "top-k", "7", "--chunk-size", "5"}));
  const Tensor<double> rows = read_npy<double>(fx / "rows.npy"), sums = read_npy<double>(fx / "sums.npy"),
                       top = read_npy<double>(fx / "top.npy");
  CHECK(shape_of(rows) == Shape{n, 3, d});
  CHECK(shape_of(sums) == Shape{n, d});
  CHECK(shape_of(top) == Shape{n, 7, 3});
  const std::size_t picked[3] = {5, 0, 35};
  for (std::size_t e = 0; e < n; ++e) {
    const double* g = full.data() + e * d * d;
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t j = 0; j < d; ++j) CHECK(rows(e, r, j) == g[picked[r] * d + j]);
    for (std::size_t i = 0; i < d; ++i) {
      long double s = 0;  // an independent sum: extended precision, then compared within 4 ulp of the scale
      double scale = 0;
      for (std::size_t j = 0; j < d; ++j) s += g[i * d + j], scale += std::fabs(g[i * d + j]);
      CHECK(std::fabs(sums(e, i) - double(s)) <= 4 * d * 1.2e-16 * scale);
    }
    // the 7 largest |Γij| by a full sort here (ties: smaller i·d + j first)
    std::vector<std::size_t> order(d * d);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(), [g](std::size_t a, std::size_t b) { return std::fabs(g[a]) > std::fabs(g[b]); });
    for (std::size_t t = 0; t < 7; ++t) {
      CHECK(top(e, t, 0) == double(order[t] / d));
      CHECK(top(e, t, 1) == double(order[t] % d));
      CHECK(top(e, t, 2) == g[order[t]]);
    }
  }
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--output-form", "top-k", "0"}, {"--output-form", "rows", "36"}, {"--output-form", "rows", "1,x"},
           {"--output-form", "diagonal"}, {"--output-form", "full", "3"}, {"--output-form", "top-k", "2", "--png", "m.png"}}) {
    const ProcessResult r = fx.run(fx.interactions("bad.npy", bad));
    INFO(bad[1] << " " << (bad.size() > 2 ? bad[2] : ""));
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("fluxion: ", 0) == 0);
    CHECK(r.err.find("--output-form") != std::string::npos);
    CHECK(!fs::exists(fx / "bad.npy"));
  }
}

TEST_CASE("streaming: --max-output-bytes refuses a large output in one sentence") {
  StreamFixture fx;
  // 6 examples × 36 × 36 float64 = 62,208 bytes
  const ProcessResult r = fx.run(fx.interactions("big.npy", {"--max-output-bytes", "62207"}));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("62.2 kB") != std::string::npos);
  CHECK(r.err.find("--max-output-bytes 62207") != std::string::npos);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(!fs::exists(fx / "big.npy"));
  fx.ok(fx.interactions("big.npy", {"--max-output-bytes", "62208"}));
  CHECK(fs::file_size(fx / "big.npy") == 62208 + 128);
  fx.ok(fx.interactions("sums.npy", {"--max-output-bytes", "62207", "--output-form", "row-sums"}));
  // the default: 2^30 bytes
  const ProcessResult d = fx.run({"interactions", "--model", "mlp.safetensors", "--method", "ih", "--input", "x.npy",
                                  "--steps", "2", "--out", "x2.npy", "--max-output-bytes", "1000"});
  CHECK(d.exit_code == 2);
  CHECK(d.err.find("40 × [36, 36] float64 values = 415 kB") != std::string::npos);
}

TEST_CASE("streaming: the OpenMP thread count does not change the bytes (examples shared among threads)" *
          doctest::skip(!streaming_built_with_openmp)) {
  // Each thread explains whole examples with everything inside them on one
  // thread; a convolution in float32 is where Eigen's GEMM would round
  // differently if it saw the outer thread count (it did before the fix).
  StreamFixture fx;
  // The cnn preset's shape on 28×28 digits: large enough products that Eigen
  // would parallelise them (6×6 ones stay serial whatever the thread count).
  write_synthetic_mnist(fx / "mnist28", 10, 48, 28, 5);
  const std::string idx28 = (fx / "mnist28/t10k-images-idx3-ubyte").string();
  const std::string cnn =
      R"({"input_shape":[1,28,28],"layers":[{"type":"conv2d","in":1,"out":16,"kernel":5},{"type":"relu"},)"
      R"({"type":"maxpool2d","kernel":2,"stride":2},{"type":"conv2d","in":16,"out":32,"kernel":5},{"type":"relu"},)"
      R"({"type":"maxpool2d","kernel":2,"stride":2},{"type":"flatten"},{"type":"linear","in":512,"out":128},)"
      R"({"type":"relu"},{"type":"linear","in":128,"out":10}]})";
  write_model(fx / "cnn.safetensors", cnn, {}, 3);
  auto on_cnn = [&](std::vector<std::string> a) {
    std::replace(a.begin(), a.end(), std::string("mlp.safetensors"), std::string("cnn.safetensors"));
    return a;
  };
  const std::vector<std::vector<std::string>> cases = {
      on_cnn(fx.explain("ig", idx28, "@", {"--steps", "50", "--dtype", "float32", "--chunk-size", "5"})),
      on_cnn(fx.explain("smoothgrad", idx28, "@", {"--steps", "20", "--dtype", "float32", "--limit", "9"})),
      on_cnn(fx.explain("ig", idx28, "@", {"--steps", "16", "--limit", "5"})),  // float64
      fx.explain("expected_gradients", "x.npy", "@", {"--steps", "6", "--references", "x.npy", "--dtype", "float32"}),
      fx.interactions("@", {"--output-form", "row-sums", "--chunk-size", "4"}),
  };
  for (const auto& c : cases) {
    auto run_with_threads = [&](int threads, const std::string& out) {
      std::vector<std::string> a = c;
      std::replace(a.begin(), a.end(), std::string("@"), out);
      std::string command = "cd '" + fx.dir.path.string() + "' && OMP_NUM_THREADS=" + std::to_string(threads) +
                            " '" + fluxion_executable().string() + "'";
      for (const auto& word : a) command += " '" + word + "'";
      command += " > threads.log 2>&1";
      const int status = std::system(command.c_str());
      INFO(command << "\n" << read_bytes(fx / "threads.log"));
      REQUIRE(status == 0);
      return read_bytes(fx / out);
    };
    const std::string one = run_with_threads(1, "one.npy");
    REQUIRE(one.size() > 128);
    INFO(c[0] << " " << c[4]);
    CHECK(run_with_threads(2, "two.npy") == one);
    CHECK(run_with_threads(3, "three.npy") == one);
  }
}

TEST_CASE("streaming: mpirun -n 2 gives the single-process bytes" *
          doctest::skip(!FLUXION_TEST_MPI || std::system("command -v mpirun >/dev/null 2>&1") != 0)) {
  StreamFixture fx;
  const std::vector<std::vector<std::string>> cases = {
      fx.explain("ig", fx.idx(), "@", {"--steps", "6", "--chunk-size", "7"}),
      fx.explain("smoothgrad", "x.npy", "@", {"--steps", "5", "--chunk-size", "3"}),
      fx.interactions("@", {"--output-form", "row-sums", "--chunk-size", "2"}),
  };
  for (const auto& c : cases) {
    auto named = [&](const std::string& out) {
      std::vector<std::string> a = c;
      std::replace(a.begin(), a.end(), std::string("@"), out);
      return a;
    };
    fx.ok(named("single.npy"));
    // as root, Open MPI needs --allow-run-as-root; --oversubscribe: 2 ranks even on 1 core
    // (a sanitizer build: LeakSanitizer would report Open MPI's own allocations, which it keeps until exit)
    std::string command = "cd '" + fx.dir.path.string() +
                          "' && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 mpirun --allow-run-as-root "
                          "--oversubscribe -n 2 '" + fluxion_executable().string() + "'";
    for (const auto& a : named("ranks.npy")) command += " '" + a + "'";
    command += " > mpi.log 2>&1";
    const int status = std::system(command.c_str());
    INFO(command << "\n" << read_bytes(fx / "mpi.log"));
    REQUIRE(status == 0);
    CHECK(read_bytes(fx / "ranks.npy") == read_bytes(fx / "single.npy"));
  }
}

TEST_CASE("streaming: bad IDX inputs fail in one sentence and leave nothing") {
  StreamFixture fx;
  const std::string pixels(3 * kSide * kSide, char(7));
  write_raw(fx / "labels.idx", idx_labels_bytes(3, std::string(3, char(1))));
  write_raw(fx / "short.idx", idx_images_bytes(3, kSide, kSide, pixels).substr(0, 16 + 2 * kSide * kSide));
  write_raw(fx / "long.idx", idx_images_bytes(3, kSide, kSide, pixels) + "x");
  write_raw(fx / "wrong_side.idx", idx_images_bytes(3, kSide + 1, kSide, std::string(3 * (kSide + 1) * kSide, char(7))));
  write_raw(fx / "huge_side.idx", idx_images_bytes(1, 5000, 1, std::string(5000, char(7))));
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"labels.idx", {"labels.idx", "label file"}},
      {"short.idx", {"short.idx", "does not match its header"}},
      {"long.idx", {"long.idx", "does not match its header"}},
      {"wrong_side.idx", {"wrong_side.idx", "7x6", "do not fit the model"}},
      {"huge_side.idx", {"huge_side.idx", "not sane"}},
  };
  for (const auto& [file, mentions] : cases)
    expect_clean_failure(fx.dir.path, {file, fx.explain("ig", file, "out.npy"), 1, mentions});
  // usage: --chunk-size 0, --output-form on explain
  expect_clean_failure(fx.dir.path, {"--chunk-size 0", fx.explain("ig", "x.npy", "out.npy", {"--chunk-size", "0"}), 2,
                                     {"--chunk-size"}});
  expect_clean_failure(fx.dir.path, {"--output-form on explain",
                                     fx.explain("ig", "x.npy", "out.npy", {"--output-form", "row-sums"}), 2,
                                     {"--output-form"}});
}
