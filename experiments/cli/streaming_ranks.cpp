// Ranks over MPI, or a single process (see streaming_ranks.hpp).
#include "experiments/cli/streaming_ranks.hpp"

#include <cstdlib>
#include <limits>
#include <stdexcept>

#ifdef FLUXION_HAVE_MPI
#include <mpi.h>
#endif

namespace fluxion::cli {

namespace {

/// The launcher told this process it is one of several.
bool launched_in_parallel() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

}  // namespace

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

const char* Ranks::build_support() {
#ifdef FLUXION_HAVE_MPI
  return "Open MPI";
#else
  return "no";
#endif
}

Ranks::Ranks() {
#ifdef FLUXION_HAVE_MPI
  if (launched_in_parallel()) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);  // OpenMP threads never call MPI
    initialised_ = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
#else
  (void)launched_in_parallel;
#endif
}

Ranks::~Ranks() {
#ifdef FLUXION_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

void Ranks::send(int to, std::string_view bytes) const {
#ifdef FLUXION_HAVE_MPI
  // in pieces of < 2^31 bytes (MPI counts are int)
  const std::uint64_t n = bytes.size();
  MPI_Send(&n, 1, MPI_UINT64_T, to, 0, MPI_COMM_WORLD);
  for (std::uint64_t off = 0; off < n;) {
    const int piece = int(std::min<std::uint64_t>(n - off, 1u << 30));
    MPI_Send(bytes.data() + off, piece, MPI_BYTE, to, 1, MPI_COMM_WORLD);
    off += std::uint64_t(piece);
  }
#else
  (void)to, (void)bytes;
  throw std::logic_error("Ranks::send without MPI");
#endif
}

std::string Ranks::receive(int from) const {
#ifdef FLUXION_HAVE_MPI
  std::uint64_t n = 0;
  MPI_Recv(&n, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  std::string bytes(n, '\0');
  for (std::uint64_t off = 0; off < n;) {
    const int piece = int(std::min<std::uint64_t>(n - off, 1u << 30));
    MPI_Recv(bytes.data() + off, piece, MPI_BYTE, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    off += std::uint64_t(piece);
  }
  return bytes;
#else
  (void)from;
  throw std::logic_error("Ranks::receive without MPI");
#endif
}

std::uint64_t Ranks::broadcast(std::uint64_t value) const {
#ifdef FLUXION_HAVE_MPI
  if (initialised_) MPI_Bcast(&value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
#endif
  return value;
}

void Ranks::barrier() const {
#ifdef FLUXION_HAVE_MPI
  if (initialised_) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void Ranks::abort(int exit_code) const {
#ifdef FLUXION_HAVE_MPI
  if (initialised_) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::exit(exit_code);
}

}  // namespace fluxion::cli
