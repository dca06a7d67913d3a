// `fluxion explain` (attributions [N, ...]) and `fluxion interactions`
// (interaction matrices [N, d, d], or a smaller --output-form): load a model,
// stream the inputs through one method chunk by chunk, write the result as
// .npy (and optionally a heatmap PNG), atomically (streaming_run.hpp).
#include <CLI/CLI.hpp>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"
#include "experiments/cli/streaming_ranks.hpp"
#include "experiments/cli/streaming_run.hpp"

namespace fluxion::cli {

namespace {

/// explain and interactions: the flags they share with check, plus the output files.
void add_common_options(CLI::App* cmd, ExplainFlags& f) {
  add_explanation_options(cmd, f);
  cmd->get_option("--input")->description(
      "Input .npy (<f4 or <f8; any size, memory-mapped) or IDX images (e.g. data/mnist/t10k-images-idx3-ubyte, "
      "pixels / 255): one example or a batch [N, ...]");
  cmd->add_option("--out", f.out, "Output .npy (<f8, or <f4 with --dtype float32)")->required();
  cmd->add_option("--png", f.png, "Also write a labelled heatmap figure of the first " + std::to_string(png_max_rows) + " examples (gnuplot; without it an unlabelled grid)");
  cmd->add_option("--tolerance", f.tolerance,
                  "Double the nodes until the relative completeness gap is <= T (path methods; the last try uses " +
                      std::to_string(max_tolerance_nodes) + " nodes, else exit 3; each example on its own)");
}

/// The flags of streaming, resuming and sharing the work (streaming_run.hpp).
void add_stream_options(CLI::App* cmd, StreamFlags& sf, bool interactions) {
  cmd->add_option("--chunk-size", sf.chunk_size,
                  "Examples read, computed and appended to --out at a time (memory grows with it, not with N; "
                  "the unit of --resume and of sharing among MPI ranks: " + std::string(Ranks::build_support()) + ")")
      ->capture_default_str();
  cmd->add_option("--limit", sf.limit, "Only the first N examples of --input (0: all)");
  cmd->add_flag("--resume", sf.resume,
                "Continue a killed run from its last finished chunk (<out>.partial and <out>.progress); "
                "the result is bit-identical to an uninterrupted run");
  cmd->add_flag("--quiet", sf.quiet, "No progress line on stderr");
  if (!interactions) return;
  cmd->add_option("--output-form", sf.output_form,
                  "full | rows I,J,... | top-k K | row-sums: per example the d×d matrix, the listed rows, the K "
                  "entries of largest |value| as (i, j, value), or the row sums")
      ->expected(1, 2);
  cmd->add_option("--max-output-bytes", sf.max_output_bytes,
                  "Refuse an output larger than this (say so with a larger value)")
      ->capture_default_str();
}

std::string method_list(bool interactions) {
  std::string list;
  for (const auto& m : method_catalogue()) {
    if (m.interactions == interactions) list += (list.empty() ? "" : ", ") + m.name;
  }
  return list;
}

void run(const ExplainFlags& f, const StreamFlags& sf, bool interactions) {
  if (method_info(f.method).interactions != interactions) {  // an unknown method: ArgumentError, exit code 2
    throw UsageError("method '" + f.method + "' is " + (interactions ? "not an interaction method" : "an interaction method") +
                     "; use `fluxion " + (interactions ? "explain" : "interactions") + "` for it (" +
                     (interactions ? "interaction methods: " : "attribution methods: ") + method_list(interactions) + ")");
  }
  with_dtype(f.dtype, [&]<class T>() { explain_streamed<T>(f, sf, interactions); });
}

}  // namespace

void register_explain_command(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  auto stream = std::make_shared<StreamFlags>();
  auto* cmd = app.add_subcommand("explain", "Attribute a model's output to its input features");
  cmd->add_option("--method", flags->method, "One of: " + method_list(false))->required();
  add_common_options(cmd, *flags);
  add_stream_options(cmd, *stream, false);
  cmd->callback([flags, stream] { run(*flags, *stream, false); });

  auto iflags = std::make_shared<ExplainFlags>();
  auto istream = std::make_shared<StreamFlags>();
  auto* icmd = app.add_subcommand("interactions", "Pairwise feature interactions [N, d, d]");
  icmd->add_option("--method", iflags->method, "One of: " + method_list(true))->required();
  add_common_options(icmd, *iflags);
  add_stream_options(icmd, *istream, true);
  icmd->callback([iflags, istream] { run(*iflags, *istream, true); });
}

}  // namespace fluxion::cli
