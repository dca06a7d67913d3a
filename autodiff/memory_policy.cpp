// The tensor memory policy (memory_policy.hpp).
#include "autodiff/memory_policy.hpp"

#include <cstdlib>  // any C library header defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace fluxion {

bool install_tensor_memory_policy() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);  // blocks up to 256 MB come from the heap, not mmap
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // keep up to 512 MB of freed memory for reuse
#endif
  return true;
}

}  // namespace fluxion
