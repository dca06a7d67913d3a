// The streamed explain / interactions command (see streaming_run.hpp).
#include "experiments/cli/streaming_run.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "autodiff/errors.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/cli/streaming_forms.hpp"
#include "experiments/cli/streaming_input.hpp"
#include "experiments/cli/streaming_output.hpp"
#include "experiments/cli/streaming_progress.hpp"
#include "experiments/cli/streaming_ranks.hpp"
#include "attribution/per_example.hpp"
#include "nn/io/npy.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fluxion::cli {

namespace fs = std::filesystem;

std::uint64_t example_seed(std::uint64_t seed, std::size_t index) { return fluxion::example_seed(seed, index); }

namespace {

/// What one chunk gives: its output rows' bytes and what the summary line needs.
struct ChunkResult {
  std::string bytes;
  double worst_gap = 0, worst_relative_gap = 0;
  bool has_gaps = false;
  int nodes = 0;  // --tolerance: the most nodes any example needed
  std::string reference;

  std::string serialise() const {
    std::string m;
    const std::uint64_t n = bytes.size();
    m.append(reinterpret_cast<const char*>(&n), 8).append(bytes);
    m.append(reinterpret_cast<const char*>(&worst_gap), 8).append(reinterpret_cast<const char*>(&worst_relative_gap), 8);
    m.push_back(char(has_gaps));
    m.append(reinterpret_cast<const char*>(&nodes), 4).append(reference);
    return m;
  }
  static ChunkResult parse(const std::string& m) {
    ChunkResult r;
    std::uint64_t n = 0;
    std::memcpy(&n, m.data(), 8);
    r.bytes = m.substr(8, n);
    std::size_t at = 8 + n;
    std::memcpy(&r.worst_gap, m.data() + at, 8);
    std::memcpy(&r.worst_relative_gap, m.data() + at + 8, 8);
    r.has_gaps = m[at + 16] != 0;
    std::memcpy(&r.nodes, m.data() + at + 17, 4);
    r.reference = m.substr(at + 21);
    return r;
  }
};

/// The summary of the chunks done so far, kept in the progress record so a
/// resumed run prints the same summary line: "<gap> <relative gap> <has> <nodes> <reference>".
struct Summary {
  double worst_gap = 0, worst_relative_gap = 0;
  bool has_gaps = false;
  int nodes = 0;
  std::string reference;
  void add(const ChunkResult& r) {
    worst_gap = std::max(worst_gap, r.worst_gap);
    worst_relative_gap = std::max(worst_relative_gap, r.worst_relative_gap);
    has_gaps = has_gaps || r.has_gaps;
    nodes = std::max(nodes, r.nodes);
    if (!r.reference.empty()) reference = r.reference;
  }
  std::string note() const {
    std::ostringstream o;
    o << std::hexfloat << worst_gap << " " << worst_relative_gap << " " << has_gaps << " " << nodes << " " << reference;
    return o.str();
  }
  static Summary parse(const std::string& note) {
    Summary s;
    std::istringstream in(note);
    std::string a, b;
    in >> a >> b >> s.has_gaps >> s.nodes;
    s.worst_gap = std::strtod(a.c_str(), nullptr);
    s.worst_relative_gap = std::strtod(b.c_str(), nullptr);
    in.ignore(1);
    std::getline(in, s.reference);
    return s;
  }
};

/// "path size mtime" of a file the values depend on (empty name: none).
std::string file_identity(const std::string& name) {
  if (name.empty() || name == "zeros" || name == "black" || name == "blur") return name;
  struct stat st {};
  if (::stat(name.c_str(), &st) != 0) return name;
  std::error_code ec;
  const fs::path abs = fs::absolute(name, ec);
  return abs.string() + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string fingerprint(const ExplainFlags& f, const StreamFlags& sf, const std::string& form) {
  std::ostringstream o;
  o << std::hexfloat << "method=" << f.method << "\ndtype=" << f.dtype << "\nsteps=" << f.steps
    << "\nsmooth_beta=" << f.smooth_beta << "\nseed=" << f.seed << "\nbatch_size=" << f.batch_size
    << "\noutput=" << f.output_kind << "\ntolerance=" << (f.tolerance ? *f.tolerance : -1.0)
    << "\nchunk=" << sf.chunk_size << "\nlimit=" << sf.limit << "\nform=" << form << "\ntargets=";
  for (long long t : f.targets) o << t << ",";
  o << "\nmodel=" << file_identity(f.model) << "\ninput=" << file_identity(f.input)
    << "\nbaseline=" << file_identity(f.baseline) << "\nreferences=" << file_identity(f.references);
  return fnv1a_hex(o.str());
}

/// Rows [i, i + 1) of a batch, as a batch of one.
template <class T>
Tensor<T> row_of(const Tensor<T>& batch, std::size_t i) {
  Shape one = shape_of(batch);
  one[0] = 1;
  const std::size_t per = batch.size() / batch.shape()[0];
  Tensor<T> r = Tensor<T>::from_shape(one);
  std::copy(batch.data() + i * per, batch.data() + (i + 1) * per, r.data());
  return r;
}

/// One example's reduced result: its output row (attributions, or the
/// interaction form) and what the chunk's summary needs.
template <class T>
struct ExampleResult {
  Tensor<T> values;
  std::vector<double> completeness_gaps, output_changes;
  std::string reference;
  int nodes = 0;
};

template <class T>
struct ChunkComputer {
  const ExplainFlags& f;
  ExplainSetup<T>& s;
  const ExampleReader<T>& input;
  const std::optional<ExampleReader<T>>& baseline_file;
  bool interactions;
  const InteractionForm& form;
  std::size_t d;
  /// One copy of the setup per thread, made at the first chunk that uses
  /// threads and reused by every later one (a copy holds the model and any
  /// --references pool, so it is not made per chunk).
  std::vector<ExplainSetup<T>> thread_setups = {};

  /// Example `index` (x: its row) computed with the setup `mine`, reduced to
  /// its --output-form at once (so a chunk never holds C full d×d matrices).
  ExampleResult<T> run_example(ExplainSetup<T>& mine, Tensor<T> x, std::size_t index,
                               const std::optional<Tensor<T>>& baseline_row) const {
    bind_examples(f, mine, std::move(x), index, baseline_row);
    mine.settings.steps = f.steps;
    mine.settings.seed = example_seed(f.seed, index);
    ExampleResult<T> r;
    MethodOutput<T> p;
    if (!f.tolerance) {
      p = run_method(*mine.method, mine.explained, mine.x, mine.targets, mine.settings);
    } else {
      p = run_to_tolerance(mine, *f.tolerance, r.nodes);
    }
    for (T v : p.values)
      if (!std::isfinite(v))
        throw std::runtime_error(f.input + ": " + f.method + " gives NaN or infinite values for these inputs (the " +
                                 "model's output or its derivatives overflow" +
                                 (f.dtype == "float32" ? ", perhaps only in float32: try --dtype float64" : "") +
                                 "); nothing was written");
    r.values = interactions ? apply_form(form, p.values, d) : std::move(p.values);
    r.completeness_gaps = std::move(p.completeness_gaps);
    r.output_changes = std::move(p.output_changes);
    r.reference = std::move(p.reference);
    return r;
  }

  /// The chunk's examples [first, first + count), one at a time (see
  /// streaming_run.hpp). With OpenMP threads, the examples are shared among
  /// them (each thread its own copy of the setup, the examples in dynamic
  /// order): every example is still computed alone, with the kernels inside
  /// it on one thread (a nested OpenMP region is inactive), exactly as in a
  /// one-thread run, so the bytes do not depend on the thread count. One
  /// example per thread is a larger share of work than the kernels' own
  /// parallel loops over one example's 50 points, which spent their time in
  /// OpenMP's barriers.
  ChunkResult compute(std::size_t first, std::size_t count) {
    const Tensor<T> x = input.read(first, count);
    std::optional<Tensor<T>> rows;
    if (baseline_file) rows = Tensor<T>(xt::reshape_view(baseline_file->read(first, count), x.shape()));
    std::vector<ExampleResult<T>> results(count);
    auto one = [&](ExplainSetup<T>& mine, std::size_t i) {
      std::optional<Tensor<T>> row_baseline;
      if (rows) row_baseline = row_of(*rows, i);
      results[i] = run_example(mine, row_of(x, i), first + i, row_baseline);
    };
#ifdef _OPENMP
    const int threads = std::min<int>(omp_get_max_threads(), int(count));
#else
    const int threads = 1;
#endif
    if (threads <= 1) {
      for (std::size_t i = 0; i < count; ++i) one(s, i);
    } else {
      if (thread_setups.size() < std::size_t(threads)) thread_setups.assign(std::size_t(threads), s);
      std::vector<ExplainSetup<T>>& setups = thread_setups;
      std::exception_ptr error;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
      {
        // Everything inside one example as in a one-thread run: a thread
        // count of 1 for the regions and Eigen products it opens (without
        // this Eigen still reads 2 from omp_get_max_threads and takes its
        // parallel GEMM path with one thread, whose float32 rounding differs).
        omp_set_num_threads(1);
        ExplainSetup<T>& mine = setups[std::size_t(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
        for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(count); ++i) {
          try {
            one(mine, std::size_t(i));
          } catch (...) {
#pragma omp critical(fluxion_chunk_error)
            if (!error) error = std::current_exception();
          }
        }
      }
#endif
      // The first error in time, not in example order: any error ends the command.
      if (error) std::rethrow_exception(error);
    }
    ChunkResult out;
    for (std::size_t i = 0; i < count; ++i) {
      const ExampleResult<T>& p = results[i];
      out.nodes = std::max(out.nodes, p.nodes);
      for (double g : p.completeness_gaps) out.worst_gap = std::max(out.worst_gap, g);
      if (!p.completeness_gaps.empty()) {
        out.has_gaps = true;
        out.worst_relative_gap =
            std::max(out.worst_relative_gap, worst_relative_gap(p.completeness_gaps, p.output_changes));
      }
      out.reference = p.reference;
      if (i == 0) out.bytes.reserve(count * p.values.size() * sizeof(T));
      out.bytes.append(reinterpret_cast<const char*>(p.values.data()), p.values.size() * sizeof(T));
    }
    return out;
  }
};

std::string human_bytes(double b) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (b >= 1000 && u < 5) b /= 1000, ++u;
  std::ostringstream o;
  o << std::setprecision(3) << b << " " << units[u];
  return o.str();
}

int exit_code_of(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e) || dynamic_cast<const ArgumentError*>(&e)) return 2;
  if (dynamic_cast<const GateFailure*>(&e)) return 3;
  return 1;
}

}  // namespace

