// Runs the programs the lessons added to tutorials 1–3 and checks what they
// print against references derived here independently:
//   docs/examples/01_engine_structure.cpp   adjoints of the worked trace (hand
//     chain rule), VJP = transpose of JVP (closed-form Jacobian entry), reverse
//     mode's memory (2·64·8 bytes per layer, counted by hand);
//   docs/examples/02_second_order_costs.cpp forward-over-reverse equals
//     reverse-over-reverse; what each keeps; times are printed, never checked;
//   docs/examples/03_ig_axioms.cpp          the closed forms of IG on
//     1 − ReLU(1 − x), tanh(x₀x₁) + x₀ and tanh(x₀ + x₁);
//   docs/examples/03_mnist_baselines.cpp    IG of the cnn on MNIST test digit 0
//     (skipped, with a message, when data/mnist is absent): the label and the
//     zero pixels read from the IDX bytes here, f(x) − f(0) from the model.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "attribution/explained_output.hpp"
#include "nn/models/model_io.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code = -1;
  std::string output;
  std::map<std::string, double> numbers;  // "name words" → value, from lines "name words = value"

  double operator[](const std::string& key) const {
    auto it = numbers.find(key);
    if (it == numbers.end()) FAIL("the program printed no line '" << key << " = …'");
    return it == numbers.end() ? NAN : it->second;
  }
};

/// Runs build/docs/examples/tutorial_<name> with `args` in a scratch directory
/// and parses every "key = number" line.
Run run_program(const std::string& name, const std::vector<std::string>& args = {}) {
  fluxion::testing::ScratchDir dir("lesson_" + name);
  const std::string program = std::string(FLUXION_BUILD_DIR) + "/docs/examples/tutorial_" + name;
  REQUIRE_MESSAGE(fs::exists(program), "tutorial program not built: " << program);
  std::string command = "cd '" + dir.path.string() + "' && OMP_NUM_THREADS=1 '" + program + "'";
  for (const auto& a : args) command += " '" + a + "'";
  command += " 2>&1";
  Run run;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) run.output += buffer;
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t eq = line.find(" = ");
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    const std::string value = line.substr(eq + 3);
    char* stop = nullptr;
    const double v = std::strtod(value.c_str(), &stop);
    if (stop != value.c_str()) run.numbers[line.substr(0, eq)] = v;
  }
  return run;
}

/// The '#   |…|' rows printed after the line starting with `title`.
std::vector<std::string> printed_map(const std::string& output, const std::string& title) {
  std::vector<std::string> rows;
  const std::size_t at = output.find("# " + title);
  if (at == std::string::npos) return rows;
  std::istringstream lines(output.substr(output.find('\n', at) + 1));
  for (std::string line; rows.size() < 28 && std::getline(lines, line);) {
    if (line.rfind("#   |", 0) != 0 || line.size() != 5 + 28 + 1) break;
    rows.push_back(line.substr(5, 28));
  }
  return rows;
}

}  // namespace

