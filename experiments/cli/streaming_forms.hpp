// What `fluxion interactions` writes per example (--output-form), so that
// interaction outputs scale: a full d×d matrix Γ per example is 784² · 8 bytes
// = 4.9 MB for an MNIST digit, 49 GB for the 10,000 test digits.
//
//   full         Γ                             [N, d, d]
//   rows I,J,..  the rows Γ_I·, Γ_J·, …         [N, r, d]   (r listed rows, in the order given)
//   top-k K      the K entries (i, j) of largest |Γᵢⱼ| as (i, j, Γᵢⱼ) rows,
//                strongest first, ties by smaller i·d + j; i and j are
//                stored as exact floats (d ≤ 2^24)    [N, K, 3]
//                (all d² ordered entries compete: for a symmetric Γ the pair
//                appears as (i, j) and (j, i))
//   row-sums     Σⱼ Γᵢⱼ (summed in double, j ascending, rounded to T once)
//                — for the path methods (IH, EH) Integrated Gradients'
//                attribution of feature i (Janizek et al. 2021)   [N, d]
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace fluxion::cli {

struct InteractionForm {
  enum class Kind { full, rows, top_k, row_sums } kind = Kind::full;
  bool explicit_choice = false;   // the user passed --output-form
  std::vector<std::size_t> rows;  // Kind::rows
  std::size_t k = 0;              // Kind::top_k
  std::string name() const;       // "full", "rows 3,7", "top-k 10", "row-sums"
};

/// Parses the words of --output-form ("full" | "rows" LIST | "top-k" K | "row-sums")
/// for d features; UsageError naming the flag otherwise.
InteractionForm parse_output_form(const std::vector<std::string>& words, std::size_t d);

/// The shape of one example's output in `form` for d features.
Shape form_example_shape(const InteractionForm& form, std::size_t d);

/// The form of full matrices `gamma` [n, d, d] (or [n, d·d]): [n, form shape...].
template <class T>
Tensor<T> apply_form(const InteractionForm& form, const Tensor<T>& gamma, std::size_t d);

}  // namespace fluxion::cli
