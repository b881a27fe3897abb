// autograd/graph.h — the dynamic graph and reverse-mode differentiation.
//
// The idea is micrograd's, in C++ with flashlight's shape: every op computes its output and,
// when some input requires a gradient, records a Node holding a backward closure that
// captures only what the backward needs. `backward()` sorts the nodes reachable from the
// output topologically (iteratively, so deep graphs do not overflow the stack) and runs the
// closures in reverse order, summing gradients that meet at the same tensor.
//
//   Tensor y = record("mul", out, {a, b}, [a, b](const Tensor& dy, Grads& g) {
//     g.add(0, mul(dy, b));   // d(a*b)/da = b
//     g.add(1, mul(dy, a));   // d(a*b)/db = a
//   });
//
// Closures run with gradient recording off (no double backward). A node forgets its closure
// and edges once it has run, unless backward was asked to retain the graph; running backward
// through it again is an error that names the op.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace bertlab {

// The gradients a backward closure produces, one slot per input of its op.
class Grads {
 public:
  explicit Grads(const Node& node);
  // Does input i need a gradient? (Skip the work when not.)
  bool needs(size_t i) const;
  // Adds g to the gradient of input i. g must have the input's shape and dtype.
  void add(size_t i, const Tensor& g);
  Tensor& slot(size_t i) { return slots_[i]; }
  size_t size() const { return slots_.size(); }

 private:
  const Node& node_;
  std::vector<Tensor> slots_;
};

using BackwardFn = std::function<void(const Tensor& grad_out, Grads& grads)>;

// Where one input's gradient goes: the node that produced it, or (for a leaf) the leaf
// itself, whose .grad it accumulates into.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  Shape shape;  // the input's shape (gradients are checked against it)
  DType dtype = DType::Float32;
  bool needs_grad = false;
};

struct Node {
  std::string name;
  std::vector<Edge> inputs;
  BackwardFn backward;
  bool freed = false;  // backward already ran without retain_graph
  // a non-leaf output that asked for retain_grad() keeps its gradient here
  std::weak_ptr<TensorImpl> output;
  // Releases the chain of inputs iteratively: dropping a graph a million ops deep must not
  // recurse a million destructors deep. (Closures capture detached tensors only, so edges
  // are the only links between nodes.)
  ~Node();
};

const std::string& node_name(const Node& n);

// Gradient recording is on by default; NoGradGuard turns it off for a scope (evaluation,
// optimizer updates). Thread-local.
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Does any of these tensors need its op recorded?
bool any_requires_grad(std::initializer_list<Tensor> xs);
bool any_requires_grad(const std::vector<Tensor>& xs);

// Attaches `fn` as the backward of `out` (made by op `name` from `inputs`) when gradient
// recording is on and some input requires grad; returns `out` either way. Undefined entries in
// `inputs` are allowed (optional arguments such as a missing bias).
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn fn);

// The engine behind Tensor::backward.
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// Called by backward() each time a leaf's gradient is complete for that pass: every edge of
// the graph into the leaf has delivered its part (a weight used twice, as BERT's tied word
// embeddings are, is complete after the second). Data-parallel training starts sending a
// bucket of gradients while backward goes on (bert/train/distributed.h). For the scope of
// the guard, on this thread; a leaf no gradient reaches is never reported.
using LeafReadyHook = std::function<void(TensorImpl* leaf)>;
class LeafReadyGuard {
 public:
  explicit LeafReadyGuard(LeafReadyHook hook);
  ~LeafReadyGuard();
  LeafReadyGuard(const LeafReadyGuard&) = delete;
  LeafReadyGuard& operator=(const LeafReadyGuard&) = delete;

 private:
  LeafReadyHook prev_;
};

}  // namespace bertlab
