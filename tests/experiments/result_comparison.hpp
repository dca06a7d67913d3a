// Comparing two reproduce runs' results: numbers.json leaf by leaf and CSV
// files cell by cell, leaving out wall-clock timing (used by the resume and
// the mpirun tests, which require everything else to be bit-identical).
#pragma once
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fluxion::testing {

/// Every leaf of a JSON document by its path ("/IG2/deletion_auc"), leaving
/// out leaves whose key contains "seconds" (wall-clock timing).
inline void leaves(const nlohmann::json& j, const std::string& path, std::map<std::string, nlohmann::json>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items())
      if (k.find("seconds") == std::string::npos) leaves(v, path + "/" + k, out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) leaves(j[i], path + "/" + std::to_string(i), out);
  } else {
    out[path] = j;
  }
}

/// The cells of a CSV file (RFC 4180 quoting, as Table::csv writes it).
inline std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') cell += '"', ++i;
      else if (c == '"') quoted = false;
      else cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(cell), cell.clear();
    } else if (c == '\n') {
      rows.back().push_back(cell), cell.clear();
      rows.emplace_back();
    } else {
      cell += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

/// What result_differences compared.
struct ResultComparison {
  std::vector<std::string> differences;  // one line per differing leaf / cell / file
  std::size_t leaves = 0, cells = 0, csv_files = 0;
};

/// Compares two experiment folders a and b: every numbers.json leaf (timing
/// aside) and every cell of every CSV file of a (columns whose title contains
/// "time" aside) with b's.
inline ResultComparison result_differences(const std::filesystem::path& a, const std::filesystem::path& b) {
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  ResultComparison r;
  std::map<std::string, nlohmann::json> expected, actual;
  leaves(nlohmann::json::parse(read(a / "numbers.json")), "", expected);
  leaves(nlohmann::json::parse(read(b / "numbers.json")), "", actual);
  r.leaves = expected.size();
  if (actual.size() != expected.size()) r.differences.push_back("numbers.json: another number of leaves");
  for (const auto& [path, value] : expected) {
    const auto it = actual.find(path);
    if (it == actual.end() || it->second != value)
      r.differences.push_back("numbers.json" + path + ": " + value.dump() + " vs " +
                              (it == actual.end() ? std::string("missing") : it->second.dump()));
  }
  for (const auto& entry : std::filesystem::directory_iterator(a)) {
    if (entry.path().extension() != ".csv") continue;
    ++r.csv_files;
    const std::string file = entry.path().filename().string();
    const auto x = csv_rows(read(entry.path())), y = csv_rows(read(b / file));
    if (x.size() != y.size()) {
      r.differences.push_back(file + ": another number of rows");
      continue;
    }
    for (std::size_t row = 0; row < x.size(); ++row) {
      if (x[row].size() != y[row].size()) {
        r.differences.push_back(file + ": another number of cells in row " + std::to_string(row));
        continue;
      }
      for (std::size_t c = 0; c < x[row].size(); ++c) {
        if (x[0].size() > c && x[0][c].find("time") != std::string::npos) continue;
        ++r.cells;
        if (x[row][c] != y[row][c])
          r.differences.push_back(file + " row " + std::to_string(row) + ": " + x[row][c] + " vs " + y[row][c]);
      }
    }
  }
  return r;
}

}  // namespace fluxion::testing
