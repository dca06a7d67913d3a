// libFuzzer harness for the IDX readers (nn/data/idx.hpp): every input is
// tried as an image file and as a label file. A parsed file must hold what
// its header promised: [N, rows, cols] pixels in [0, 1], labels 0..9.
#include <cstdint>
#include <string>

#include "nn/data/idx.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace fluxion;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = fuzz::bytes_of(data, size);

  Tensor<float> images;
  if (fuzz::accepts("fuzz-images", [&] { images = parse_idx_images(bytes, "fuzz-images"); })) {
    if (images.dimension() != 3) fuzz::finding("images are not [N, rows, cols]");
    if (16 + images.size() != size) fuzz::finding("image count does not match the file size");
    for (float pixel : images)
      if (!(pixel >= 0.0f && pixel <= 1.0f)) fuzz::finding("a pixel is outside [0, 1]");
  }

  std::vector<int> labels;
  if (fuzz::accepts("fuzz-labels", [&] { labels = parse_idx_labels(bytes, "fuzz-labels"); })) {
    if (8 + labels.size() != size) fuzz::finding("label count does not match the file size");
    for (int label : labels)
      if (label < 0 || label > 9) fuzz::finding("a label is outside 0..9");
  }
  return 0;
}
