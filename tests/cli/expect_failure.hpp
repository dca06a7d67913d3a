// The contract of a failing `fluxion` command, checked in one place:
//   * the expected exit code (2 bad usage, 1 bad file or failed work), no signal;
//   * stderr is exactly one line "fluxion: <sentence>" that names the file
//     (or flag) and the problem: no exception type, template or stack trace;
//   * the working folder holds exactly the files it held before: no output,
//     no partial output, no temporary file.
// With FLUXION_CLI_MESSAGES=<file> set, each case appends a Markdown table
// row "| case | exit code | message |" to that file (for documentation).
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/cli/fluxion_process.hpp"

namespace fluxion::testing {

struct FailureCase {
  std::string name;                    // what is wrong, for messages and the table
  std::vector<std::string> args;       // fluxion's arguments
  int exit_code = 1;
  std::vector<std::string> mentions;   // each must appear in the message (file, problem)
  std::optional<std::uint64_t> file_size_limit = std::nullopt;
};

inline void expect_clean_failure(const std::filesystem::path& dir, const FailureCase& c) {
  INFO("case: " << c.name);
  const auto before = files_in(dir);
  ProcessOptions options;
  options.working_dir = dir;
  options.file_size_limit = c.file_size_limit;
  const ProcessResult r = run_fluxion(c.args, options);
  INFO("stderr: " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == c.exit_code);
  const std::string prefix = "fluxion: ";
  CHECK(r.err.compare(0, prefix.size(), prefix) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);  // one line
  CHECK(r.err.size() < 400);
  for (const char* spew : {"terminate called", "what()", "std::", "basic_", "nlohmann", "json.exception",
                           "Sanitizer", "runtime error", "Aborted"})
    CHECK_MESSAGE(r.err.find(spew) == std::string::npos, "contains '" << spew << "'");
  for (const auto& m : c.mentions) CHECK_MESSAGE(r.err.find(m) != std::string::npos, "does not mention '" << m << "'");
  CHECK(files_in(dir) == before);
  if (const char* table = std::getenv("FLUXION_CLI_MESSAGES")) {
    std::string message = r.err.substr(0, r.err.find('\n'));
    std::ofstream(table, std::ios::app) << "| " << c.name << " | " << r.exit_code << " | `" << message << "` |\n";
  }
}

}  // namespace fluxion::testing
