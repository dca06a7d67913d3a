#include "nn/graph/integer_ops.hpp"

#include <algorithm>
#include <cstdint>

#include "autodiff/errors.hpp"

namespace fluxion {

namespace {

/// Row-major strides of `shape`.
std::vector<std::size_t> strides_of(const Shape& shape) {
  std::vector<std::size_t> s(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

/// The multi-index of flat position `flat` in `shape`.
std::vector<std::size_t> unravel(std::size_t flat, const Shape& shape) {
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t i = shape.size(); i-- > 0;) {
    idx[i] = shape[i] == 0 ? 0 : flat % shape[i];
    flat = shape[i] == 0 ? 0 : flat / shape[i];
  }
  return idx;
}

}  // namespace

Shape broadcast_shape(const Shape& a, const Shape& b, const std::string& where) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::size_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw InputError(where + ": shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

IntTensor integer_binary(const IntTensor& a, const IntTensor& b, IntegerBinary op, const std::string& where) {
  const Shape out = broadcast_shape(a.shape, b.shape, where);
  IntTensor r{out, std::vector<std::int64_t>(numel_of(out))};
  auto source = [&](const IntTensor& t, const std::vector<std::size_t>& idx) {
    std::size_t flat = 0;
    const std::size_t lead = out.size() - t.shape.size();
    for (std::size_t i = 0; i < t.shape.size(); ++i) flat = flat * t.shape[i] + (t.shape[i] == 1 ? 0 : idx[lead + i]);
    return t.data[flat];
  };
  for (std::size_t k = 0; k < r.data.size(); ++k) {
    const auto idx = unravel(k, out);
    const std::int64_t x = source(a, idx), y = source(b, idx);
    bool overflow = false;
    switch (op) {
      case IntegerBinary::add: overflow = __builtin_add_overflow(x, y, &r.data[k]); break;
      case IntegerBinary::sub: overflow = __builtin_sub_overflow(x, y, &r.data[k]); break;
      case IntegerBinary::mul: overflow = __builtin_mul_overflow(x, y, &r.data[k]); break;
      case IntegerBinary::div:
        if (y == 0) throw InputError(where + ": integer division by zero");
        overflow = x == INT64_MIN && y == -1;
        if (!overflow) r.data[k] = x / y;
        break;
    }
    if (overflow) throw InputError(where + ": the integer result overflows int64");
  }
  return r;
}

IntTensor integer_negate(const IntTensor& a, const std::string& where) {
  IntTensor r = a;
  for (std::int64_t& e : r.data) {
    if (e == INT64_MIN) throw InputError(where + ": the integer result overflows int64");
    e = -e;
  }
  return r;
}

IntTensor integer_permute(const IntTensor& a, const std::vector<std::size_t>& perm) {
  Shape out(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) out[i] = a.shape[perm[i]];
  const auto in_strides = strides_of(a.shape);
  IntTensor r{out, std::vector<std::int64_t>(a.data.size())};
  for (std::size_t k = 0; k < r.data.size(); ++k) {
    const auto idx = unravel(k, out);
    std::size_t flat = 0;
    for (std::size_t i = 0; i < perm.size(); ++i) flat += idx[i] * in_strides[perm[i]];
    r.data[k] = a.data[flat];
  }
  return r;
}

IntTensor integer_concat(const std::vector<IntTensor>& parts, std::size_t axis, const std::string& where) {
  Shape out = parts.at(0).shape;
  if (axis >= out.size()) throw InputError(where + ": axis out of range");
  out[axis] = 0;
  for (const IntTensor& p : parts) {
    if (p.shape.size() != out.size()) throw InputError(where + ": the inputs have different ranks");
    for (std::size_t i = 0; i < out.size(); ++i)
      if (i != axis && p.shape[i] != parts[0].shape[i])
        throw InputError(where + ": shapes " + shape_str(parts[0].shape) + " and " + shape_str(p.shape) +
                         " differ off the concatenation axis");
    out[axis] += p.shape[axis];
  }
  // outer × (piece of each part) × inner
  std::size_t outer = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= out[i];
  IntTensor r{out, {}};
  r.data.reserve(numel_of(out));
  for (std::size_t o = 0; o < outer; ++o)
    for (const IntTensor& p : parts) {
      const std::size_t block = numel_of(p.shape) / std::max<std::size_t>(outer, 1);
      r.data.insert(r.data.end(), p.data.begin() + std::ptrdiff_t(o * block), p.data.begin() + std::ptrdiff_t((o + 1) * block));
    }
  return r;
}

SliceRange resolve_slice(std::int64_t start, std::int64_t end, std::int64_t step, std::size_t extent) {
  const auto n = std::int64_t(extent);
  // clamp first (indices and steps come from files: no overflow below), then count from the end
  const std::int64_t limit = std::int64_t{1} << 62;
  start = std::clamp<std::int64_t>(start, -limit, limit);
  end = std::clamp<std::int64_t>(end, -limit, limit);
  step = std::clamp<std::int64_t>(step, -limit, limit);
  if (start < 0) start += n;
  if (end < 0) end += n;
  SliceRange r;
  r.step = step;
  if (step > 0) {
    start = std::clamp<std::int64_t>(start, 0, n);
    end = std::clamp<std::int64_t>(end, 0, n);
    r.count = end > start ? std::size_t((end - start - 1) / step + 1) : 0;
  } else {
    start = std::clamp<std::int64_t>(start, -1, n - 1);
    end = std::clamp<std::int64_t>(end, -1, n - 1);
    r.count = start > end ? std::size_t((start - end - 1) / (-step) + 1) : 0;
  }
  r.first = start;
  return r;
}

IntTensor integer_slice(const IntTensor& a, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                        const std::vector<std::int64_t>& axes, const std::vector<std::int64_t>& steps) {
  std::vector<SliceRange> ranges(a.shape.size());
  for (std::size_t i = 0; i < a.shape.size(); ++i) ranges[i] = {0, 1, a.shape[i]};
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const auto axis = std::size_t(axes[k]);
    ranges[axis] = resolve_slice(starts[k], ends[k], steps[k], a.shape[axis]);
  }
  Shape out;
  for (const SliceRange& r : ranges) out.push_back(r.count);
  const auto in_strides = strides_of(a.shape);
  IntTensor r{out, std::vector<std::int64_t>(numel_of(out))};
  for (std::size_t k = 0; k < r.data.size(); ++k) {
    const auto idx = unravel(k, out);
    std::int64_t flat = 0;
    for (std::size_t i = 0; i < idx.size(); ++i)
      flat += (ranges[i].first + std::int64_t(idx[i]) * ranges[i].step) * std::int64_t(in_strides[i]);
    r.data[k] = a.data[std::size_t(flat)];
  }
  return r;
}

IntTensor integer_take(const IntTensor& a, const IntTensor& indices, std::size_t axis) {
  Shape out(a.shape.begin(), a.shape.begin() + std::ptrdiff_t(axis));
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), a.shape.begin() + std::ptrdiff_t(axis) + 1, a.shape.end());
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= a.shape[i];
  for (std::size_t i = axis + 1; i < a.shape.size(); ++i) inner *= a.shape[i];
  IntTensor r{out, {}};
  r.data.reserve(numel_of(out));
  for (std::size_t o = 0; o < outer; ++o)
    for (std::int64_t i : indices.data)
      for (std::size_t in = 0; in < inner; ++in)
        r.data.push_back(a.data[(o * a.shape[axis] + std::size_t(i)) * inner + in]);
  return r;
}

}  // namespace fluxion