template <class T>
void explain_streamed(const ExplainFlags& f, const StreamFlags& sf, bool interactions) {
  Ranks& ranks = Ranks::world();
  if (sf.chunk_size == 0) throw UsageError("--chunk-size must be positive");
  ExplainSetup<T> s = prepare_model<T>(f);
  const Shape example = s.model.input_shape();
  const std::size_t d = numel_of(example);
  ExampleReader<T> input(f.input, example, sf.limit);
  const std::size_t n = input.total();
  check_target_flags(f, s, n);

  std::optional<ExampleReader<T>> baseline_file;  // a --baseline file with one row per example
  if (f.baseline != "zeros" && f.baseline != "black" && f.baseline != "blur") {
    ExampleReader<T> b(f.baseline, example);
    if (b.in_file() > 1 || (b.in_file() == 1 && input.in_file() == 1 && !b.single_example())) {
      if (b.in_file() != input.in_file())
        throw InputError(f.baseline + ": baseline with " + std::to_string(b.in_file()) + " examples fits neither one " +
                         "example " + shape_str(example) + " nor the " + std::to_string(input.in_file()) +
                         " examples of " + f.input);
      if (s.method->info.takes_baseline) baseline_file.emplace(f.baseline, example, sf.limit);
    }
  }

  const InteractionForm form = interactions ? parse_output_form(sf.output_form, d) : InteractionForm{};
  if (!f.png.empty() && (form.kind == InteractionForm::Kind::rows || form.kind == InteractionForm::Kind::top_k))
    throw UsageError("--png draws full matrices or row sums; --output-form " + form.name() + " has no map to draw");
  const Shape per = interactions ? form_example_shape(form, d) : example;
  Shape final_shape;
  if (!input.single_example()) final_shape.push_back(n);
  final_shape.insert(final_shape.end(), per.begin(), per.end());
  const std::size_t row_bytes = numel_of(per) * sizeof(T);
  if (interactions && double(row_bytes) * double(n) > double(sf.max_output_bytes)) {
    throw UsageError("interactions: the output (" + form.name() + ") would be " + std::to_string(n) + " × " +
                     shape_str(per) + " " + (sizeof(T) == 4 ? "float32" : "float64") + " values = " +
                     human_bytes(double(row_bytes) * double(n)) + ", above --max-output-bytes " +
                     std::to_string(sf.max_output_bytes) + " (" + human_bytes(double(sf.max_output_bytes)) +
                     "); choose --output-form rows I,J,... | top-k K | row-sums, or raise --max-output-bytes");
  }
  std::error_code ec;
  if (fs::is_directory(f.out, ec)) throw InputError("cannot write '" + f.out + "': it is a folder");

  const std::size_t chunks = (n + sf.chunk_size - 1) / sf.chunk_size;
  std::optional<PartialOutput> out;
  Summary summary;
  std::size_t done = 0;
  if (ranks.rank() == 0) {
    out.emplace(f.out, sizeof(T) == 4 ? "<f4" : "<f8", final_shape, row_bytes,
                fingerprint(f, sf, interactions ? form.name() : ""));
    try {
      if (sf.resume) {
        done = out->resume();
        if (done > 0) summary = Summary::parse(out->note());
        if (done != n && done % sf.chunk_size != 0)
          throw InputError(out->record_path().string() + ": records " + std::to_string(done) +
                           " examples, not a whole number of chunks of " + std::to_string(sf.chunk_size));
      } else {
        out->start();
      }
    } catch (const std::exception& e) {
      if (!dynamic_cast<const UsageError*>(&e)) {  // (another run's record is left alone)
        fs::remove(out->partial_path(), ec);
        fs::remove(out->record_path(), ec);
      }
      if (!ranks.parallel()) throw;
      std::cerr << "fluxion: " << e.what() << std::endl;  // the other ranks wait for rank 0: end them all
      ranks.abort(exit_code_of(e));
    }
  }
  const std::size_t first_chunk = std::size_t(ranks.broadcast(done)) / sf.chunk_size;
  const std::string label = std::string(interactions ? "interactions " : "explain ") + f.method;
  ProgressLine progress(label, n, done, sf.quiet || chunks <= 1 || ranks.rank() != 0);
  ChunkComputer<T> computer{f, s, input, baseline_file, interactions, form, d};
  try {
    for (std::size_t c = first_chunk; c < chunks; ++c) {
      const std::size_t first = c * sf.chunk_size, count = std::min(sf.chunk_size, n - first);
      const int owner = int(c % std::size_t(ranks.size()));
      if (owner == ranks.rank()) {
        ChunkResult r = computer.compute(first, count);
        if (ranks.rank() != 0) {
          ranks.send(0, r.serialise());
          continue;
        }
        summary.add(r);
        out->append(r.bytes, count, summary.note());
      } else if (ranks.rank() == 0) {
        const ChunkResult r = ChunkResult::parse(ranks.receive(owner));
        summary.add(r);
        out->append(r.bytes, count, summary.note());
      } else {
        continue;
      }
      progress.update(first + count);
    }
    progress.finish();
    if (ranks.rank() == 0) out->finish();
  } catch (const std::exception& e) {
    if (ranks.rank() == 0 && out) {  // a failed command leaves no output behind (a killed one stays resumable)
      fs::remove(out->partial_path(), ec);
      fs::remove(out->record_path(), ec);
    }
    if (!ranks.parallel()) throw;
    std::cerr << "fluxion (rank " << ranks.rank() << " of " << ranks.size() << "): " << e.what() << std::endl;
    ranks.abort(exit_code_of(e));
  }
  ranks.barrier();
  if (ranks.rank() != 0) return;

  if (!f.png.empty()) {
    try {  // the first examples only, read back from --out (what was written is what is drawn)
      const std::size_t shown = std::min(n, png_max_rows);
      const Tensor<T> drawn_inputs = input.read(0, shown);
      const Tensor<T> drawn_values = ExampleReader<T>(f.out, per, shown).read(0, shown);
      const FigureKind kind = !interactions                           ? FigureKind::attributions
                              : form.kind == InteractionForm::Kind::full ? FigureKind::interaction_matrices
                                                                         : FigureKind::interaction_row_sums;
      write_explanation_png(f, s, drawn_inputs, drawn_values, n, kind, f.tolerance ? summary.nodes : 0);
    } catch (...) {
      fs::remove(f.out, ec);  // a failed command leaves no output behind
      throw;
    }
  }
  std::cout << f.method << ": " << n << " example(s) -> " << f.out;
  if (summary.has_gaps) std::cout << " (max completeness gap " << summary.worst_gap << " vs " << summary.reference << ")";
  std::cout << "\n";
  if (f.tolerance) {
    std::cout << f.method << ": relative completeness gap " << std::scientific << std::setprecision(2)
              << summary.worst_relative_gap << " <= " << *f.tolerance << " with " << summary.nodes << " nodes\n";
  }
}

template void explain_streamed<float>(const ExplainFlags&, const StreamFlags&, bool);
template void explain_streamed<double>(const ExplainFlags&, const StreamFlags&, bool);

}  // namespace fluxion::cli
