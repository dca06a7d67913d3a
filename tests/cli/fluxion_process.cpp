// Child processes of the CLI tests (see fluxion_process.hpp).
#include "tests/cli/fluxion_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef FLUXION_BUILD_DIR
#error "FLUXION_BUILD_DIR must be defined for the tests"
#endif

namespace fs = std::filesystem;

namespace fluxion::testing {

fs::path fluxion_executable() { return fs::path(FLUXION_BUILD_DIR) / "experiments" / "fluxion"; }

FluxionProcess::FluxionProcess(const std::vector<std::string>& args, const ProcessOptions& options) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls are allowed (the test runner may have threads).
  const std::string exe = fluxion_executable().string();
  if (!fs::exists(exe)) throw std::runtime_error(exe + " is not built (build the whole project: ninja -C <build dir>)");
  std::vector<std::string> all{exe};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string dir = options.working_dir.string();
  std::vector<std::string> environment;  // this process's, PATH replaced if asked
  for (char** e = environ; *e; ++e)
    if (!options.path_variable || std::string(*e).rfind("PATH=", 0) != 0) environment.emplace_back(*e);
  if (options.path_variable) environment.push_back("PATH=" + *options.path_variable);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (!dir.empty() && ::chdir(dir.c_str()) != 0) ::_exit(126);
    if (options.file_size_limit) {
      ::signal(SIGXFSZ, SIG_IGN);  // stays ignored across exec: writes fail with EFBIG instead
      rlimit limit{*options.file_size_limit, *options.file_size_limit};
      if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

FluxionProcess::~FluxionProcess() {
  if (!status_ && pid_ > 0) kill_now();
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

std::optional<std::string> FluxionProcess::next_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto end = out_buffer_.find('\n'); end != std::string::npos) {
      std::string line = out_buffer_.substr(0, end);
      out_buffer_.erase(0, end + 1);
      return line;
    }
    using std::chrono::milliseconds;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd p[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    int ready = ::poll(p, 2, int(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buffer[4096];
    if (p[1].revents) {  // keep stderr flowing so the child never blocks on it
      ssize_t n = ::read(err_fd_, buffer, sizeof buffer);
      if (n > 0) err_.append(buffer, std::size_t(n));
    }
    if (p[0].revents) {
      ssize_t n = ::read(out_fd_, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(out_fd_);
        out_fd_ = -1;
        return std::nullopt;
      }
      out_buffer_.append(buffer, std::size_t(n));
      out_all_.append(buffer, std::size_t(n));
    }
  }
}

bool FluxionProcess::finished() {
  if (status_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
  return status_.has_value();
}

void FluxionProcess::kill_now() {
  if (status_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = status;
}

ProcessResult FluxionProcess::wait() {
  // Read both pipes until they close, then reap.
  for (;;) {
    std::vector<pollfd> p;
    if (out_fd_ >= 0) p.push_back({out_fd_, POLLIN, 0});
    if (err_fd_ >= 0) p.push_back({err_fd_, POLLIN, 0});
    if (p.empty()) break;
    if (::poll(p.data(), p.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (const auto& q : p) {
      if (!q.revents) continue;
      char buffer[4096];
      ssize_t n = ::read(q.fd, buffer, sizeof buffer);
      if (n > 0) {
        (q.fd == out_fd_ ? out_all_ : err_).append(buffer, std::size_t(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(q.fd);
        (q.fd == out_fd_ ? out_fd_ : err_fd_) = -1;
      }
    }
  }
  if (!status_) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
  }
  ProcessResult r;
  r.out = out_all_;
  r.err = err_;
  if (WIFEXITED(*status_)) r.exit_code = WEXITSTATUS(*status_);
  if (WIFSIGNALED(*status_)) r.signal = WTERMSIG(*status_);
  return r;
}

ProcessResult run_fluxion(const std::vector<std::string>& args, const ProcessOptions& options) {
  FluxionProcess process(args, options);
  return process.wait();
}

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) names.insert(entry.path().filename().string());
  return names;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("cannot write test file " + path.string());
}

}  // namespace fluxion::testing
