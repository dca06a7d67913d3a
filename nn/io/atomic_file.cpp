#include "nn/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

namespace fs = std::filesystem;

const std::string kTempMarker = ".tmp.";

/// Removes "<name>.tmp.<pid>" files beside `path` whose writer no longer
/// runs: what a killed process left behind (SIGKILL skips every cleanup).
void remove_stale_temporaries(const fs::path& path) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = path.filename().string() + kTempMarker;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), ec);
  }
}

/// Writes all of `bytes` to a new file `tmp` and syncs it; returns "" or the
/// problem (strerror of the failing call).
std::string write_and_sync(const fs::path& tmp, std::string_view bytes) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::string("cannot create a file in its folder (") + std::strerror(errno) + ")";
  std::string problem;
  for (std::size_t done = 0; done < bytes.size() && problem.empty();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) problem = std::string("writing failed after ") + std::to_string(done) + " of " +
                          std::to_string(bytes.size()) + " bytes (" + std::strerror(n < 0 ? errno : ENOSPC) +
                          "; is the disk full?)";
    else done += static_cast<std::size_t>(n);
  }
  if (problem.empty() && ::fsync(fd) != 0) problem = std::string("syncing failed (") + std::strerror(errno) + ")";
  if (::close(fd) != 0 && problem.empty()) problem = std::string("closing failed (") + std::strerror(errno) + ")";
  return problem;
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  // The content is made in memory first, so a failing `write` touches no file.
  std::ostringstream content;
  try {
    write(content);
  } catch (const std::exception& e) {
    throw InputError("cannot write '" + path.string() + "': " + e.what());
  }
  if (!content) throw InputError("cannot write '" + path.string() + "': the content could not be produced");
  write_bytes_atomically(path, content.view());
}

void write_bytes_atomically(const fs::path& path, std::string_view bytes) {
  remove_stale_temporaries(path);
  fs::path tmp = path;
  tmp += kTempMarker + std::to_string(::getpid());
  std::string problem = write_and_sync(tmp, bytes);
  if (problem.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    problem = std::string("cannot rename the temporary file over it (") + std::strerror(errno) + ")";
  if (!problem.empty()) {
    ::unlink(tmp.c_str());
    throw InputError("cannot write '" + path.string() + "': " + problem);
  }
}

}  // namespace fluxion
