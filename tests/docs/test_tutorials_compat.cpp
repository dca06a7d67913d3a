// Runs the program of tutorial 9 (docs/examples/09_compatibility.cpp) and
// checks the numbers it prints against the math the tutorial explains, and
// that every `name = value` line quoted in docs/09-compatibility.md is what
// the program prints (so the page cannot drift from the code).
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

/// `name [key=value ...] = number` lines of `text` (other lines are prose).
std::map<std::string, std::string> printed_values(const std::string& text) {
  std::map<std::string, std::string> values;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t eq = line.rfind(" = ");
    if (eq == std::string::npos || line.empty() || line[0] == ' ') continue;
    values[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return values;
}

struct Run {
  int exit_code = -1;
  std::string output;
  std::map<std::string, std::string> values;
};

const Run& compat_run() {
  static const Run run = [] {
    Run r;
    const std::filesystem::path exe =
        std::filesystem::path(FLUXION_BUILD_DIR) / "docs" / "examples" / "tutorial_09_compatibility";
    REQUIRE_MESSAGE(std::filesystem::exists(exe), "not built: " << exe.string());
    std::string command = "'";
    command.append(exe.string()).append("' 2>&1");
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) r.output += buffer;
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.values = printed_values(r.output);
    return r;
  }();
  return run;
}

double value(const std::string& key) {
  const Run& run = compat_run();
  const auto it = run.values.find(key);
  REQUIRE_MESSAGE(it != run.values.end(), "the program did not print `" << key << " = ...`; output:\n" << run.output);
  return std::stod(it->second);
}

}  // namespace

TEST_CASE("tutorial 09 compatibility: the program runs and passes its own checks") {
  INFO(compat_run().output);
  CHECK(compat_run().exit_code == 0);
  CHECK(value("compat_checks_failed") == 0);
}

TEST_CASE("tutorial 09 compatibility: Captum's and PAIR's IG are their formulas; Captum's is short by 1/n") {
  // The library against the hand-written sums: the same products in another order, rounding only.
  CHECK(value("ig_vs_formula library=captum") <= 1e-13);
  CHECK(value("ig_vs_formula library=pair") <= 1e-13);
  // Captum's weights are trapezoid × (n−1)/n, n = 50; its gap is therefore 1/n up to the trapezoid's own gap.
  CHECK(std::fabs(value("ig_sum_ratio captum/trapezoid") - 49.0 / 50) <= 1e-12);
  CHECK(std::fabs(value("ig_relative_gap rule=captum_trapezoid") - 1.0 / 50) <=
        value("ig_relative_gap rule=trapezoid") + 1e-5);  // + the printed rounding (4 digits)
  // PAIR's O(1/n) rule is worse than the trapezoid's O(1/n²); Gauss–Legendre is complete to rounding.
  CHECK(value("ig_relative_gap rule=inclusive_linspace") > 10 * value("ig_relative_gap rule=trapezoid"));
  CHECK(value("ig_relative_gap rule=gauss_legendre") <= 1e-12);
}

TEST_CASE("tutorial 09 compatibility: NoiseTunnel over Saliency averages |grad| with Captum's absolute sigma") {
  CHECK(value("smoothgrad_sigma fluxion") == 0.15);  // 0.15 · (max x − min x) for an image spanning [0, 1]
  CHECK(value("smoothgrad_abs_minus_abs_signed_min") >= -1e-15);  // mean|g| ≥ |mean g| on the same draws
  CHECK(value("smoothgrad_relative_difference default_vs_captum") > 0.1);  // the two definitions differ
}

TEST_CASE("tutorial 09 compatibility: PAIR's Blur IG is its formula; its end is darker and its sum not complete") {
  CHECK(value("blur_vs_formula library=pair") <= 1e-12);
  CHECK(std::fabs(value("blur_largest_sigma schedule=pair_sqrt") - std::sqrt(50.0)) <= 1e-6);  // printed to 6 digits
  // Zero padding loses mass for a non-negative image; reflection keeps the mean (printed to 6 digits).
  CHECK(value("blur_end_mean border=zeros") < value("blur_image_mean"));
  CHECK(std::fabs(value("blur_end_mean border=reflect") - value("blur_image_mean")) <= 2e-6);
  // The gap is Σ A − Δf, as printed; PAIR's O(dσ) forward-difference sum against the trapezoid's O(dσ²).
  CHECK(std::fabs(value("blur_gap settings=pair") - std::fabs(value("blur_attribution_sum settings=pair") -
                                                           value("blur_output_change settings=pair"))) <= 2e-6);
  CHECK(value("blur_gap settings=pair") > 1e3 * value("blur_gap settings=fluxion"));
}

TEST_CASE("tutorial 09 compatibility: every number quoted in docs/09-compatibility.md is the program's") {
  std::ifstream page(std::filesystem::path(FLUXION_SOURCE_DIR) / "docs" / "09-compatibility.md");
  REQUIRE(page.good());
  std::string output_blocks;  // the lines of the plain ``` blocks (program output), not of ```cpp or prose
  bool in_block = false, plain = false;
  for (std::string line; std::getline(page, line);) {
    if (line.rfind("```", 0) == 0) {
      plain = !in_block && line == "```";  // an opening fence without a language
      in_block = !in_block;
      continue;
    }
    if (in_block && plain) output_blocks += line + "\n";
  }
  const std::map<std::string, std::string> quoted = printed_values(output_blocks);
  std::size_t compared = 0;
  for (const auto& [key, number] : quoted) {
    const auto it = compat_run().values.find(key);
    REQUIRE_MESSAGE(it != compat_run().values.end(), "the page quotes `" << key << "`, which the program does not print");
    CHECK_MESSAGE(it->second == number, key << ": the page says " << number << ", the program prints " << it->second);
    ++compared;
  }
  CHECK(compared == 20);
}
