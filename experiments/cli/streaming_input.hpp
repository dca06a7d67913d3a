// Reading the examples of `--input` in chunks, so that `fluxion explain` and
// `interactions` hold only a chunk in memory whatever the file's size.
//
// Two formats, told apart by their first bytes:
//   * .npy ('<f4' or '<f8', C order; nn/io/npy.hpp): the file is
//     memory-mapped; a chunk of rows [first, first + count) is handed to the
//     library reader parse_npy as a small .npy of its own (the file's header
//     dict with the shape's leading axis replaced by `count`), so every rule
//     of the reader (dtype, order, conversion to T, range) applies per chunk.
//   * IDX images (u32 magic 0x00000803, N, rows, cols, then N·rows·cols
//     bytes; nn/data/idx.hpp), e.g. data/mnist/t10k-images-idx3-ubyte:
//     a chunk is handed to parse_idx_images the same way (pixels / 255).
// Memory per chunk: the mapped pages touched (the kernel may drop them) plus
// about 3 · count · example bytes of copies inside the readers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "autodiff/tensor.hpp"

namespace fluxion::cli {

/// A read-only memory map of a whole file (POSIX mmap). InputError naming
/// the file if it cannot be opened or mapped.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const char* data() const { return data_; }
  std::uint64_t size() const { return size_; }
  /// Lets the kernel drop the pages of bytes [offset, offset + length), read
  /// already (madvise MADV_DONTNEED: a later read faults them in again), so
  /// the resident set stays bounded by a chunk whatever the file's size.
  void release(std::uint64_t offset, std::uint64_t length) const;

 private:
  const char* data_ = nullptr;
  std::uint64_t size_ = 0;
};

/// The examples of one input file, read chunk by chunk as T.
template <class T>
class ExampleReader {
 public:
  /// Opens `path`, checks its header and that its rows fit `example` (one
  /// example of that shape, or a batch [N, ...] whose rows have its size).
  /// `limit` > 0 keeps only the first `limit` examples.
  ExampleReader(const std::filesystem::path& path, const Shape& example, std::size_t limit = 0);

  std::size_t total() const { return total_; }          // examples to read (after --limit)
  std::size_t in_file() const { return in_file_; }      // examples the file holds
  bool single_example() const { return single_; }       // the file is one example without a batch axis
  bool is_idx() const { return idx_; }

  /// Examples [first, first + count) as [count, example...]; InputError
  /// (naming the file and the element's index in the file) for a NaN or
  /// infinite value.
  Tensor<T> read(std::size_t first, std::size_t count) const;

 private:
  bool parse_npy_shape(std::uint64_t& count);
  std::string source_;
  MappedFile file_;
  Shape example_;
  std::size_t example_size_ = 0, total_ = 0, in_file_ = 0;
  bool single_ = false, idx_ = false;
  // .npy: the header dict split around the shape tuple, the data offset, the item size
  std::string dict_before_, dict_after_;
  Shape file_shape_;
  std::uint64_t data_offset_ = 0, item_size_ = 0;
  std::uint32_t rows_ = 0, cols_ = 0;  // IDX
};

}  // namespace fluxion::cli
