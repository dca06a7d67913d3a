// Chunked reading of .npy and IDX inputs (see streaming_input.hpp).
#include "experiments/cli/streaming_input.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "autodiff/errors.hpp"
#include "nn/data/idx.hpp"
#include "nn/io/npy.hpp"

namespace fluxion::cli {

MappedFile::MappedFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path.string() + ": cannot open (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path.string() + ": not a regular file");
  }
  size_ = std::uint64_t(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw InputError(path.string() + ": cannot map the file into memory (" + std::strerror(e) + ")");
    }
    ::madvise(p, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const char*>(p);
  }
  ::close(fd);
}

void MappedFile::release(std::uint64_t offset, std::uint64_t length) const {
  const std::uint64_t page = std::uint64_t(::sysconf(_SC_PAGESIZE));
  const std::uint64_t begin = offset / page * page, end = std::min(size_, offset + length);
  if (data_ && end > begin) ::madvise(const_cast<char*>(data_) + begin, end - begin, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
}

namespace {

std::uint32_t big_endian_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t(u[0]) << 24) | (std::uint32_t(u[1]) << 16) | (std::uint32_t(u[2]) << 8) | std::uint32_t(u[3]);
}

void put_big_endian_u32(std::string& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(char((v >> s) & 0xff));
}

/// "(3, 4)" / "(5,)" / "()" for a shape, as numpy writes it.
std::string python_tuple(const Shape& shape) {
  std::string t = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) t += std::to_string(shape[i]) + (i + 1 < shape.size() || shape.size() == 1 ? ", " : "");
  if (shape.size() == 1) t.pop_back();  // "(5,)"
  return t + ")";
}

}  // namespace

template <class T>
ExampleReader<T>::ExampleReader(const std::filesystem::path& path, const Shape& example, std::size_t limit)
    : source_(path.string()), file_(path), example_(example), example_size_(numel_of(example)) {
  const char* d = file_.data();
  const std::uint64_t n = file_.size();
  if (n >= 4 && big_endian_u32(d) == 0x00000801)
    throw InputError(source_ + ": is an IDX label file; --input takes examples (.npy, or IDX images such as "
                     "t10k-images-idx3-ubyte)");
  if (!(n >= 4 && big_endian_u32(d) == 0x00000803)) {
    // .npy: the library reader checks the header and the data size and words
    // every problem; only a file above its 2^31-element rule, whose header we
    // parse below and whose size matches exactly, is read past that rule.
    std::uint64_t count = 0;
    const bool parsed = parse_npy_shape(count);
    const bool large = parsed && count > (std::uint64_t(1) << 31) && n - data_offset_ == count * item_size_;
    try {
      npy_dtype(path);
    } catch (const InputError&) {
      if (!large) throw;
    }
    if (!parsed) throw InputError(source_ + ": the .npy header's shape is not a tuple of sizes");
    if (count == example_size_ && file_shape_.size() == example.size()) {
      single_ = true;
      in_file_ = 1;
    } else if (!file_shape_.empty() && file_shape_[0] > 0 && count == std::uint64_t(file_shape_[0]) * example_size_) {
      in_file_ = file_shape_[0];
    } else {
      throw InputError(source_ + ": input of shape " + shape_str(file_shape_) + " does not fit the model, which " +
                       "takes examples of shape " + shape_str(example) + " (one example, or a batch [N, ...])");
    }
  } else {
    idx_ = true;
    if (n < 16) throw InputError(source_ + ": file is truncated inside the IDX header (16 bytes)");
    in_file_ = big_endian_u32(d + 4);
    rows_ = big_endian_u32(d + 8);
    cols_ = big_endian_u32(d + 12);
    if (rows_ < 1 || rows_ > 4096 || cols_ < 1 || cols_ > 4096)
      throw InputError(source_ + ": image size " + std::to_string(rows_) + "x" + std::to_string(cols_) +
                       " is not sane (each side must be 1..4096)");
    if (in_file_ == 0) throw InputError(source_ + ": the IDX file holds no images");
    if (n != 16 + std::uint64_t(in_file_) * rows_ * cols_)
      throw InputError(source_ + ": file size " + std::to_string(n) + " does not match its header: " +
                       std::to_string(in_file_) + " images of " + std::to_string(rows_) + "x" +
                       std::to_string(cols_) + " need " + std::to_string(16 + std::uint64_t(in_file_) * rows_ * cols_) +
                       " bytes");
    file_shape_ = {in_file_, rows_, cols_};
    if (std::size_t(rows_) * cols_ != example_size_)
      throw InputError(source_ + ": IDX images of " + std::to_string(rows_) + "x" + std::to_string(cols_) +
                       " do not fit the model, which takes examples of shape " + shape_str(example));
  }
  total_ = limit > 0 ? std::min(limit, in_file_) : in_file_;
}

