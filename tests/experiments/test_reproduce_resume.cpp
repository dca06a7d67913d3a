// `fluxion reproduce` resumes in the middle of an experiment: the IG2
// experiment at --smoke scale, run once uninterrupted (the reference), then in
// a fresh folder stopped after 3 methods by the test hook
// FLUXION_STOP_AFTER_METHODS (experiments/reproduce/method_checkpoint.hpp),
// one stored method damaged and another's fingerprint altered, and rerun to
// completion. The resumed run must reuse exactly the intact method, recompute
// the other two, and report bit-identical results: every numbers.json leaf
// equal (the timing leaves "seconds_per_image" aside) and every CSV cell equal
// (the "time per image" column aside). The reused method's seconds per image
// must be the stored one. Both runs use the same trained smoke models (copied),
// as an interrupted run and its rerun share results/models.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "experiments/reproduce/method_checkpoint.hpp"
#include "experiments/reproduce/runner.hpp"
#include "tests/experiments/result_comparison.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::experiments;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Everything written to std::cout while it lives.
struct CapturedOutput {
  std::ostringstream text;
  std::streambuf* saved = std::cout.rdbuf(text.rdbuf());
  ~CapturedOutput() { std::cout.rdbuf(saved); }
};

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

/// The stored-method record of `label` in the ig2_comparison checkpoints.
fs::path record_of(const fs::path& out, const std::string& label, const char* extension) {
  return checkpoint_folder(out / "ig2", "ig2_comparison") / (method_slug(label) + extension);
}

}  // namespace

TEST_CASE("reproduce resumes an interrupted experiment method by method, with bit-identical results") {
  const fluxion::testing::ScratchDir reference_dir("reproduce_resume_reference"), resumed_dir("reproduce_resume");
  ReproduceOptions options;
  options.scale = Scale::smoke;
  options.seed = 5;
  options.selection = {"ig2"};
  options.out_dir = reference_dir.path;
  ::unsetenv("FLUXION_STOP_AFTER_METHODS");
  REQUIRE(reproduce(options) == 0);
  CHECK_FALSE(fs::exists(reference_dir.path / "ig2" / "partial"));  // removed once finished

  // Interrupted after 3 stored methods (IG2, IG (black), IG (blurred)).
  fs::copy(reference_dir.path / "models", resumed_dir.path / "models", fs::copy_options::recursive);
  options.out_dir = resumed_dir.path;
  ::setenv("FLUXION_STOP_AFTER_METHODS", "3", 1);
  const int interrupted = reproduce(options);
  ::unsetenv("FLUXION_STOP_AFTER_METHODS");
  REQUIRE(interrupted == 1);
  const fs::path ig2_dir = resumed_dir.path / "ig2";
  CHECK_FALSE(fs::exists(ig2_dir / "done.json"));
  CHECK(slurp(ig2_dir / "error.txt").find("FLUXION_STOP_AFTER_METHODS") != std::string::npos);
  std::size_t stored = 0;
  for (const auto& e : fs::recursive_directory_iterator(ig2_dir / "partial")) stored += e.path().extension() == ".json";
  CHECK(stored == 3);
  for (const char* label : {"IG2", "IG (black)", "IG (blurred)"}) {
    INFO(label);
    REQUIRE(fs::exists(record_of(resumed_dir.path, label, ".npy")));
    REQUIRE(fs::exists(record_of(resumed_dir.path, label, ".json")));
  }
  const double stored_ig2_seconds =
      nlohmann::json::parse(slurp(record_of(resumed_dir.path, "IG2", ".json")))["seconds_per_image"].get<double>();

  // Damage: flip a byte in the attribution data of IG (black) (the .npy's last
  // byte, inside the last double); give IG (blurred) another seed in its fingerprint.
  {
    const fs::path npy = record_of(resumed_dir.path, "IG (black)", ".npy");
    std::string bytes = slurp(npy);
    bytes.back() = char(bytes.back() ^ 0x01);
    std::ofstream(npy, std::ios::binary) << bytes;
    const fs::path json = record_of(resumed_dir.path, "IG (blurred)", ".json");
    auto record = nlohmann::json::parse(slurp(json));
    record["fingerprint"]["seed"] = 6;
    std::ofstream(json) << record.dump(2);
  }

  std::string log;
  {
    CapturedOutput captured;
    REQUIRE(reproduce(options) == 0);
    log = captured.text.str();
  }
  INFO(log);
  CHECK(occurrences(log, " reused (stored attributions and seconds per image)") == 1);
  CHECK(occurrences(log, "IG2 reused") == 1);
  CHECK(occurrences(log, "; recomputing it.") == 2);
  CHECK(occurrences(log, "does not match the checksum") == 1);
  CHECK(occurrences(log, "its fingerprint differs") == 1);
  CHECK(occurrences(log, "[ig2] ig2_comparison 3/10 methods, ") == 1);  // the progress line of the 4th method
  CHECK(occurrences(log, "[ig2] ig2_comparison_resnet 9/10 methods, ") == 1);
  CHECK(fs::exists(ig2_dir / "done.json"));
  CHECK_FALSE(fs::exists(ig2_dir / "partial"));
  CHECK_FALSE(fs::exists(ig2_dir / "error.txt"));

  // numbers.json: every leaf but the timing ones identical (doubles compared exactly).
  const auto reference_numbers = nlohmann::json::parse(slurp(reference_dir.path / "ig2" / "numbers.json"));
  const auto resumed_numbers = nlohmann::json::parse(slurp(ig2_dir / "numbers.json"));
  std::map<std::string, nlohmann::json> expected, actual;
  fluxion::testing::leaves(reference_numbers, "", expected);
  fluxion::testing::leaves(resumed_numbers, "", actual);
  CHECK(expected.size() > 150);  // 2 × 10 methods × 8 numbers, plus the verdicts
  CHECK(actual.size() == expected.size());
  std::size_t differing = 0;
  for (const auto& [path, value] : expected) {
    const auto it = actual.find(path);
    if (it == actual.end() || it->second != value) {
      ++differing;
      MESSAGE("numbers.json" << path << ": " << value.dump() << " vs "
                             << (it == actual.end() ? std::string("missing") : it->second.dump()));
    }
  }
  CHECK(differing == 0);
  // The reused method's timing is the stored one (measured in the interrupted run).
  CHECK(resumed_numbers["IG2"]["seconds_per_image"].get<double>() == stored_ig2_seconds);

  // CSVs: every cell equal but the timing column.
  std::size_t csv_files = 0;
  for (const auto& entry : fs::directory_iterator(reference_dir.path / "ig2")) {
    if (entry.path().extension() != ".csv") continue;
    ++csv_files;
    INFO(entry.path().filename().string());
    const auto a = fluxion::testing::csv_rows(slurp(entry.path()));
    const auto b = fluxion::testing::csv_rows(slurp(ig2_dir / entry.path().filename()));
    REQUIRE(a.size() == b.size());
    const bool ig2_settings = entry.path().filename() == "ig2_comparison_ig2_settings.csv";
    REQUIRE(a.size() == (ig2_settings ? 8u : 11u));  // header + 10 methods (the sweep: + IG2's 7 settings)
    for (std::size_t r = 0; r < a.size(); ++r) {
      REQUIRE(a[r].size() == b[r].size());
      for (std::size_t c = 0; c < a[r].size(); ++c) {
        if (a[0][c].find("time") != std::string::npos) continue;
        CHECK_MESSAGE(a[r][c] == b[r][c], "row " << r << ", column " << a[0][c]);
      }
    }
  }
  CHECK(csv_files == 3);  // ig2_comparison.csv, ig2_comparison_resnet.csv, ig2_comparison_ig2_settings.csv
}

