// The processes of one `fluxion` run: one without mpirun, P under
// `mpirun -n P` / `srun` (Open MPI, when the binary was built with it: meson
// option mpi, on by default when found).
//
// MPI is initialised only when a launcher's environment says this process
// is one of several (OMPI_COMM_WORLD_SIZE, PMIX_RANK / PMI_SIZE under Slurm),
// so a plain `fluxion …` never touches MPI and behaves exactly as without it.
// The streamed commands use just three operations: rank 0 receives each
// chunk's result bytes from the rank that computed it (point to point, in
// chunk order), rank 0 broadcasts one number (where a resumed run starts),
// and a failure on any rank aborts them all with its exit code.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fluxion::cli {

class Ranks {
 public:
  /// This process's view (initialises MPI on first use if launched by mpirun/srun).
  static Ranks& world();
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool parallel() const { return size_ > 1; }

  void send(int to, std::string_view bytes) const;
  std::string receive(int from) const;
  /// Rank 0's `value` on every rank.
  std::uint64_t broadcast(std::uint64_t value) const;
  void barrier() const;
  /// Ends every rank now with `exit_code` (after this rank printed why).
  [[noreturn]] void abort(int exit_code) const;

  /// Whether this binary was built with MPI ("Open MPI" or "no").
  static const char* build_support();

  ~Ranks();

 private:
  Ranks();
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
};

}  // namespace fluxion::cli
