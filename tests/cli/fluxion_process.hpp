// Running the built `fluxion` tool as a child process (fork + exec), the way a
// user would: in a chosen working directory, optionally with a file-size
// limit (a stand-in for a full disk), capturing exit status and output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fluxion::testing {

/// The `fluxion` executable of this build.
std::filesystem::path fluxion_executable();

struct ProcessOptions {
  std::filesystem::path working_dir;               // empty: the test's own
  std::optional<std::uint64_t> file_size_limit;    // RLIMIT_FSIZE in bytes; SIGXFSZ is ignored,
                                                   // so an oversized write fails with EFBIG
  std::optional<std::string> path_variable;        // the child's PATH (e.g. a folder without gnuplot);
                                                   // empty optional: the test's own environment
};

struct ProcessResult {
  int exit_code = -1;    // -1 when killed by a signal
  int signal = 0;        // the terminating signal, 0 if it exited
  std::string out, err;  // everything written to stdout and stderr
};

/// Runs `fluxion args...` to completion.
ProcessResult run_fluxion(const std::vector<std::string>& args, const ProcessOptions& options = {});

/// A running `fluxion` whose stdout is read line by line (for kill tests).
class FluxionProcess {
 public:
  FluxionProcess(const std::vector<std::string>& args, const ProcessOptions& options = {});
  ~FluxionProcess();  // kills and reaps a child that is still running
  FluxionProcess(const FluxionProcess&) = delete;
  FluxionProcess& operator=(const FluxionProcess&) = delete;

  /// The next stdout line, or nothing if stdout closed or `timeout` passed.
  std::optional<std::string> next_line(std::chrono::milliseconds timeout);
  /// Whether the child has exited (reaps it if so).
  bool finished();
  /// SIGKILL, then reap.
  void kill_now();
  /// Waits for the end; the result holds all of stdout and stderr.
  ProcessResult wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_buffer_, err_, out_all_;
  std::optional<int> status_;
};

/// Names of the entries of `dir` (not recursive).
std::set<std::string> files_in(const std::filesystem::path& dir);

/// Whole file as bytes; "" if it cannot be read.
std::string read_bytes(const std::filesystem::path& path);

/// Writes `bytes` to `path` (plain, not atomic: tests make broken files on purpose).
void write_raw(const std::filesystem::path& path, const std::string& bytes);

}  // namespace fluxion::testing
