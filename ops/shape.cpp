// ops/shape.cpp — views (new shape and strides over the same storage) and their backward.
#include "ops/shape.h"

#include <algorithm>
#include <cstdint>

#include "autograd/graph.h"
#include "ops/check.h"
#include "ops/reduce.h"

namespace bertlab {

static Shape infer_shape(const char* op, const Tensor& x, Shape shape) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) fail(std::string(op) + ": only one dimension can be -1 in " + shape_str(shape));
      infer = (int64_t)i;
    } else if (shape[i] < 0) {
      fail(std::string(op) + ": invalid dimension in " + shape_str(shape));
    } else {
      known = checked_mul(known, shape[i], std::string(op) + ": shape " + shape_str(shape));
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      fail(std::string(op) + ": shape " + shape_str(shape) + " is invalid for input of shape " +
           shape_str(x.shape()) + " (" + std::to_string(x.numel()) + " elements)");
    shape[infer] = x.numel() / known;
  }
  if (checked_numel(shape, op) != x.numel())
    fail(std::string(op) + ": shape " + shape_str(shape) + " is invalid for input of shape " +
         shape_str(x.shape()) + " (" + std::to_string(x.numel()) + " elements)");
  return shape;
}

// Strides for viewing x as `shape` without a copy, or an empty vector when impossible.
// The rule PyTorch's view uses (computeStride): old dimensions are taken in chunks that are
// contiguous among themselves, and each chunk must be split exactly by new dimensions.
static Shape view_strides(const Tensor& x, const Shape& shape) {
  if (x.is_contiguous() || x.numel() == 0) return contiguous_strides(shape);
  const Shape& os = x.shape();
  const Shape& ost = x.strides();
  Shape ns(shape.size());
  int64_t view_d = (int64_t)shape.size() - 1;
  int64_t chunk_base = ost.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t d = (int64_t)os.size() - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        ns[view_d] = view_numel * chunk_base;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return {};
      if (d > 0) {
        chunk_base = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return {};
  return ns;
}

Tensor reshape(const Tensor& x, Shape shape) {
  check_defined("reshape", x);
  shape = infer_shape("reshape", x, std::move(shape));
  Shape st = view_strides(x, shape);
  Tensor y;
  if (!st.empty() || shape.empty()) {
    y = make_view(x, shape, st, x.offset());  // a view
  } else {
    Tensor c = x.detach().contiguous();  // a copy
    y = make_view(c, shape, contiguous_strides(shape), c.offset());
  }
  return record("reshape", y, {x}, [xs = x.shape()](const Tensor& dy, Grads& g) { g.add(0, reshape(dy, xs)); });
}

Tensor view(const Tensor& x, Shape shape) {
  check_defined("view", x);
  shape = infer_shape("view", x, std::move(shape));
  Shape st = view_strides(x, shape);
  if (st.empty() && !shape.empty())
    fail("view: a tensor of shape " + shape_str(x.shape()) + " with strides " + shape_str(x.strides()) +
         " cannot be viewed as " + shape_str(shape) + " without a copy; use reshape");
  Tensor y = make_view(x, shape, st, x.offset());
  return record("view", y, {x}, [xs = x.shape()](const Tensor& dy, Grads& g) { g.add(0, reshape(dy, xs)); });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  check_defined("flatten", x);
  if (x.dim() == 0) return reshape(x, {1});
  int64_t s = wrap_dim("flatten", start_dim, x.dim()), e = wrap_dim("flatten", end_dim, x.dim());
  if (s > e) fail("flatten: start_dim comes after end_dim");
  Shape out;
  for (int64_t i = 0; i < s; ++i) out.push_back(x.shape()[i]);
  int64_t m = 1;
  for (int64_t i = s; i <= e; ++i) m *= x.shape()[i];
  out.push_back(m);
  for (int64_t i = e + 1; i < x.dim(); ++i) out.push_back(x.shape()[i]);
  return reshape(x, out);
}

Tensor permute(const Tensor& x, std::vector<int64_t> dims) {
  check_defined("permute", x);
  if ((int64_t)dims.size() != x.dim())
    fail("permute: " + std::to_string(dims.size()) + " dimensions given for a tensor of shape " + shape_str(x.shape()));
  std::vector<bool> seen(dims.size(), false);
  Shape shape(dims.size()), strides(dims.size());
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim("permute", dims[i], x.dim());
    if (seen[d]) fail("permute: dimension " + std::to_string(d) + " appears twice");
    seen[d] = true;
    dims[i] = d;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
    inverse[d] = (int64_t)i;
  }
  Tensor y = make_view(x, shape, strides, x.offset());
  return record("permute", y, {x}, [inverse](const Tensor& dy, Grads& g) { g.add(0, permute(dy, inverse)); });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  check_defined("transpose", x);
  std::vector<int64_t> dims(x.dim());
  for (int64_t i = 0; i < x.dim(); ++i) dims[i] = i;
  std::swap(dims[wrap_dim("transpose", d0, x.dim())], dims[wrap_dim("transpose", d1, x.dim())]);
  return permute(x, dims);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  check_defined("unsqueeze", x);
  int64_t d = wrap_dim("unsqueeze", dim, x.dim() + 1);
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  check_defined("squeeze", x);
  int64_t d = wrap_dim("squeeze", dim, x.dim());
  if (x.dim() == 0 || x.shape()[d] != 1) return x;
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

Tensor expand(const Tensor& x, Shape shape) {
  check_defined("expand", x);
  if (shape.size() < (size_t)x.dim())
    fail("expand: cannot expand " + shape_str(x.shape()) + " to fewer dimensions " + shape_str(shape));
  const size_t lead = shape.size() - x.dim();
  Shape strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      if (shape[i] < 0) fail("expand: -1 is not allowed for a new leading dimension in " + shape_str(shape));
      continue;
    }
    int64_t have = x.shape()[i - lead];
    if (shape[i] == -1) shape[i] = have;
    if (have == shape[i]) strides[i] = x.strides()[i - lead];
    else if (have == 1) strides[i] = 0;
    else
      fail("expand: cannot expand " + shape_str(x.shape()) + " to " + shape_str(shape) + " (dimension " +
           std::to_string(i) + ": " + std::to_string(have) + " is not 1)");
  }
  if (shape == x.shape()) return x;
  checked_numel(shape, "expand");  // a broadcast view allocates nothing, but its numel must count
  Tensor y = make_view(x, shape, strides, x.offset());
  return record("expand", y, {x}, [xs = x.shape()](const Tensor& dy, Grads& g) { g.add(0, sum_to(dy, xs)); });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  check_min_dim("narrow", x, 1);
  int64_t d = wrap_dim("narrow", dim, x.dim());
  const int64_t n = x.shape()[d];
  // written as length > n - start so that a huge start or length cannot overflow the sum
  if (start < 0 || length < 0 || start > n || length > n - start)
    fail("narrow: range [" + std::to_string(start) + ", " +
         (start >= 0 && length >= 0 && length <= INT64_MAX - start
              ? std::to_string(start + length)
              : std::to_string(start) + " + " + std::to_string(length)) +
         ") is out of bounds for dimension " + std::to_string(d) + " of size " + std::to_string(n) +
         " (shape " + shape_str(x.shape()) + ")");
  Shape s = x.shape();
  s[d] = length;
  Tensor y = make_view(x, s, x.strides(), x.offset() + start * x.strides()[d]);
  return record("narrow", y, {x}, [xs = x.shape(), d, start, length](const Tensor& dy, Grads& g) {
    Tensor dx = zeros(xs, dy.dtype(), dy.device());
    Shape s2 = xs;
    s2[d] = length;
    copy_(make_view(dx, s2, dx.strides(), start * dx.strides()[d]), dy);
    g.add(0, dx);
  });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end) {
  check_min_dim("slice", x, 1);
  int64_t d = wrap_dim("slice", dim, x.dim());
  const int64_t n = x.shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  return narrow(x, d, start, end - start);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  check_min_dim("select", x, 1);
  int64_t d = wrap_dim("select", dim, x.dim());
  const int64_t n = x.shape()[d];
  if (index < -n || index >= n)
    fail("select: index " + std::to_string(index) + " is out of range for dimension " + std::to_string(d) +
         " of size " + std::to_string(n));
  if (index < 0) index += n;
  return squeeze(narrow(x, d, index, 1), d);
}