TEST_CASE("tutorial 01 engine structure: adjoints of the trace, VJP = transpose of JVP, memory by depth") {
  const Run run = run_program("01_engine_structure");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run["checks_failed"] == 0);
  // The hand trace of f = tanh(xy) + x at (0.7, −1.3): v̄ = 1, ū = 1 − v², x̄ = 1 + ū y, ȳ = ū x.
  const double v = std::tanh(0.7 * -1.3), ubar = 1 - v * v;
  CHECK(std::fabs(run["trace value u"] - 0.7 * -1.3) <= 1e-15);
  CHECK(std::fabs(run["trace value v"] - v) <= 1e-15);
  CHECK(run["trace adjoint v"] == 1);
  CHECK(std::fabs(run["trace adjoint u"] - ubar) <= 1e-15);
  CHECK(std::fabs(run["trace adjoint x"] - (1 + ubar * -1.3)) <= 1e-15);
  CHECK(std::fabs(run["trace adjoint y"] - ubar * 0.7) <= 1e-15);
  CHECK(std::fabs(run["trace value x"] - 0.7) == 0);
  CHECK(std::fabs(run["trace value y"] + 1.3) == 0);
  CHECK(std::fabs(run["trace value f"] - (v + 0.7)) <= 1e-15);
  CHECK(run["trace max_diff_vs_hand"] <= 1e-15);
  for (const char* op : {"mul", "tanh", "add", "tanh_matvec"}) {
    CAPTURE(op);
    CHECK(run[std::string("transpose ") + op + " max_abs_diff"] <= 1e-15);
  }
  // J₀₂ of a ↦ tanh(W a) at a = (0.4, −0.2, 0.9): (1 − tanh²(W₀·a)) W₀₂, W₀ = (0.5, −1, 0.25).
  const double y0 = std::tanh(0.5 * 0.4 + 0.2 + 0.25 * 0.9);
  CHECK(std::fabs(run["transpose tanh_matvec J02"] - (1 - y0 * y0) * 0.25) <= 1e-15);
  // Memory: per layer a matmul output and a tanh output of 64 doubles each,
  // plus the final sum's one double; nodes: x, then W, matmul, tanh per layer, then sum.
  for (int depth : {1, 2, 4, 8, 16}) {
    CAPTURE(depth);
    const std::string d = "memory depth=" + std::to_string(depth);
    CHECK(run[d + " reverse_activation_bytes"] == depth * 2 * 64 * 8 + 8);
    CHECK(run[d + " reverse_graph_nodes"] == 3 * depth + 2);
    CHECK(run[d + " forward_graph_nodes"] == 1);
  }
}

TEST_CASE("tutorial 02 second-order costs: forward-over-reverse and reverse-over-reverse agree; what each keeps") {
  const Run run = run_program("02_second_order_costs");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run["checks_failed"] == 0);
  for (const char* depth : {"depth=2", "depth=8"}) {
    CAPTURE(depth);
    const std::string d = depth;
    CHECK(run[d + " max_diff_forward_over_reverse_vs_reverse_over_reverse"] <= 1e-12);
    // Forward-over-reverse keeps the forward graph with a tangent (one
    // direction: as many numbers as the value) on every non-leaf node: the
    // dual input [64] and its reshape [64, 1], per layer the matmul and
    // softplus outputs [64, 1], then the output matmul [1, 1] and reshape [1]:
    // 2 · 8 · (64 + 64 + 128 L + 1 + 1) bytes.
    const double layers = d == "depth=2" ? 2 : 8;
    CHECK(run[d + " kept_bytes forward_over_reverse"] == 16 * (130 + 128 * layers));
    CHECK(run[d + " k64 max_diff_batched_vs_loop"] <= 1e-12);
    // The recorded first sweep is kept on top of the forward graph: more than
    // forward-over-reverse's values-plus-tangents, but less than twice.
    CHECK(run[d + " kept_bytes ratio_ror_over_for"] > 1.0);
    CHECK(run[d + " kept_bytes ratio_ror_over_for"] < 2.0);
    CHECK(std::fabs(run[d + " kept_bytes ratio_ror_over_for"] -
                    run[d + " kept_bytes reverse_over_reverse"] / run[d + " kept_bytes forward_over_reverse"]) <= 1e-5);
    // Both are a small constant times a gradient: node counts within 10 % of each other.
    CHECK(run[d + " nodes reverse_over_reverse"] == doctest::Approx(run[d + " nodes forward_over_reverse"]).epsilon(0.1));
    // Times are printed for the reader, never checked.
    CHECK(run.numbers.count("time " + d + " k64_ms forward_over_reverse_batched") == 1);
    CHECK(run.numbers.count("time " + d + " k64_ms reverse_over_reverse_loop") == 1);
  }
  // The graph the second sweep needs grows with depth faster than the dual
  // graph: per layer it keeps the forward values (2 · 64 doubles) and at least
  // the sweep's own cotangents, more than the 2048 bytes a dual layer holds.
  CHECK(run["depth=8 kept_bytes ratio_ror_over_for"] > run["depth=2 kept_bytes ratio_ror_over_for"]);
  CHECK((run["depth=8 kept_bytes reverse_over_reverse"] - run["depth=2 kept_bytes reverse_over_reverse"]) / 6 > 2048);
}