template <class T>
bool ExampleReader<T>::parse_npy_shape(std::uint64_t& count) {
  // Parses the header dict's shape (false if it cannot; the library reader
  // words the problem) and splits the dict around it.
  const char* d = file_.data();
  const std::uint64_t n = file_.size();
  if (n < 10 || std::memcmp(d, "\x93NUMPY", 6) != 0) return false;
  const unsigned major = static_cast<unsigned char>(d[6]);
  if (major < 1 || major > 3) return false;
  const std::uint64_t len_bytes = major == 1 ? 2 : 4;
  std::uint64_t header_len = 0;
  for (std::uint64_t i = 0; i < len_bytes; ++i) header_len |= std::uint64_t(static_cast<unsigned char>(d[8 + i])) << (8 * i);
  data_offset_ = 8 + len_bytes + header_len;
  if (data_offset_ > n) return false;
  const std::string dict(d + 8 + len_bytes, header_len);
  const std::size_t key = dict.find("'shape'");
  const std::size_t open = key == std::string::npos ? key : dict.find('(', key);
  const std::size_t close = open == std::string::npos ? open : dict.find(')', open);
  if (close == std::string::npos) return false;
  dict_before_ = dict.substr(0, open);
  dict_after_ = dict.substr(close + 1);
  while (!dict_after_.empty() && (dict_after_.back() == ' ' || dict_after_.back() == '\n')) dict_after_.pop_back();
  file_shape_.clear();
  count = 1;
  for (std::size_t i = open + 1; i < close;) {
    while (i < close && (dict[i] == ' ' || dict[i] == ',')) ++i;
    if (i >= close) break;
    if (dict[i] < '0' || dict[i] > '9') return false;
    std::size_t used = 0;
    const unsigned long long v = std::stoull(dict.substr(i, std::min<std::size_t>(close - i, 19)), &used);
    if (v != 0 && count > (std::uint64_t(1) << 62) / v) return false;
    file_shape_.push_back(std::size_t(v));
    count *= v;
    i += used;
  }
  item_size_ = dict.find("'<f4'") != std::string::npos ? 4 : 8;
  return dict.find("'fortran_order': False") != std::string::npos &&
         (dict.find("'<f4'") != std::string::npos || dict.find("'<f8'") != std::string::npos);
}

template <class T>
Tensor<T> ExampleReader<T>::read(std::size_t first, std::size_t count) const {
  Shape batched{count};
  batched.insert(batched.end(), example_.begin(), example_.end());
  Tensor<T> x;
  if (idx_) {
    std::string bytes;
    bytes.reserve(16 + count * example_size_);
    put_big_endian_u32(bytes, 0x00000803);
    put_big_endian_u32(bytes, std::uint32_t(count));
    put_big_endian_u32(bytes, rows_);
    put_big_endian_u32(bytes, cols_);
    bytes.append(file_.data() + 16 + first * example_size_, count * example_size_);
    file_.release(16 + first * example_size_, count * example_size_);
    const Tensor<float> images = parse_idx_images(bytes, source_);
    x = Tensor<T>::from_shape(batched);
    std::copy(images.data(), images.data() + images.size(), x.data());  // float → T exactly (or identity)
  } else {
    Shape chunk_shape = single_ ? file_shape_ : Shape{count};
    if (!single_) chunk_shape.insert(chunk_shape.end(), file_shape_.begin() + 1, file_shape_.end());
    std::string dict = dict_before_ + python_tuple(chunk_shape) + dict_after_;
    const std::size_t prefix = 10;  // magic, version 1.0, u16 length
    const std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - prefix - dict.size() - 1, ' ');
    dict.push_back('\n');
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes.push_back(char(dict.size() & 0xff));
    bytes.push_back(char(dict.size() >> 8));
    bytes += dict;
    bytes.append(file_.data() + data_offset_ + first * example_size_ * item_size_, count * example_size_ * item_size_);
    file_.release(data_offset_ + first * example_size_ * item_size_, count * example_size_ * item_size_);
    x = Tensor<T>(xt::reshape_view(parse_npy<T>(bytes, source_), batched));
  }
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x.data()[i]))
      throw InputError(source_ + ": element " + std::to_string(first * example_size_ + i) + " is " +
                       (std::isnan(x.data()[i]) ? "NaN" : "infinite") + " (inputs must be finite)");
  return x;
}

template class ExampleReader<float>;
template class ExampleReader<double>;

}  // namespace fluxion::cli
