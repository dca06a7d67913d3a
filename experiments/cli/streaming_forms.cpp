// --output-form of `fluxion interactions` (see streaming_forms.hpp).
#include "experiments/cli/streaming_forms.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "experiments/cli/commands.hpp"

namespace fluxion::cli {

std::string InteractionForm::name() const {
  switch (kind) {
    case Kind::full: return "full";
    case Kind::rows: {
      std::string s = "rows ";
      for (std::size_t i = 0; i < rows.size(); ++i) s += (i ? "," : "") + std::to_string(rows[i]);
      return s;
    }
    case Kind::top_k: return "top-k " + std::to_string(k);
    case Kind::row_sums: return "row-sums";
  }
  return "";
}

namespace {

std::size_t parse_count(const std::string& word, const std::string& what) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    if (word.empty() || word[0] < '0' || word[0] > '9') throw std::invalid_argument(word);
    v = std::stoull(word, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != word.size()) throw UsageError("--output-form " + what + ": '" + word + "' is not a number >= 0");
  return std::size_t(v);
}

}  // namespace

InteractionForm parse_output_form(const std::vector<std::string>& words, std::size_t d) {
  InteractionForm f;
  if (words.empty()) return f;
  f.explicit_choice = true;
  const std::string& kind = words[0];
  const std::string usage = " (forms: full | rows I,J,... | top-k K | row-sums)";
  auto need_args = [&](std::size_t n) {
    if (words.size() != n + 1)
      throw UsageError("--output-form " + kind + " takes " + (n ? "one value" : "no value") + usage);
  };
  if (kind == "full") {
    need_args(0);
  } else if (kind == "row-sums") {
    need_args(0);
    f.kind = InteractionForm::Kind::row_sums;
  } else if (kind == "top-k") {
    need_args(1);
    f.kind = InteractionForm::Kind::top_k;
    f.k = parse_count(words[1], "top-k");
    if (f.k < 1 || f.k > d * d)
      throw UsageError("--output-form top-k K needs 1 <= K <= d² = " + std::to_string(d * d) + ", got " + words[1]);
    if (d > (std::size_t(1) << 24))
      throw UsageError("--output-form top-k stores i and j as floats, exact only for d <= 2^24 features");
  } else if (kind == "rows") {
    need_args(1);
    f.kind = InteractionForm::Kind::rows;
    std::string list = words[1];
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t comma = std::min(list.find(',', start), list.size());
      const std::size_t row = parse_count(list.substr(start, comma - start), "rows");
      if (row >= d)
        throw UsageError("--output-form rows: row " + std::to_string(row) + " is not a feature (0.." +
                         std::to_string(d - 1) + ")");
      f.rows.push_back(row);
      start = comma + 1;
    }
  } else {
    throw UsageError("--output-form: unknown form '" + kind + "'" + usage);
  }
  return f;
}

Shape form_example_shape(const InteractionForm& form, std::size_t d) {
  switch (form.kind) {
    case InteractionForm::Kind::full: return {d, d};
    case InteractionForm::Kind::rows: return {form.rows.size(), d};
    case InteractionForm::Kind::top_k: return {form.k, 3};
    case InteractionForm::Kind::row_sums: return {d};
  }
  return {};
}

template <class T>
Tensor<T> apply_form(const InteractionForm& form, const Tensor<T>& gamma, std::size_t d) {
  const std::size_t n = gamma.shape()[0], dd = d * d;
  Shape shape{n};
  const Shape per = form_example_shape(form, d);
  shape.insert(shape.end(), per.begin(), per.end());
  if (form.kind == InteractionForm::Kind::full) return Tensor<T>(xt::reshape_view(gamma, shape));
  Tensor<T> out = Tensor<T>::from_shape(shape);
  T* dst = out.data();
  std::vector<std::size_t> order;
  for (std::size_t e = 0; e < n; ++e) {
    const T* g = gamma.data() + e * dd;
    switch (form.kind) {
      case InteractionForm::Kind::rows:
        for (std::size_t r : form.rows) dst = std::copy(g + r * d, g + (r + 1) * d, dst);
        break;
      case InteractionForm::Kind::row_sums:
        for (std::size_t i = 0; i < d; ++i) {
          double sum = 0;
          for (std::size_t j = 0; j < d; ++j) sum += double(g[i * d + j]);
          *dst++ = T(sum);
        }
        break;
      case InteractionForm::Kind::top_k: {
        order.resize(dd);
        std::iota(order.begin(), order.end(), std::size_t(0));
        auto stronger = [g](std::size_t a, std::size_t b) {
          const T ma = std::abs(g[a]), mb = std::abs(g[b]);
          return ma != mb ? ma > mb : a < b;
        };
        std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(form.k), order.end(), stronger);
        for (std::size_t t = 0; t < form.k; ++t) {
          *dst++ = T(order[t] / d);
          *dst++ = T(order[t] % d);
          *dst++ = g[order[t]];
        }
        break;
      }
      case InteractionForm::Kind::full: break;
    }
  }
  return out;
}

template Tensor<float> apply_form(const InteractionForm&, const Tensor<float>&, std::size_t);
template Tensor<double> apply_form(const InteractionForm&, const Tensor<double>&, std::size_t);

}  // namespace fluxion::cli
