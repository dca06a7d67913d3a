// Faults during long work: `fluxion train` and `fluxion reproduce` are
// SIGKILLed at several moments and started again (train with --resume when a
// checkpoint exists; reproduce skips finished experiments by their
// done.json). Checked:
//   * while they run, every file at an output path parses completely (a
//     watcher reads them every few milliseconds; only "<name>.tmp.<pid>"
//     temporaries may be partial);
//   * the resumed training ends with the same parameters, bit for bit, as an
//     uninterrupted run with the same seed;
//   * the resumed reproduction ends with the same set of files, all complete,
//     and the same deterministic numbers;
//   * no temporary file is left behind at the end.
// Kill moments are moments the tool announces on stdout, never fractions of
// another run's wall time (which depend on the machine's load): right after
// it reports a finished epoch / experiment (a checkpoint or done.json was
// just written), and right after it announces work that has only begun
// ("training …" before the first batch of an epoch, a progress line inside an
// experiment), so the kill lands mid-epoch or mid-experiment every time.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "nn/io/safetensors.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/fluxion_process.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::testing;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

bool is_temporary(const fs::path& p) { return p.filename().string().find(".tmp.") != std::string::npos; }

/// Empty if the file at `path` is complete, else what is wrong with it.
/// Knows the formats the tools write: .safetensors, .json, .png; other files
/// must at least be non-empty.
std::string incomplete(const fs::path& path) {
  const std::string ext = path.extension().string();
  try {
    if (ext == ".safetensors") {
      read_safetensors(path);
    } else if (ext == ".json") {
      std::ifstream in(path);
      if (!nlohmann::json::accept(in)) return "not valid JSON";
    } else {
      const std::string bytes = read_bytes(path);
      if (bytes.empty()) return "empty";
      if (ext == ".png" && (bytes.compare(1, 3, "PNG") != 0 || bytes.size() < 12 ||
                            bytes.compare(bytes.size() - 8, 4, "IEND") != 0))
        return "PNG without its IEND chunk";
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

/// Every non-temporary file below `root` (relative paths).
std::set<std::string> files_below(const fs::path& root) {
  std::set<std::string> names;
  std::error_code ec;
  const fs::recursive_directory_iterator end;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != end; it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) names.insert(it->path().lexically_relative(root).string());
  }
  return names;
}

/// Checks every output file below `root` parses; records problems. A file may
/// vanish or be replaced between listing and reading: that is fine (renames
/// are atomic), so a missing file is skipped.
void check_outputs_complete(const fs::path& root, std::vector<std::string>& problems) {
  for (const auto& name : files_below(root)) {
    const fs::path p = root / name;
    if (is_temporary(p) || name.rfind("data/", 0) == 0) continue;
    const std::string problem = incomplete(p);
    if (!problem.empty() && fs::exists(p)) problems.push_back(name + ": " + problem);
  }
}

/// How one attempt ends: killed when `should_kill` says so (given each stdout
/// line, or nothing on a poll tick, and the time since start), or at its end.
/// Meanwhile the outputs below `root` are checked every 5 ms.
struct Attempt {
  bool killed = false;
  milliseconds at{0};     // when it was killed
  std::string last_line;  // the last stdout line before the end
  ProcessResult result;
};

Attempt run_attempt(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& root,
                    const std::function<bool(const std::optional<std::string>&, milliseconds)>& should_kill,
                    std::vector<std::string>& problems) {
  ProcessOptions options;
  options.working_dir = cwd;
  FluxionProcess child(args, options);
  const auto start = Clock::now();
  Attempt a;
  for (;;) {
    auto line = child.next_line(milliseconds(5));
    if (line) a.last_line = *line;
    check_outputs_complete(root, problems);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (should_kill(line, elapsed)) {
      child.kill_now();
      a.killed = true;
      a.at = elapsed;
      break;
    }
    if (!line && child.finished()) break;
  }
  check_outputs_complete(root, problems);
  a.result = child.wait();
  return a;
}

/// Kill right after a stdout line containing `text`.
auto after_line(std::string text) {
  return [text](const std::optional<std::string>& line, milliseconds) {
    return line && line->find(text) != std::string::npos;
  };
}
bool never(const std::optional<std::string>&, milliseconds) { return false; }

}  // namespace

