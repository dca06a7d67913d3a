// `mpirun -n P fluxion reproduce ig2 --smoke`: the ranks share the methods of
// each comparison (rank r computes the methods m with m mod P = r, stores them
// in <out>/ig2/partial/, then every rank loads them all and rank 0 writes the
// report). The results must be bit-identical to one process's for P = 2 and
// P = 3 (every numbers.json leaf and CSV cell but the timing ones), rank 1
// must have computed its share (its progress lines), and neither partial/ nor
// the helpers' private folders may remain. The timing experiment, which
// rank 0 runs alone after the shared ones, must finish too (timeout 600: a
// rank left waiting at a barrier fails the test instead of hanging it). Every process runs one OpenMP
// thread (OMP_NUM_THREADS=1, passed to the ranks with -x): the engine's
// parallel reductions depend on the thread count, the split of methods must not.
// Skipped without MPI support or mpirun, as the explain test in test_streaming.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/cli/fluxion_process.hpp"
#include "tests/experiments/result_comparison.hpp"
#include "tests/nn/scratch_dir.hpp"

namespace fs = std::filesystem;

namespace {
std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}
}  // namespace

TEST_CASE("reproduce: mpirun -n 2 and -n 3 share the methods and give the single-process results" *
          doctest::skip(!FLUXION_TEST_MPI || std::system("command -v mpirun >/dev/null 2>&1") != 0)) {
  const fluxion::testing::ScratchDir scratch("reproduce_ranks");
  std::ostringstream quoted;
  quoted << "'" << fluxion::testing::fluxion_executable().string() << "'";
  const std::string fluxion = quoted.str();
  const std::string single_command = "cd '" + scratch.path.string() + "' && OMP_NUM_THREADS=1 " + fluxion +
                                     " reproduce ig2 --smoke --seed 2 --out single > single.log 2>&1";
  REQUIRE_MESSAGE(std::system(single_command.c_str()) == 0, read_text(scratch / "single.log"));
  for (int ranks : {2, 3}) {
    const std::string out = ranks == 2 ? "ranks2" : "ranks3";
    fs::create_directories(scratch / out);
    fs::copy(scratch / "single" / "models", scratch / out / "models", fs::copy_options::recursive);  // as cached
    // as root, Open MPI needs --allow-run-as-root; --oversubscribe: more ranks than cores
    // (a sanitizer build: LeakSanitizer would report Open MPI's own allocations)
    std::ostringstream command;  // (a stream: GCC 12 warns falsely on chains of + with std::to_string)
    command << "cd '" << scratch.path.string()
            << "' && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 OMP_NUM_THREADS=1 "
               "timeout 600 mpirun --allow-run-as-root --oversubscribe -x OMP_NUM_THREADS -n "
            << ranks << " " << fluxion << " reproduce timing ig2 --smoke --seed 2 --out " << out << " > " << out
            << ".log 2>&1";
    const int status = std::system(command.str().c_str());
    const std::string log = read_text(scratch / (out + ".log"));
    INFO(command.str() << "\n" << log);
    REQUIRE(status == 0);
    // Rank 1 computed methods 1, 1 + P, … of the 10 in each comparison.
    const std::size_t share = ranks == 2 ? 5 : 3;
    std::ostringstream of, first;
    of << " (rank 1 of " << ranks << ") ";
    first << "ig2_comparison" << of.str() << "0/" << share << " methods, 0.0 s, ETA unknown: IG (black) on 8 images";
    CHECK(occurrences(log, "ig2_comparison" + of.str()) == share);
    CHECK(occurrences(log, "ig2_comparison_resnet" + of.str()) == share);
    CHECK(log.find(first.str()) != std::string::npos);
    CHECK(fs::exists(scratch / out / "ig2" / "done.json"));
    CHECK(fs::exists(scratch / out / "timing" / "done.json"));  // rank 0 alone, after ig2 (no barrier left waiting)
    CHECK(fs::exists(scratch / out / "REPORT.md"));
    CHECK_FALSE(fs::exists(scratch / out / "ig2" / "partial"));
    CHECK_FALSE(fs::exists(scratch / out / "ranks"));
    const auto cmp = fluxion::testing::result_differences(scratch / "single" / "ig2", scratch / out / "ig2");
    for (const auto& d : cmp.differences) MESSAGE(d);
    CHECK(cmp.differences.empty());
    CHECK(cmp.leaves > 150);
    CHECK(cmp.csv_files == 3);
    // 2 tables × (header + 10 rows) and IG2's settings sweep (header + 7 rows), × 5 columns besides the time
    CHECK(cmp.cells == (2 * 11 + 8) * 5);
  }
}