TEST_CASE("tutorial 03 axioms: sensitivity, implementation invariance and symmetry against closed forms") {
  const Run run = run_program("03_ig_axioms");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run["checks_failed"] == 0);
  // f(x) = 1 − ReLU(1 − x), x = 2, x′ = 0: the gradient is 0, IG = 2 ∫₀¹ f′(2t) dt = 1.
  CHECK(run["sensitivity f_x_minus_f_baseline"] == 1);
  CHECK(run["sensitivity gradient"] == 0);
  CHECK(run["sensitivity gradient_times_input"] == 0);
  CHECK(std::fabs(run["sensitivity ig"] - 1) <= 1e-14);
  CHECK(run["sensitivity ig_gap"] <= 1e-14);
  // f = tanh(ab) + a from 0 to (a, b): IG_a = tanh(ab)/2 + a, IG_b = tanh(ab)/2
  // (∫₀¹ t·ab·sech²(t²ab) dt = tanh(ab)/2); both implementations alike.
  const double th = std::tanh(0.7 * -1.3);
  CHECK(std::fabs(run["invariance ig_A 0"] - (th / 2 + 0.7)) <= 1e-13);
  CHECK(std::fabs(run["invariance ig_A 1"] - th / 2) <= 1e-13);
  CHECK(run["invariance max_diff_A_vs_B"] <= 1e-15);
  // tanh(x₀ + x₁) at (1, 1): IG gives tanh(2)/2 each; the axis path tanh 1 and tanh 2 − tanh 1.
  CHECK(std::fabs(run["symmetry ig 0"] - std::tanh(2.0) / 2) <= 1e-13);
  CHECK(std::fabs(run["symmetry ig 1"] - std::tanh(2.0) / 2) <= 1e-13);
  CHECK(run["symmetry ig_abs_diff"] <= 1e-15);
  CHECK(std::fabs(run["symmetry axis_path 0"] - std::tanh(1.0)) <= 1e-13);
  CHECK(std::fabs(run["symmetry axis_path 1"] - (std::tanh(2.0) - std::tanh(1.0))) <= 1e-13);
}

