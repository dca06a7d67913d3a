// Line plots through a gnuplot subprocess (see plot.hpp): a scratch
// directory holds data, script, gnuplot's stderr and the drawn PNG; the PNG
// bytes are then written atomically to their destination.
#include "experiments/lib/plot.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

extern char** environ;

namespace fluxion {
namespace {

namespace fs = std::filesystem;

/// Series with at most this many points are drawn with point markers too.
constexpr std::size_t kMarkedPointLimit = 30;

/// A fresh private directory under the system temp dir, removed with everything in it.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = (fs::temp_directory_path() / "fluxion-plot-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
      throw InputError("cannot create a temporary directory for gnuplot: " + std::string(std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignore;
    fs::remove_all(path_, ignore);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw InputError("cannot write gnuplot input '" + path.string() + "'");
}

/// Runs `gnuplot <args…>` (looked up on PATH) with stdin and stdout on /dev/null and
/// stderr captured into `stderr_file`; returns the exit status (−1 if killed by a signal).
int run_gnuplot(const std::vector<std::string>& args, const fs::path& stderr_file) {
  std::vector<std::string> argv_storage{"gnuplot"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawn_error = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    throw InputError("cannot run gnuplot (is it installed and on PATH?): " + std::string(std::strerror(spawn_error)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw InputError("waiting for gnuplot failed: " + std::string(std::strerror(errno)));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// "pngcairo" if `gnuplot -e "set terminal"` lists it, else "png". Cached after
/// the first successful query.
std::string png_terminal(const fs::path& scratch) {
  static std::mutex mutex;
  static std::optional<std::string> cached;
  std::lock_guard<std::mutex> lock(mutex);
  if (cached) return *cached;
  const fs::path listing = scratch / "terminals.txt";
  if (run_gnuplot({"-e", "set terminal"}, listing) != 0) {
    throw InputError("gnuplot could not list its terminals: " + read_text(listing));
  }
  const std::string terminals = read_text(listing);  // gnuplot prints the list on stderr
  if (terminals.find("pngcairo") != std::string::npos) {
    cached = "pngcairo";
  } else if (terminals.find(" png ") != std::string::npos) {
    cached = "png";
  } else {
    throw InputError("gnuplot has neither the pngcairo nor the png terminal");
  }
  return *cached;
}

/// A gnuplot single-quoted string literal: ' doubles to '', line breaks become spaces.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "'";
}

void check_series(const Series& s, std::size_t index, const PlotSpec& spec) {
  const std::string name = "plot series " + std::to_string(index) + " '" + s.label + "'";
  if (s.x.empty() || s.x.size() != s.y.size()) {
    throw InputError(name + " needs x and y of the same non-zero length, got " + std::to_string(s.x.size()) +
                     " and " + std::to_string(s.y.size()));
  }
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) throw InputError(name + " has a non-finite point");
    if ((spec.logx && s.x[i] <= 0) || (spec.logy && s.y[i] <= 0)) {
      throw InputError(name + " has a non-positive value on a log axis");
    }
  }
}

void check_plot(const PlotSpec& spec, const std::vector<Series>& series) {
  if (series.empty()) throw InputError("plot_lines needs at least one series");
  if (spec.width < 16 || spec.width > 10000 || spec.height < 16 || spec.height > 10000) {
    throw InputError("plot size " + std::to_string(spec.width) + "x" + std::to_string(spec.height) +
                     " is outside 16..10000 pixels");
  }
  for (std::size_t i = 0; i < series.size(); ++i) check_series(series[i], i, spec);
}

/// All series as gnuplot data blocks ("x y" lines, blocks separated by two blank lines).
std::string data_blocks(const std::vector<Series>& series) {
  std::ostringstream out;
  out.precision(17);
  for (const Series& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) out << s.x[i] << ' ' << s.y[i] << '\n';
    out << "\n\n";
  }
  return out.str();
}

std::string script(const std::string& terminal, const PlotSpec& spec, const std::vector<Series>& series,
                   const fs::path& data, const fs::path& output) {
  std::ostringstream s;
  s << "set terminal " << terminal << " size " << spec.width << ',' << spec.height << " noenhanced\n"
    << "set output " << quoted(output.string()) << '\n'
    << "set title " << quoted(spec.title) << '\n'
    << "set xlabel " << quoted(spec.xlabel) << '\n'
    << "set ylabel " << quoted(spec.ylabel) << '\n'
    << "set grid\nset key top right\n";
  if (spec.logx) s << "set logscale x\nset format x '%g'\n";
  if (spec.logy) s << "set logscale y\nset format y '%g'\n";
  s << "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const bool marked = series[i].x.size() <= kMarkedPointLimit;
    s << (i ? ", \\\n     " : "") << quoted(data.string()) << " index " << i << " using 1:2 with "
      << (marked ? "linespoints pointsize 0.8" : "lines") << " linewidth 2 "
      << (series[i].label.empty() ? "notitle" : "title " + quoted(series[i].label));
  }
  s << "\nset output\n";
  return s.str();
}

}  // namespace

void plot_lines(const std::filesystem::path& png, const PlotSpec& spec, const std::vector<Series>& series) {
  check_plot(spec, series);
  const ScratchDirectory scratch;
  const fs::path data = scratch.path() / "data.dat", script_file = scratch.path() / "plot.gp";
  const fs::path drawn = scratch.path() / "plot.png", errors = scratch.path() / "stderr.txt";
  write_text(data, data_blocks(series));
  write_text(script_file, script(png_terminal(scratch.path()), spec, series, data, drawn));
  const int status = run_gnuplot({script_file.string()}, errors);
  std::error_code ec;
  if (status != 0 || fs::file_size(drawn, ec) == 0 || ec) {
    throw InputError("gnuplot failed to draw '" + png.string() + "' (exit status " + std::to_string(status) +
                     "): " + read_text(errors));
  }
  write_bytes_atomically(png, read_text(drawn));
}

}  // namespace fluxion
