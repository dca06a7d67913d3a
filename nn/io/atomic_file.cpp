#include "nn/io/atomic_file.hpp"

#include <fstream>
#include <unistd.h>

#include "autodiff/errors.hpp"

namespace fluxion {

void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw InputError("cannot open '" + tmp.string() + "' for writing");
      write(out);
      out.flush();
      if (!out) throw InputError("writing failed (disk full or I/O error)");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw InputError("cannot rename temporary file: " + ec.message());
  } catch (const std::exception& e) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    throw InputError("cannot write '" + path.string() + "': " + e.what());
  }
}

void write_bytes_atomically(const std::filesystem::path& path, std::string_view bytes) {
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
}

}  // namespace fluxion
