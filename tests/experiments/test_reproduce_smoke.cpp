// Every reproduction experiment in its tiny smoke configuration (synthetic
// data, no network, seconds): the report and every experiment's files exist,
// every reported number is finite, a second run resumes (skips finished
// experiments), and an unknown experiment name is rejected.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "autodiff/errors.hpp"
#include "experiments/lib/report.hpp"
#include "experiments/reproduce/runner.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace fluxion;
using namespace fluxion::experiments;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("reproduce --smoke runs every experiment and writes a complete report") {
  // A folder of its own: test runs of several build dirs may run at once.
  const fluxion::testing::ScratchDir scratch("reproduce_smoke");
  const fs::path out = scratch.path;
  ReproduceOptions options;
  options.scale = Scale::smoke;
  options.out_dir = out;
  options.seed = 3;
  REQUIRE(reproduce(options) == 0);

  const std::string report = slurp(out / "REPORT.md");
  CHECK(report.find("# Fluxion reproduction report") != std::string::npos);
  for (const auto& name : experiment_names()) {
    INFO("experiment " << name);
    const fs::path dir = out / name;
    CHECK(fs::exists(dir / "done.json"));
    CHECK(fs::exists(dir / "section.md"));
    CHECK_FALSE(fs::exists(dir / "error.txt"));
    const auto numbers = nlohmann::json::parse(slurp(dir / "numbers.json"));
    CHECK_FALSE(numbers.empty());
    CHECK_NOTHROW(require_finite_numbers(numbers, name));
    // Every figure the section links to exists and is a PNG.
    const std::string section = slurp(dir / "section.md");
    std::size_t at = 0;
    while ((at = section.find("](" + name + "/", at)) != std::string::npos) {
      const std::size_t end = section.find(')', at);
      const fs::path figure = out / section.substr(at + 2, end - at - 2);
      CHECK_MESSAGE(fs::exists(figure), figure.string());
      const std::string bytes = slurp(figure);
      CHECK(bytes.substr(1, 3) == "PNG");
      at = end;
    }
    CHECK(report.find(section.substr(0, 40)) != std::string::npos);
  }
  const auto metadata = nlohmann::json::parse(slurp(out / "metadata.json"));
  CHECK(metadata["seed"] == 3);
  CHECK(metadata["scale"] == "smoke");

  // Resume: finished experiments are not redone (their done.json is untouched).
  const auto stamp = fs::last_write_time(out / "timing" / "done.json");
  ReproduceOptions again = options;
  again.selection = {"timing", "interactions"};
  REQUIRE(reproduce(again) == 0);
  CHECK(fs::last_write_time(out / "timing" / "done.json") == stamp);

  ReproduceOptions unknown = options;
  unknown.selection = {"no-such-experiment"};
  CHECK_THROWS_AS(reproduce(unknown), InputError);
}
