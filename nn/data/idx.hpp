// IDX files: the format the MNIST digits are distributed in
// (http://yann.lecun.com/exdb/mnist/). Every number is big-endian.
//
//   images (…-idx3-ubyte)                  labels (…-idx1-ubyte)
//   u32 magic 0x00000803                   u32 magic 0x00000801
//   u32 N (number of images)               u32 N (number of labels)
//   u32 rows, u32 cols                     N bytes, one label 0..9 each
//   N*rows*cols bytes, pixels 0..255,
//   row-major, one image after another
//
// The magic's third byte (0x08) says "unsigned bytes", the fourth the number
// of dimensions. Sizes are validated before anything is allocated: the file
// must be exactly as long as its header says. MNIST itself is fetched by
// scripts/fetch-mnist.sh into data/mnist/.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion {

/// Reads an IDX image file into a [N, rows, cols] tensor with pixels scaled
/// from 0..255 to [0, 1].
Tensor<float> read_idx_images(const std::filesystem::path& path);

/// Reads an IDX label file; every label must be 0..9.
std::vector<int> read_idx_labels(const std::filesystem::path& path);

/// The same readers for IDX bytes already in memory; `source` names them in
/// errors the way the path does for files ("<source>: <problem>").
Tensor<float> parse_idx_images(std::string_view bytes, const std::string& source);
std::vector<int> parse_idx_labels(std::string_view bytes, const std::string& source);

/// One MNIST split: images [N, 28, 28] in [0, 1] and N labels.
struct MnistSplit {
  Tensor<float> images;
  std::vector<int> labels;
};

/// Loads split "train" (60,000 digits) or "test" (10,000 digits) from the four
/// standard files in `dir` (train-images-idx3-ubyte, train-labels-idx1-ubyte,
/// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) and checks that the image
/// and label counts agree. A missing file points to scripts/fetch-mnist.sh.
MnistSplit load_mnist(const std::filesystem::path& dir, const std::string& split);

}  // namespace fluxion