TEST_CASE("method checkpoints: slugs are file-safe and distinct; a stored method round-trips bit for bit") {
  CHECK(method_slug("IG (black)").rfind("ig_black-", 0) == 0);
  CHECK(method_slug("ε = 0.03, n = 10") != method_slug("ε = 0.3, n = 10"));
  CHECK(method_slug("ε = 0.03, n = 10").find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
        std::string::npos);
  // FNV-1a 64 test vectors (the algorithm's published values).
  CHECK(fnv1a64_hex("") == "cbf29ce484222325");
  CHECK(fnv1a64_hex("a") == "af63dc4c8601ec8c");
  CHECK(fnv1a64_hex("foobar") == "85944171f73967e8");

  const fluxion::testing::ScratchDir scratch("method_checkpoint");
  StoredMethod m;
  m.output.values = Tensor<double>::from_shape({2, 3});
  const double values[] = {0.1, -1e-300, 5e-324, 1.0 / 3.0, -0.0, 1e300};
  for (std::size_t i = 0; i < 6; ++i) m.output.values.data()[i] = values[i];
  m.output.output_changes = {0.7, std::numeric_limits<double>::quiet_NaN()};
  m.output.completeness_gaps = {2.0 / 3.0, std::numeric_limits<double>::infinity()};
  m.output.reference = "black baseline";
  m.seconds_per_image = 0.125;
  const nlohmann::json fingerprint = {{"label", "x"}, {"seed", 1}};
  store_method(scratch.path, "x", fingerprint, m);
  const LoadedMethod back = load_method(scratch.path, "x", fingerprint);
  REQUIRE(back.method.has_value());
  CHECK(back.problem.empty());
  for (std::size_t i = 0; i < 6; ++i)
    CHECK(std::bit_cast<std::uint64_t>(back.method->output.values.data()[i]) == std::bit_cast<std::uint64_t>(values[i]));
  CHECK(back.method->output.output_changes[0] == 0.7);
  CHECK(std::isnan(back.method->output.output_changes[1]));
  CHECK(back.method->output.completeness_gaps[0] == 2.0 / 3.0);
  CHECK(back.method->output.completeness_gaps[1] == std::numeric_limits<double>::infinity());
  CHECK(back.method->output.reference == "black baseline");
  CHECK(back.method->seconds_per_image == 0.125);

  // Another fingerprint, nothing stored, a truncated record: not trusted, with a reason.
  const LoadedMethod other = load_method(scratch.path, "x", {{"label", "x"}, {"seed", 2}});
  CHECK_FALSE(other.method.has_value());
  CHECK(other.problem.find("fingerprint differs") != std::string::npos);
  const LoadedMethod none = load_method(scratch.path, "y", fingerprint);
  CHECK_FALSE(none.method.has_value());
  CHECK(none.problem.empty());
  const std::string record = slurp(scratch.path / "x.json");
  std::ofstream(scratch.path / "x.json") << record.substr(0, record.size() / 2);
  const LoadedMethod damaged = load_method(scratch.path, "x", fingerprint);
  CHECK_FALSE(damaged.method.has_value());
  CHECK(damaged.problem.find("damaged") != std::string::npos);
}