TEST_CASE("tutorial 03 MNIST baselines: black is blind to the background, blurred is not (skips without MNIST)") {
  const fs::path mnist = fs::path(FLUXION_SOURCE_DIR) / "data" / "mnist";
  if (!fs::exists(mnist / "t10k-images-idx3-ubyte") || !fs::exists(mnist / "t10k-labels-idx1-ubyte") ||
      !fs::exists(mnist / "train-images-idx3-ubyte")) {
    MESSAGE("skipped: no MNIST in " << mnist.string() << " (scripts/fetch-mnist.sh fetches it)");
    return;
  }
  // The model `fluxion reproduce` caches, else a stand-in the program trains once (about 10 s).
  fs::path model = fs::path(FLUXION_SOURCE_DIR) / "results" / "models" / "cnn.safetensors";
  if (!fs::exists(model)) model = fs::path(FLUXION_BUILD_DIR) / "docs" / "examples" / "cnn-tutorial-stand-in.safetensors";
  const Run run = run_program("03_mnist_baselines", {mnist.string(), model.string(), "0"});
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  CHECK(run["checks_failed"] == 0);

  // Test image 0 and its label, read from the IDX files here (16- and 8-byte headers).
  std::ifstream images(mnist / "t10k-images-idx3-ubyte", std::ios::binary), labels(mnist / "t10k-labels-idx1-ubyte", std::ios::binary);
  std::vector<unsigned char> pixel(784);
  images.seekg(16);
  images.read(reinterpret_cast<char*>(pixel.data()), 784);
  labels.seekg(8);
  const int label = labels.get();
  REQUIRE(images);
  int zeros = 0, ink = 0;
  for (unsigned char p : pixel) zeros += p == 0, ink += p > 127;
  CHECK(run["digit label"] == label);
  CHECK(run["digit predicted"] == label);
  CHECK(run["digit zero_pixels"] == zeros);
  CHECK(run["digit ink_pixels_above_half"] == ink);
  CHECK(run["model test_accuracy"] >= 0.93);  // reproduce cnn: 98.8 %; the stand-in: 94.5 % on 2000 test images

  // f(x) − f(0) for the label's logit, from the model's forward pass.
  const fluxion::Sequential<double> net = fluxion::load_model<double>(model);
  fluxion::Tensor<double> x = fluxion::Tensor<double>::from_shape({2, 1, 28, 28});
  for (std::size_t i = 0; i < 784; ++i) x.data()[i] = pixel[i] / 255.0, x.data()[784 + i] = 0.0;
  const fluxion::Tensor<double> logits = fluxion::as_function(net)(fluxion::Var<double>(x)).value();
  const double change = logits(0, std::size_t(label)) - logits(1, std::size_t(label));
  CHECK(run["black output_change"] == doctest::Approx(change).epsilon(1e-5));

  for (const char* b : {"black", "blurred"}) {
    CAPTURE(b);
    const std::string k = b;
    // Completeness: Σ IG = f(x) − f(x′) up to the quadrature gap of a ReLU network.
    CHECK(run[k + " relative_gap"] <= 0.01);
    CHECK(std::fabs(run[k + " ig_sum"] - run[k + " output_change"]) <=
          (run[k + " relative_gap"] + 1e-5) * std::fabs(run[k + " output_change"]));
  }
  // Black: (xᵢ − 0) = 0 on every background pixel, so IG is exactly 0 there.
  CHECK(run["black baseline_max"] == 0);
  CHECK(run["black background_nonzero_pixels"] == 0);
  CHECK(run["black background_max_abs"] == 0);
  CHECK(run["black background_share_of_mass"] == 0);
  // Blurred: the baseline has ink where x has none, so the background is attributed.
  CHECK(run["blurred baseline_max_on_background"] > 0);
  // A Gaussian blur averages with weights summing to 1: it stays in [0, 1]
  // and cannot exceed the brightest pixel.
  CHECK(run["blurred baseline_min"] >= 0);
  CHECK(run["blurred baseline_max"] <= 1);
  CHECK(run["blurred baseline_max"] >= run["blurred baseline_max_on_background"]);
  CHECK(run["black baseline_min"] == 0);
  CHECK(run["black baseline_max_on_background"] == 0);
  CHECK(run["digit index"] == 0);
  CHECK(run["top50 blurred_on_background"] >= 0);
  CHECK(run["top50 blurred_on_background"] <= 50 - run["top50 common_pixels"]);  // the common ones are on ink
  CHECK(run["blurred background_nonzero_pixels"] > zeros / 2);
  CHECK(run["blurred background_nonzero_pixels"] <= zeros);
  CHECK(run["blurred background_share_of_mass"] > 0.05);
  // The two maps agree on most of their 50 strongest pixels (the strokes).
  CHECK(run["top50 common_pixels"] >= 25);
  CHECK(run["top50 common_pixels"] <= 50);
  // The printed black map is blank on every zero pixel of the IDX bytes, and
  // almost nowhere else (an inked pixel is blank only if ∂ᵢf = 0 all along the path).
  const std::vector<std::string> black = printed_map(run.output, "IG, black baseline");
  REQUIRE(black.size() == 28);
  int zero_not_blank = 0, ink_blank = 0, blurred_blank = 0;
  for (std::size_t i = 0; i < 784; ++i) {
    const bool blank = black[i / 28][i % 28] == ' ';
    zero_not_blank += pixel[i] == 0 && !blank;
    ink_blank += pixel[i] != 0 && blank;
  }
  CHECK(zero_not_blank == 0);
  CHECK(ink_blank <= (784 - zeros) / 10);
  const std::vector<std::string> blurred = printed_map(run.output, "IG, blurred baseline");
  REQUIRE(blurred.size() == 28);
  for (std::size_t i = 0; i < 784; ++i) blurred_blank += blurred[i / 28][i % 28] == ' ';
  CHECK(blurred_blank >= zeros - run["blurred background_nonzero_pixels"]);
  CHECK(blurred_blank <= zeros - run["blurred background_nonzero_pixels"] + ink_blank + (784 - zeros) / 10);
}

