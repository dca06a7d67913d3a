// A fresh temporary directory per test, removed with its contents afterwards.
#pragma once
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace fluxion::testing {

struct ScratchDir {
  std::filesystem::path path;
  /// <tmp>/fluxion_test_<tag>_<pid>_<n>
  explicit ScratchDir(const std::string& tag) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("fluxion_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignore;
    std::filesystem::remove_all(path, ignore);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

}  // namespace fluxion::testing
