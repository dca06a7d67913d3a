// The partial output and progress record of a streamed run (see streaming_output.hpp).
#include "experiments/cli/streaming_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/cli/commands.hpp"
#include "nn/io/atomic_file.hpp"

namespace fluxion::cli {

namespace fs = std::filesystem;

std::string npy_header(std::string_view descr, const Shape& shape) {
  std::string tuple = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) tuple += std::to_string(shape[i]) + (i + 1 < shape.size() ? ", " : "");
  tuple += shape.size() == 1 ? ",)" : ")";
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + tuple + ", }";
  const std::size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes.push_back(char(dict.size() & 0xff));
  bytes.push_back(char(dict.size() >> 8));
  return bytes + dict;
}

std::string fnv1a_hex(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

[[noreturn]] void write_failed(const fs::path& p) {
  throw InputError("cannot write '" + p.string() + "': " + std::strerror(errno));
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

PartialOutput::PartialOutput(fs::path out, std::string descr, Shape shape, std::size_t row_bytes, std::string fingerprint)
    : out_(std::move(out)), descr_(std::move(descr)), shape_(std::move(shape)), row_bytes_(row_bytes),
      fingerprint_(std::move(fingerprint)) {
  header_bytes_ = npy_header(descr_, shape_).size();
}

PartialOutput::~PartialOutput() {
  if (file_) std::fclose(file_);
}

fs::path PartialOutput::partial_path() const { return fs::path(out_.string() + ".partial"); }
fs::path PartialOutput::record_path() const { return fs::path(out_.string() + ".progress"); }

void PartialOutput::write_record() const {
  write_bytes_atomically(record_path(), "fluxion-partial 1\ndone " + std::to_string(done_) + "\nrun " + fingerprint_ + "\nnote " + note_ + "\n");
}

void PartialOutput::start() {
  std::error_code ignore;
  fs::remove(record_path(), ignore);
  file_ = std::fopen(partial_path().c_str(), "wb");
  if (!file_) write_failed(partial_path());
  const std::string header = npy_header(descr_, shape_);
  if (std::fwrite(header.data(), 1, header.size(), file_) != header.size() || std::fflush(file_) != 0)
    write_failed(partial_path());
  done_ = 0;
  write_record();
}

std::size_t PartialOutput::resume() {
  std::ifstream in(record_path());
  std::error_code ec;
  if (!in || !fs::exists(partial_path(), ec)) {
    start();
    return 0;
  }
  std::string magic, done_word, run_word, fingerprint;
  std::size_t done = 0;
  std::getline(in, magic);
  in >> done_word >> done >> run_word >> fingerprint;
  std::string note_line;
  in.ignore(1);
  std::getline(in, note_line);
  if (magic != "fluxion-partial 1" || done_word != "done" || run_word != "run" || !in ||
      note_line.rfind("note ", 0) != 0)
    throw InputError(record_path().string() + ": not a progress record of fluxion (remove it, or run without --resume)");
  if (fingerprint != fingerprint_)
    throw UsageError("--resume: " + record_path().string() + " belongs to a run with other flags, inputs or model " +
                     "(run without --resume to start over)");
  const std::uintmax_t have = fs::file_size(partial_path());
  const std::uintmax_t need = header_bytes_ + std::uintmax_t(done) * row_bytes_;
  if (have < need)
    throw InputError(partial_path().string() + ": holds " + std::to_string(have) + " bytes but the record says " +
                     std::to_string(done) + " examples are done (" + std::to_string(need) +
                     " bytes); run without --resume to start over");
  fs::resize_file(partial_path(), need);  // drop a chunk half-written when the run was killed
  file_ = std::fopen(partial_path().c_str(), "r+b");
  if (!file_ || std::fseek(file_, 0, SEEK_END) != 0) write_failed(partial_path());
  done_ = done;
  note_ = note_line.substr(5);
  return done;
}

void PartialOutput::append(std::string_view bytes, std::size_t rows, const std::string& note) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size() || std::fflush(file_) != 0 ||
      ::fsync(::fileno(file_)) != 0)
    write_failed(partial_path());
  done_ += rows;
  note_ = note;
  write_record();
}

void PartialOutput::finish() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) write_failed(partial_path());
  std::fclose(file_);
  file_ = nullptr;
  fs::rename(partial_path(), out_);
  sync_directory(out_.parent_path());
  std::error_code ignore;
  fs::remove(record_path(), ignore);
}

}  // namespace fluxion::cli
