// make_op: how a primitive's formulas become a graph node. This is the
// forward half of the engine; the reverse half is backward.cpp.
//
// A rule gives one formula per input, the way a textbook (or PyTorch's
// derivatives.yaml) writes them. For y = a ⊙ b (rules.cpp):
//
//     make_op<T>(Op::mul, {a, b}, <the value a ⊙ b>,
//                Jvp{[](const Vars<T>& in, const Var<T>& ta) { return ta * in[1]; },    // ȧ ⊙ b
//                    [](const Vars<T>& in, const Var<T>& tb) { return in[0] * tb; }},   // a ⊙ ḃ
//                Vjp{[](const Vars<T>& in, const Var<T>& g) { return g * in[1]; },      // ā = ḡ ⊙ b
//                    [](const Vars<T>& in, const Var<T>& g) { return g * in[0]; }});    // b̄ = ḡ ⊙ a
//
// A term is called as term(inputs, x) or, when its formula uses the op's
// output y (eˣ, tanh, σ, logsumexp), as term(inputs, y, x); x is the input's
// tangent ȧ_i (a Jvp term) or the output's cotangent ḡ (a Vjp term).
// Everything that is not the formula is the engine's job:
//   forward   (here) a Jvp term runs only for an input that carries a
//             tangent. That tangent [k, ...a_i] is first lifted to the
//             output's rank ([k, 1, …, 1, ...a_i], so that it broadcasts the
//             way a_i did); each term is then broadcast to [k, ...y], and the
//             terms are added: ẏ = Σ_i ∂y/∂a_i · ȧ_i.
//   reverse   (backward.cpp) a Vjp term runs only for an input that requires
//             grad and leads to a wanted gradient; its result, ḡ · ∂y/∂a_i in
//             the output's shape, is summed over the axes that broadcasting
//             stretched, down to the input's shape.
// Both halves check the rules: a tangent that is not [k, ...y] or a cotangent
// that does not reduce to its input's shape is a logic_error naming the op.
//
// An op with any number of inputs (concat) gives its cotangent terms as one
// formula of the input's index, IndexedVjp{term}: term(i, inputs, ḡ).
//
// The escape hatch: WholeOpJvp{rule}, one tangent rule for the whole op,
// rule(inputs, tangents) → [k, ...y], where tangents[i] is undefined if input
// i has none, and nothing is lifted or broadcast. The conv2d family, reshape,
// scatter and the indexing ops (concat, slice, pad, take) use it: their
// tangents go through the op itself with k as one more leading axis, where a
// lift meant for broadcasting would be wrong.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "autodiff/var.hpp"

