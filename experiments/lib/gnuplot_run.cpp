// gnuplot as a subprocess (see gnuplot_run.hpp).
#include "experiments/lib/gnuplot_run.hpp"

#include <cerrno>
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
#include <vector>

#include "autodiff/errors.hpp"
#include "nn/io/atomic_file.hpp"

extern char** environ;

namespace fluxion {
namespace {

namespace fs = std::filesystem;

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

}  // namespace

std::string gnuplot_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "'";
}

bool gnuplot_on_path() {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path ? path : "");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    const fs::path candidate = (folder.empty() ? fs::path(".") : fs::path(folder)) / "gnuplot";
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

void write_gnuplot_input(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw InputError("cannot write gnuplot input '" + path.string() + "'");
}

void render_with_gnuplot(
    const fs::path& png,
    const std::function<std::string(const fs::path&, const std::string&, const fs::path&)>& make_script) {
  const ScratchDirectory scratch;
  const fs::path script_file = scratch.path() / "plot.gp";
  const fs::path drawn = scratch.path() / "plot.png", errors = scratch.path() / "stderr.txt";
  write_gnuplot_input(script_file, make_script(scratch.path(), png_terminal(scratch.path()), drawn));
  const int status = run_gnuplot({script_file.string()}, errors);
  std::error_code ec;
  if (status != 0 || fs::file_size(drawn, ec) == 0 || ec) {
    throw InputError("gnuplot failed to draw '" + png.string() + "' (exit status " + std::to_string(status) +
                     "): " + read_text(errors));
  }
  write_bytes_atomically(png, read_text(drawn));
}

}  // namespace fluxion