// ---- the lesson format -----------------------------------------------------

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The targets of the Markdown links [text](target) of `page` that are neither
/// web addresses nor anchors, without their #fragment.
std::vector<std::string> relative_links(const std::string& page) {
  std::vector<std::string> links;
  for (std::size_t at = page.find("]("); at != std::string::npos; at = page.find("](", at + 2)) {
    const std::size_t end = page.find(')', at + 2);
    if (end == std::string::npos) break;
    std::string target = page.substr(at + 2, end - at - 2);
    if (target.empty() || target.find(' ') != std::string::npos || target.rfind("http", 0) == 0 || target[0] == '#')
      continue;
    links.push_back(target.substr(0, target.find('#')));
  }
  return links;
}

}  // namespace

TEST_CASE("docs: every relative link in README.md and docs/*.md names a file of the repository") {
  const fs::path root = FLUXION_SOURCE_DIR;
  std::vector<fs::path> pages{root / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "docs"))
    if (entry.path().extension() == ".md") pages.push_back(entry.path());
  std::size_t checked = 0;
  for (const auto& page : pages) {
    for (const std::string& target : relative_links(read_text(page))) {
      ++checked;
      CHECK_MESSAGE(fs::exists(page.parent_path() / target), page.filename().string() << " links to " << target
                                                                 << ", which does not exist");
    }
  }
  CHECK(checked >= 30);  // the pages do link; a parser that found none would pass vacuously
}

TEST_CASE("docs: each tutorial of the notation sheet's table is a lesson (prerequisites, goals, exercises)") {
  const fs::path docs = fs::path(FLUXION_SOURCE_DIR) / "docs";
  const std::string sheet = read_text(docs / "notation.md");
  // The tutorials are the pages the sheet's dependency table links: "| [N. Title](0N-name.md) |".
  std::vector<std::string> tutorials;
  for (const std::string& target : relative_links(sheet))
    if (target.size() > 3 && std::isdigit(static_cast<unsigned char>(target[0])) && target.find(".md") != std::string::npos &&
        std::find(tutorials.begin(), tutorials.end(), target) == tutorials.end())
      tutorials.push_back(target);
  CHECK(tutorials.size() >= 8);
  // ... and every numbered page in docs/ is in the sheet, linked or named.
  for (const auto& entry : fs::directory_iterator(docs)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".md" && std::isdigit(static_cast<unsigned char>(name[0])))
      CHECK_MESSAGE(sheet.find(name) != std::string::npos, "docs/notation.md does not place " << name << " in the order of the tutorials");
  }
  for (const std::string& t : tutorials) {
    CAPTURE(t);
    const std::string page = read_text(docs / t);
    const std::size_t first_section = page.find("\n## ");
    const std::size_t prerequisites = page.find("**Prerequisites:**"), goals = page.find("**You will learn:**");
    CHECK(prerequisites < first_section);  // at the top, before the first section
    CHECK(goals < first_section);
    CHECK(page.find("(notation.md)") < first_section);
    const std::size_t exercises = page.find("## Exercises: change this, predict, run");
    REQUIRE(exercises != std::string::npos);
    CHECK(page.find("\n## ", exercises + 4) == std::string::npos);  // the last section
    int items = 0;
    for (char n = '1'; n <= '9'; ++n) items += page.find(std::string{'\n', n, '.', ' '}, exercises) != std::string::npos;
    CHECK(items >= 3);
  }
}
