// `fluxion explain` and `interactions` over inputs of any size: the examples
// are read in chunks (--chunk-size, streaming_input), each chunk's result is
// appended to the output as it finishes (streaming_output), a progress line
// reports the pace (streaming_progress), a killed run continues with
// --resume, and under mpirun / srun the chunks are shared by the ranks
// (streaming_ranks), rank 0 writing the one output.
//
// What makes every result the same whatever the chunk size, --limit, the
// resume point or the number of ranks: each example is computed on its own
// (one method call per example, its points batched by --batch-size), with
// the seed example_seed(--seed, i) of its index i in the input, so its values
// depend only on the example, its index and the flags (a GEMM's rounding
// depends on the batch it is part of: batching several examples together
// would tie an example's bits to its neighbours). With OpenMP threads the
// examples of a chunk are shared among them, whole examples per thread and
// everything inside one example on one thread, so the thread count does not
// change the bytes either (tests/cli/test_streaming.cpp). Chunk c holds examples
// [c·C, (c+1)·C); rank r computes the chunks c ≡ r (mod P), rank 0 receives
// and appends them in order.
// Memory: the mapped input pages (the kernel may drop them), about 3 · C ·
// example values of copies while a chunk is read, the C result rows, and one
// example's working set per thread (its points, --batch-size per model call,
// and their graph); never a function of N.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/cli/explain_inputs.hpp"

namespace fluxion::cli {

struct StreamFlags {
  std::size_t chunk_size = 64;   // examples per chunk
  std::size_t limit = 0;         // > 0: only the first `limit` examples
  bool resume = false;
  bool quiet = false;
  std::vector<std::string> output_form;         // interactions: full | rows LIST | top-k K | row-sums
  std::uint64_t max_output_bytes = 1ull << 30;  // interactions: refuse a larger output
};

/// The seed of example i's random streams: SplitMix64 (Steele, Lea & Flood
/// 2014) of seed + (i + 1)·0x9E3779B97F4A7C15.
std::uint64_t example_seed(std::uint64_t seed, std::size_t index);

/// The whole streamed command in precision T.
template <class T>
void explain_streamed(const ExplainFlags& flags, const StreamFlags& stream, bool interactions);

}  // namespace fluxion::cli
