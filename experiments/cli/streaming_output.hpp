// The output .npy of a streamed run, written as the chunks finish, and the
// record that lets `--resume` continue a killed run.
//
// Beside <out> live, while the run is under way,
//   <out>.partial   a .npy whose header already states the final shape; the
//                   rows of the finished examples follow it, in order;
//   <out>.progress  four lines, replaced atomically after each chunk's rows
//                   are fsync'ed:  "fluxion-partial 1" / "done <examples>" /
//                   "run <fingerprint of everything the values depend on>" /
//                   "note <the caller's summary of the finished chunks>".
// finish() fsyncs the partial file, renames it over <out> (readers see no
// <out> or the whole <out>, as with nn/io/atomic_file) and removes the record.
// resume() checks the fingerprint, cuts the partial file back to the recorded
// rows (a chunk half-written when the run was killed is dropped) and says how
// many examples are done.
#pragma once
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "autodiff/tensor.hpp"

namespace fluxion::cli {

/// The bytes of a version 1.0 .npy header for `shape` of `descr` ("<f4" / "<f8"),
/// padded with spaces and '\n' to a multiple of 64 bytes, the way np.save does.
std::string npy_header(std::string_view descr, const Shape& shape);

class PartialOutput {
 public:
  /// `shape` is the final output's, `row_bytes` the bytes of one example's result.
  PartialOutput(std::filesystem::path out, std::string descr, Shape shape, std::size_t row_bytes, std::string fingerprint);
  ~PartialOutput();
  PartialOutput(const PartialOutput&) = delete;
  PartialOutput& operator=(const PartialOutput&) = delete;

  /// Starts from nothing (an old partial file and record are replaced).
  void start();
  /// Continues the run the record describes: the number of examples done.
  /// With no record, starts from nothing (returns 0). UsageError if the
  /// record belongs to another run (other flags, inputs or model).
  std::size_t resume();
  /// Appends the rows of examples [done, done + rows) and records them with
  /// `note` (one line: what the caller must know of the rows done so far).
  void append(std::string_view bytes, std::size_t rows, const std::string& note);
  /// The note of the last record (after resume()).
  const std::string& note() const { return note_; }
  /// Renames the complete file over <out> and removes the record.
  void finish();
  std::size_t done() const { return done_; }

  std::filesystem::path partial_path() const;
  std::filesystem::path record_path() const;

 private:
  void write_record() const;
  std::filesystem::path out_;
  std::string descr_;
  Shape shape_;
  std::size_t row_bytes_ = 0, done_ = 0, header_bytes_ = 0;
  std::string fingerprint_, note_;
  std::FILE* file_ = nullptr;
};

/// FNV-1a 64 of `text` as 16 hex digits (a fingerprint, not a security hash).
std::string fnv1a_hex(std::string_view text);

}  // namespace fluxion::cli
