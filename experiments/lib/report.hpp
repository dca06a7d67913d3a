// What an experiment leaves behind: Markdown tables for the report, the same
// numbers as CSV, every number as JSON, and the metadata that makes a run
// reproducible (seed, git commit, machine, wall time).
//
// All files are written atomically (temp file + rename).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fluxion {

/// A table of already formatted cells.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  void add_row(std::vector<std::string> cells);
  std::string markdown() const;  // GitHub-flavoured Markdown; a "|" in a cell is escaped as "\|"
  std::string csv() const;       // RFC 4180 quoting
};

/// "%.*g"-style number for tables; NaN → "n/a".
std::string format_number(double value, int significant = 4);
/// "mean ± se" with matching precision.
std::string format_mean_se(double mean, double se, int significant = 3);

/// Mean and standard error of the mean (sample s.d. / √n; se = 0 for n = 1).
struct MeanSe {
  double mean = 0, se = 0;
  std::size_t n = 0;
};
MeanSe mean_se(const std::vector<double>& values);

/// Write text atomically, creating parent directories.
void write_text(const std::filesystem::path& path, const std::string& text);
void write_json(const std::filesystem::path& path, const nlohmann::json& value);

/// Machine and code facts for run metadata: git commit (or "unknown"),
/// CPU model, core count, compiler, UTC time.
nlohmann::json run_environment();

/// Throws InputError naming the key if any number in the JSON is not finite.
void require_finite_numbers(const nlohmann::json& value, const std::string& where);

}  // namespace fluxion
