// The progress line of a long `fluxion explain` / `interactions` run, on stderr:
//   "explain ig: 640/10000 examples (6.4%), 85.3 examples/s, ETA 1m50s"
// On a terminal the line is redrawn in place ('\r', erase to the end); into a
// file or pipe it is a plain line after the first chunk, then at most one a
// second, and a last one at the end. The rate counts only examples computed by
// this run (a resumed run does not credit the examples it found done).
// `--quiet` turns it off.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace fluxion::cli {

class ProgressLine {
 public:
  ProgressLine(std::string label, std::size_t total, std::size_t already_done, bool quiet);
  /// `done` examples of `total` are finished.
  void update(std::size_t done);
  /// Ends the line (a newline on a terminal).
  void finish();

  /// "1m50s", "3h02m", "12s": a duration for humans.
  static std::string duration(double seconds);

 private:
  std::string label_;
  std::size_t total_, start_done_;
  bool quiet_, tty_, printed_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace fluxion::cli
