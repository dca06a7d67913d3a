// What every tutorial program shares: `check` records a failed claim (the
// program prints `checks_failed = N` at the end and exits non-zero if any
// failed, which tests/docs asserts), and `affine` is the dense layer the toy
// models are built from.
#pragma once

#include <cstdio>
#include <string>

#include "autodiff/autodiff.hpp"

namespace tutorial {

/// Number of claims that did not hold so far.
inline int failures = 0;

/// Records (and prints to stderr) a claim that did not hold.
inline void check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "CHECK FAILED: %s\n", what.c_str());
    ++failures;
  }
}

/// y = x Wᵀ + b for x [N, in], W [out, in], b [out].
inline fluxion::Var<double> affine(const fluxion::Var<double>& x, const fluxion::Tensor<double>& w,
                                   const fluxion::Tensor<double>& b) {
  using fluxion::Var;
  return fluxion::add(fluxion::matmul(x, Var<double>(w), false, true), Var<double>(b));
}

}  // namespace tutorial
