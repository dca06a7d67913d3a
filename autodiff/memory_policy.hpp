// The process's memory policy for big tensors (glibc's malloc only).
//
// A batched sweep with k tangent directions makes tensors k times the size
// of the activations (a CNN Hessian chunk of k = 196 directions: 15-40 MB
// each), created and freed hundreds of times. By default glibc serves blocks
// ≥ 32 MB with mmap and gives freed heap memory back to the OS, so every new
// tensor page-faults on each 4 KiB page it touches: measured 7× the
// arithmetic for the CNN Hessian (3.1 s → 0.45 s of CPU time). Serving blocks
// up to 256 MB from the heap and keeping up to 512 MB of freed memory for
// reuse (what a caching allocator does) removes that cost; the price is that
// the process keeps its peak heap. With tcmalloc or mimalloc linked in
// (meson.build's `allocator` option) the call changes nothing.
#pragma once

namespace fluxion {

/// Sets the policy above (idempotent) and returns true. var.cpp calls it
/// once at start-up, so every program that links the engine has it.
bool install_tensor_memory_policy();

}  // namespace fluxion
