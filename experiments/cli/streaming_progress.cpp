// The progress line (see streaming_progress.hpp).
#include "experiments/cli/streaming_progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace fluxion::cli {

ProgressLine::ProgressLine(std::string label, std::size_t total, std::size_t already_done, bool quiet)
    : label_(std::move(label)), total_(total), start_done_(already_done), quiet_(quiet), tty_(::isatty(2) == 1),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

std::string ProgressLine::duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long long t = std::llround(s);
  char buf[32];
  if (t < 60) std::snprintf(buf, sizeof buf, "%llds", t);
  else if (t < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  return buf;
}

void ProgressLine::update(std::size_t done) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!tty_ && printed_ && done < total_ && now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? double(done - start_done_) / elapsed : 0;
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(1);
  line << label_ << ": " << done << "/" << total_ << " examples (" << 100.0 * double(done) / double(total_) << "%), "
       << rate << " examples/s, ETA " << (rate > 0 ? duration(double(total_ - done) / rate) : std::string("?"));
  if (tty_) std::cerr << "\r" << line.str() << "\x1b[K" << std::flush;
  else std::cerr << line.str() << "\n" << std::flush;
  printed_ = true;
}

void ProgressLine::finish() {
  if (!quiet_ && tty_ && printed_) std::cerr << "\n" << std::flush;
}

}  // namespace fluxion::cli
