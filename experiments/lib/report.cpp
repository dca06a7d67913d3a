// Report building blocks: tables, number formatting, metadata (see report.hpp).
#include "experiments/lib/report.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion {

namespace {
/// A cell's text with '|' escaped as "\\|" (a bare '|' would end the cell, e.g. in "max |Δ logit|").
std::string markdown_cell(const std::string& cell) {
  std::string out;
  for (char c : cell) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

void Table::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns.size()) {
    throw InputError("table row has " + std::to_string(cells.size()) + " cells but the table has " +
                     std::to_string(columns.size()) + " columns");
  }
  rows.push_back(std::move(cells));
}

std::string Table::markdown() const {
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    out << "|";
    for (const auto& c : cells) out << " " << markdown_cell(c) << " |";
    out << "\n";
  };
  line(columns);
  out << "|";
  for (std::size_t i = 0; i < columns.size(); ++i) out << (i == 0 ? " :--- |" : " ---: |");
  out << "\n";
  for (const auto& r : rows) line(r);
  return out.str();
}

namespace {
std::string csv_cell(const std::string& cell) {
  if (cell.find_first_of(",\"\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}
}  // namespace

std::string Table::csv() const {
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << csv_cell(cells[i]);
    out << "\n";
  };
  line(columns);
  for (const auto& r : rows) line(r);
  return out.str();
}

std::string format_number(double value, int significant) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
  return buffer;
}

std::string format_mean_se(double mean, double se, int significant) {
  return format_number(mean, significant) + " ± " + format_number(se, 2);
}

MeanSe mean_se(const std::vector<double>& values) {
  MeanSe r;
  r.n = values.size();
  if (values.empty()) {
    r.mean = r.se = std::nan("");
    return r;
  }
  double sum = 0;
  for (double v : values) sum += v;
  r.mean = sum / double(r.n);
  if (r.n > 1) {
    double ss = 0;
    for (double v : values) ss += (v - r.mean) * (v - r.mean);
    r.se = std::sqrt(ss / double(r.n - 1)) / std::sqrt(double(r.n));
  }
  return r;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_bytes_atomically(path, text);
}

void write_json(const std::filesystem::path& path, const nlohmann::json& value) {
  write_text(path, value.dump(2) + "\n");
}

namespace {
std::string command_output(const char* command) {
  std::string out;
  if (FILE* pipe = ::popen(command, "r")) {
    std::array<char, 256> buffer{};
    while (std::fgets(buffer.data(), int(buffer.size()), pipe)) out += buffer.data();
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}
}  // namespace

nlohmann::json run_environment() {
  std::string commit = command_output("git rev-parse HEAD 2>/dev/null");
  std::string dirty = command_output("git status --porcelain --untracked-files=no 2>/dev/null | head -n 1");
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"git_commit", commit.empty() ? "unknown" : commit},
          {"git_dirty", !dirty.empty()},
          {"cpu", cpu_model()},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"compiler", std::string(__VERSION__)},
          {"utc_time", stamp}};
}

void require_finite_numbers(const nlohmann::json& value, const std::string& where) {
  if (value.is_number_float()) {
    if (!std::isfinite(value.get<double>())) throw InputError(where + " is not a finite number");
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) require_finite_numbers(it.value(), where + "." + it.key());
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) require_finite_numbers(value[i], where + "[" + std::to_string(i) + "]");
  }
}

}  // namespace fluxion