TEST_CASE("kill and resume: train ends bit-identical to an uninterrupted run") {
  ScratchDir root("cli_kill_train");
  write_synthetic_mnist(root / "data", 6000, 200, 8, 3);
  fs::create_directories(root / "reference");
  fs::create_directories(root / "run");
  const std::string epochs = "12";
  auto args = [&](bool resume) {
    std::vector<std::string> a{"train", "--arch", small_mlp_architecture(8, 64), "--data", "../data", "--epochs",
                               epochs, "--batch-size", "32", "--seed", "5", "--out", "model.safetensors"};
    if (resume) a.push_back("--resume");
    return a;
  };
  std::vector<std::string> problems;

  Attempt reference = run_attempt(args(false), root / "reference", root / "reference", never, problems);
  REQUIRE(reference.result.exit_code == 0);

  // Kill moments, each announced by the tool: mid-epoch (right after the
  // "training …" line, before the first batch of the run's first epoch) and
  // right after an epoch is reported (its checkpoint written). Each attempt
  // resumes from the last checkpoint and still has epochs to go, so every
  // kill lands.
  const std::vector<std::function<bool(const std::optional<std::string>&, milliseconds)>> kills{
      after_line("training "), after_line("epoch 1/"), after_line("training "),
      after_line("epoch 4/"),  after_line("training "), after_line("epoch 8/")};
  int killed = 0;
  for (const auto& kill : kills) {
    const bool resume = fs::exists(root / "run" / "model.checkpoint.safetensors");
    Attempt a = run_attempt(args(resume), root / "run", root / "run", kill, problems);
    INFO(a.result.err);
    if (a.killed) MESSAGE("killed at " << a.at.count() << " ms, after \"" << a.last_line << "\"");
    killed += a.killed;
  }
  CHECK(killed == int(kills.size()));
  Attempt last = run_attempt(args(fs::exists(root / "run" / "model.checkpoint.safetensors")), root / "run",
                             root / "run", never, problems);
  INFO(last.result.err);
  REQUIRE(last.result.exit_code == 0);

  CHECK(problems.empty());
  for (const auto& p : problems) MESSAGE("incomplete output: " << p);
  CHECK(files_in(root / "run") == std::set<std::string>{"model.safetensors", "model.checkpoint.safetensors"});

  const SafetensorsFile want = read_safetensors(root / "reference" / "model.safetensors");
  const SafetensorsFile got = read_safetensors(root / "run" / "model.safetensors");
  REQUIRE(got.tensors.size() == want.tensors.size());
  for (const auto& [name, tensor] : want.tensors) {
    INFO("parameter " << name);
    REQUIRE(got.tensors.count(name));
    CHECK(got.tensors.at(name) == tensor);  // exact
  }
  for (const auto& [key, value] : want.metadata)
    if (key != "train_seconds") CHECK_MESSAGE(got.metadata.at(key) == value, key);
}

TEST_CASE("kill and resume: reproduce skips finished experiments and ends complete") {
  ScratchDir root("cli_kill_reproduce");
  const std::vector<std::string> args{"reproduce", "interactions", "timing", "--smoke", "--seed", "2",
                                      "--out", "results"};
  fs::create_directories(root / "reference");
  fs::create_directories(root / "run");
  std::vector<std::string> problems;

  Attempt reference = run_attempt(args, root / "reference", root / "reference", never, problems);
  INFO(reference.result.err);
  REQUIRE(reference.result.exit_code == 0);

  // Killed mid-way through the first experiment (right after it announces
  // that it trains its first model), then right after it is finished (its
  // done.json written), then the rest runs to the end.
  Attempt first = run_attempt(args, root / "run", root / "run", after_line(": training a 3×64 ReLU MLP"), problems);
  Attempt second = run_attempt(args, root / "run", root / "run", after_line("[interactions] done"), problems);
  CHECK((first.killed && second.killed));
  Attempt last = run_attempt(args, root / "run", root / "run", never, problems);
  INFO(last.result.err);
  REQUIRE(last.result.exit_code == 0);
  CHECK(last.result.out.find("[interactions] already finished") != std::string::npos);

  CHECK(problems.empty());
  for (const auto& p : problems) MESSAGE("incomplete output: " << p);
  const auto want = files_below(root / "reference" / "results");
  const auto got = files_below(root / "run" / "results");
  CHECK(got == want);
  for (const auto& name : got) {
    INFO("file " << name);
    CHECK_FALSE(is_temporary(name));
    CHECK(incomplete(root / "run" / "results" / name) == "");
  }
  // Same seed, same numbers (timing's are wall-clock times, so only interactions').
  CHECK(read_bytes(root / "run" / "results" / "interactions" / "numbers.json") ==
        read_bytes(root / "reference" / "results" / "interactions" / "numbers.json"));
}