namespace fluxion {

template <class T>
using Vars = std::vector<Var<T>>;

/// A list of terms, term 0 first. (Not a std::tuple: a tuple is never
/// trivially copyable, and std::function keeps only a trivially copyable
/// rule in place; any other costs one allocation per recorded node.)
template <class... Terms>
struct TermList {};
template <class First, class... Rest>
struct TermList<First, Rest...> {
  First first;
  TermList<Rest...> rest;
};

inline TermList<> term_list() { return {}; }
template <class First, class... Rest>
TermList<First, Rest...> term_list(First first, Rest... rest) {
  return {std::move(first), term_list(std::move(rest)...)};
}

/// The tangent terms of an op, one per input: term_i = ∂y/∂a_i · ȧ_i.
template <class... Terms>
struct Jvp {
  explicit Jvp(Terms... t) : terms(term_list(std::move(t)...)) {}
  TermList<Terms...> terms;
};

/// The cotangent terms of an op, one per input: term_i = ḡ · ∂y/∂a_i.
template <class... Terms>
struct Vjp {
  explicit Vjp(Terms... t) : terms(term_list(std::move(t)...)) {}
  TermList<Terms...> terms;
};

/// The cotangent terms of an op with any number of inputs (concat), as one
/// formula of the input's index: term(i, inputs, ḡ) = ḡ · ∂y/∂a_i.
template <class Term>
struct IndexedVjp {
  explicit IndexedVjp(Term t) : term(std::move(t)) {}
  Term term;
};

/// One tangent rule for the whole op: rule(inputs, tangents) = ẏ, [k, ...y].
template <class Rule>
struct WholeOpJvp {
  explicit WholeOpJvp(Rule r) : rule(std::move(r)) {}
  Rule rule;
};

// ---- the engine's steps that do not depend on the formulas (make_op.cpp) ----

namespace engine {

/// Does an op on these inputs record its VJP rule (grad mode on and an input requires grad)?
template <class T>
bool records_gradient(const Vars<T>& inputs);
/// The number k of tangent directions the inputs carry, 0 if none does or
/// forward mode is off. Throws ShapeError if two inputs carry different k.
template <class T>
std::size_t tangent_directions(Op op, const Vars<T>& inputs);
/// The output y as the Jvp terms see it. If the tangent is recorded (grad
/// mode on), a graph that read y itself would be stored in y's own tangent:
/// a reference cycle that is never freed. Then the terms get a twin of y
/// instead, with the same value, inputs and VJP rule; otherwise y itself.
template <class T>
Var<T> output_seen_by_tangent_terms(const std::shared_ptr<Node<T>>& node, const Vars<T>& inputs);
/// Tangent t [k, ...s] → [k, 1, …, 1, ...s] of rank out_rank + 1 (unchanged if already that long).
template <class T>
Var<T> lift(const Var<T>& t, std::size_t out_rank);
/// sum + term, with the term broadcast to [k, ...out] first (sum undefined:
/// the first term). A term that does not broadcast is a logic_error.
template <class T>
Var<T> add_tangent_term(const Var<T>& sum, const Var<T>& term, const Shape& out, Op op, std::size_t input);
/// Stores ẏ on the node after checking that it is [k, ...y] (else logic_error).
template <class T>
void set_tangent(Node<T>& node, Var<T> tangent, std::size_t k);
/// Throws logic_error unless the rule has one term per input (kind: "JVP" or "VJP").
void check_term_count(Op op, const char* kind, std::size_t terms, std::size_t inputs);

// f(i, term_i) for i = first, first + 1, … over a list of terms.
template <class F>
void for_each_term(const TermList<>&, F&&, std::size_t = 0) {}
template <class F, class First, class... Rest>
void for_each_term(const TermList<First, Rest...>& terms, F&& f, std::size_t first = 0) {
  f(first, terms.first);
  for_each_term(terms.rest, f, first + 1);
}

// Does this term take the output y: term(inputs, y, x)?
template <class T, class Term, class X>
constexpr bool takes_output = std::is_invocable_v<const Term&, const Vars<T>&, const Var<T>&, const X&>;

template <class T, class Term, class X>
Var<T> call_term(const Term& term, const Vars<T>& inputs, const Var<T>& y, const X& x) {
  if constexpr (takes_output<T, Term, X>) return term(inputs, y, x);
  else return term(inputs, x);
}

template <class T, class... Terms>
constexpr bool reads_output(const Jvp<Terms...>&) {
  return (takes_output<T, Terms, Var<T>> || ...);
}
template <class T, class Rule>
constexpr bool reads_output(const WholeOpJvp<Rule>&) {
  return takes_output<T, Rule, Vars<T>>;
}

// ẏ = Σ over the inputs that carry a tangent of term_i(lifted ȧ_i), each fitted to [k, ...y].
template <class T, class... Terms>
Var<T> tangent_of(const Jvp<Terms...>& jvp, Op op, const Vars<T>& in, const Var<T>& y, const Shape& out) {
  check_term_count(op, "JVP", sizeof...(Terms), in.size());
  Var<T> sum;
  for_each_term(jvp.terms, [&](std::size_t i, const auto& term) {
    if (!in[i].has_tangent()) return;
    sum = add_tangent_term(sum, call_term<T>(term, in, y, lift(in[i].tangent(), out.size())), out, op, i);
  });
  return sum;
}

// ẏ = rule(inputs, tangents), tangents[i] undefined where input i has none.
template <class T, class Rule>
Var<T> tangent_of(const WholeOpJvp<Rule>& jvp, Op, const Vars<T>& in, const Var<T>& y, const Shape&) {
  Vars<T> tangents;
  tangents.reserve(in.size());
  for (const auto& x : in) tangents.push_back(x.tangent());
  return call_term<T>(jvp.rule, in, y, tangents);
}

}  // namespace engine

namespace engine {

// The node of a primitive op whose VJP rule is vjp_rule(i, inputs, y, ḡ).
template <class T, class TangentRule, class VjpRule>
Var<T> make_node(Op op, Vars<T> inputs, Tensor<T> value, const TangentRule& jvp, VjpRule vjp_rule) {
  auto node = std::make_shared<Node<T>>(std::move(value), engine::records_gradient(inputs));
  node->op = op;
  const std::size_t k = engine::tangent_directions(op, inputs);
  if (node->requires_grad) {
    node->inputs = std::move(inputs);
    node->vjp = std::move(vjp_rule);
  }
  const Vars<T>& in = node->requires_grad ? node->inputs : inputs;
  if (k > 0) {
    NoForwardGuard no_nested_tangents;  // a term that recomputes a primal must not recurse
    const Var<T> y = engine::reads_output<T>(jvp) ? engine::output_seen_by_tangent_terms(node, in) : Var<T>();
    engine::set_tangent(*node, engine::tangent_of<T>(jvp, op, in, y, node->shape), k);
  }
  return Var<T>(std::move(node));
}

}  // namespace engine

/// Creates the node of a primitive op. `value` is the forward kernel's
/// result; the Vjp terms are recorded if grad mode is on and an input
/// requires grad; the tangent (Jvp terms or a WholeOpJvp rule) is computed
/// now if forward mode is on and an input carries a tangent.
template <class T, class TangentRule, class... CotangentTerms>
Var<T> make_op(Op op, Vars<T> inputs, Tensor<T> value, const TangentRule& jvp, Vjp<CotangentTerms...> vjp) {
  engine::check_term_count(op, "VJP", sizeof...(CotangentTerms), inputs.size());
  return engine::make_node<T>(
      op, std::move(inputs), std::move(value), jvp,
      [vjp = std::move(vjp)](std::size_t i, const Vars<T>& in, const Var<T>& y, const Var<T>& g) {
        Var<T> cotangent;
        engine::for_each_term(vjp.terms, [&](std::size_t j, const auto& term) {
          if (j == i) cotangent = engine::call_term<T>(term, in, y, g);
        });
        return cotangent;
      });
}

/// The same for an op with any number of inputs: one cotangent formula of
/// the input's index (IndexedVjp), usually with a WholeOpJvp tangent rule.
template <class T, class TangentRule, class Term>
Var<T> make_op(Op op, Vars<T> inputs, Tensor<T> value, const TangentRule& jvp, IndexedVjp<Term> vjp) {
  return engine::make_node<T>(
      op, std::move(inputs), std::move(value), jvp,
      [vjp = std::move(vjp)](std::size_t i, const Vars<T>& in, const Var<T>&, const Var<T>& g) {
        return vjp.term(i, in, g);
      });
}

}  // namespace fluxion