Tensor contiguous(const Tensor& x) {
  check_defined("contiguous", x);
  if (x.is_contiguous()) return x;
  Tensor y = x.detach().clone();
  return record("contiguous", y, {x}, [](const Tensor& dy, Grads& g) { g.add(0, dy); });
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("cat: needs at least one tensor");
  const Tensor& first = xs[0];
  check_min_dim("cat", first, 1, "first tensor");
  int64_t d = wrap_dim("cat", dim, first.dim());
  Shape out = first.shape();
  out[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    check_defined("cat", x);
    check_same_device("cat", first, x);
    check_same_dtype("cat", first, x);
    bool ok = x.dim() == first.dim();
    for (int64_t k = 0; ok && k < x.dim(); ++k)
      if (k != d && x.shape()[k] != first.shape()[k]) ok = false;
    if (!ok)
      fail("cat: tensor " + std::to_string(i) + " has shape " + shape_str(x.shape()) +
           ", which does not match " + shape_str(first.shape()) + " outside dimension " + std::to_string(d));
    out[d] = checked_add(out[d], x.shape()[d], "cat: dimension " + std::to_string(d));
  }
  Tensor y = empty(out, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& x : xs) {
    Shape s = out;
    s[d] = x.shape()[d];
    copy_(make_view(y, s, y.strides(), at * y.strides()[d]), x);
    at += x.shape()[d];
    sizes.push_back(x.shape()[d]);
  }
  return record("cat", y, xs, [d, sizes](const Tensor& dy, Grads& g) {
    int64_t at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (g.needs(i)) g.add(i, narrow(dy, d, at, sizes[i]));
      at += sizes[i];
    }
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("stack: needs at least one tensor");
  int64_t d = wrap_dim("stack", dim, xs[0].dim() + 1);
  std::vector<Tensor> us;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_defined("stack", xs[i]);
    if (xs[i].shape() != xs[0].shape())
      fail("stack: tensor " + std::to_string(i) + " has shape " + shape_str(xs[i].shape()) +
           ", expected " + shape_str(xs[0].shape()));
    us.push_back(unsqueeze(xs[i], d));
  }
  return cat(us, d);
}

}  // namespace bertlab
