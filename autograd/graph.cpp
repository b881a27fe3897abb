// autograd/graph.cpp — recording ops and running reverse mode over the recorded graph.
#include "autograd/graph.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/dispatch.h"
#include "cuda/copy.h"

namespace bertlab {

const std::string& node_name(const Node& n) { return n.name; }

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  for (auto& e : inputs)
    if (e.fn) pending.push_back(std::move(e.fn));
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1)  // we hold the last reference: take its inputs before it dies
      for (auto& e : n->inputs)
        if (e.fn) pending.push_back(std::move(e.fn));
  }
}

static thread_local bool g_grad_enabled = true;
static thread_local LeafReadyHook g_leaf_ready;

LeafReadyGuard::LeafReadyGuard(LeafReadyHook hook) : prev_(std::move(g_leaf_ready)) { g_leaf_ready = std::move(hook); }
LeafReadyGuard::~LeafReadyGuard() { g_leaf_ready = std::move(prev_); }
bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

bool any_requires_grad(std::initializer_list<Tensor> xs) {
  for (const auto& x : xs)
    if (x.defined() && x.requires_grad()) return true;
  return false;
}
bool any_requires_grad(const std::vector<Tensor>& xs) {
  for (const auto& x : xs)
    if (x.defined() && x.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!grad_enabled() || !any_requires_grad(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    Edge& e = node->inputs[i];
    if (!x.defined()) continue;
    e.shape = x.shape();
    e.dtype = x.dtype();
    e.needs_grad = x.requires_grad();
    if (!e.needs_grad) continue;
    if (x.impl()->grad_fn) e.fn = x.impl()->grad_fn;
    else e.leaf = x.impl_ptr();
  }
  node->backward = std::move(fn);
  node->output = out.impl_ptr();
  out.impl()->grad_fn = node;
  out.impl()->requires_grad = true;
  return out;
}

// ---------------------------------------------------------------------------------------
// Gradient accumulation: dst += src, dst dense and owned by the engine.

static void add_into(const Tensor& dst, const Tensor& src) {
  Tensor s = src.contiguous();
  const int64_t n = dst.numel();
  if (dst.device() == Device::CUDA) {
    cuda::accumulate(dst.raw_data(), dst.dtype(), n, s.raw_data());
    return;
  }
  dispatch_float(dst.dtype(), "gradient accumulation", [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T* p = s.data<T>();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) d[i] += p[i];
  });
}

// A gradient being summed: `owned` once the engine made the buffer itself, so it can be
// added into in place; before that it may alias a tensor some closure still holds.
struct Acc {
  Tensor g;
  bool owned = false;
  void add(const Tensor& x) {
    if (!g.defined()) {
      g = x;
      return;
    }
    if (!owned) {
      g = g.clone();
      owned = true;
    }
    add_into(g, x);
  }
};

static void accumulate_leaf(TensorImpl& leaf, Acc& acc) {
  if (!leaf.grad) {
    Tensor g = acc.owned ? acc.g : acc.g.clone();  // never alias a buffer we do not own
    leaf.grad = g.impl_ptr();
  } else {
    add_into(Tensor(leaf.grad), acc.g);
  }
}

Grads::Grads(const Node& node) : node_(node), slots_(node.inputs.size()) {}
bool Grads::needs(size_t i) const { return i < slots_.size() && node_.inputs[i].needs_grad; }
void Grads::add(size_t i, const Tensor& g) {
  if (i >= slots_.size())
    fail("backward of '" + node_.name + "': gradient for input " + std::to_string(i) +
         " but the op has " + std::to_string(slots_.size()) + " inputs");
  if (!needs(i) || !g.defined()) return;
  const Edge& e = node_.inputs[i];
  if (g.shape() != e.shape || g.dtype() != e.dtype)
    fail("backward of '" + node_.name + "': gradient for input " + std::to_string(i) + " is " +
         dtype_name(g.dtype()) + " " + shape_str(g.shape()) + ", expected " + dtype_name(e.dtype) +
         " " + shape_str(e.shape));
  if (!slots_[i].defined()) {
    slots_[i] = g;
  } else {
    Tensor sum = slots_[i].clone();
    add_into(sum, g);
    slots_[i] = sum;
  }
}

[[noreturn]] static void freed_error(const Node& n) {
  fail("backward: the graph through '" + n.name +
       "' was already freed by an earlier backward(); pass retain_graph = true to the first "
       "backward() to run backward twice");
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  if (!root.defined()) fail("backward: called on an undefined tensor");
  if (!root.requires_grad())
    fail("backward: the tensor (shape " + shape_str(root.shape()) +
         ") does not require grad and has no grad_fn");
  Tensor seed = grad;
  if (!seed.defined()) {
    if (root.numel() != 1)
      fail("backward: a gradient can be implied only for a one-element output, this one has shape " +
           shape_str(root.shape()) + "; pass the gradient explicitly");
    seed = ones_like(root);
  } else if (seed.shape() != root.shape() || seed.dtype() != root.dtype() ||
             seed.device() != root.device()) {
    fail("backward: gradient " + std::string(dtype_name(seed.dtype())) + " " +
         shape_str(seed.shape()) + " does not match output " + dtype_name(root.dtype()) + " " +
         shape_str(root.shape()));
  }
  NoGradGuard no_grad;

  const std::shared_ptr<Node>& top = root.impl()->grad_fn;
  if (!top) {  // backward on a leaf: its gradient is the seed
    Acc a;
    a.add(seed);
    accumulate_leaf(*root.impl(), a);
    return;
  }
  if (top->freed) freed_error(*top);

  // Topological order by an iterative depth-first search (post-order: inputs first).
  // Owning pointers: freeing a node's edges below must not destroy nodes still to run.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen{top.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{top, 0}};
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->inputs.size()) {
      std::shared_ptr<Node> child = n->inputs[next++].fn;
      if (child && seen.insert(child.get()).second) {
        if (child->freed) freed_error(*child);
        stack.push_back({child, 0});
      }
    } else {
      order.push_back(n);
      stack.pop_back();
    }
  }

  // with a leaf-ready hook: how many edges still have to deliver each leaf's gradient
  const LeafReadyHook hook = g_leaf_ready;  // (a copy: the hook may not change it mid-pass)
  std::unordered_map<TensorImpl*, int64_t> leaf_edges;
  if (hook)
    for (const auto& n : order)
      for (const Edge& e : n->inputs)
        if (e.leaf) ++leaf_edges[e.leaf.get()];

  std::unordered_map<Node*, Acc> grads;
  grads[top.get()].add(seed);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = it->get();
    auto found = grads.find(n);
    if (found == grads.end()) continue;  // no gradient reached this node
    Acc acc = std::move(found->second);
    grads.erase(found);
    if (auto out = n->output.lock(); out && out->retains_grad) accumulate_leaf(*out, acc);

    Grads g(*n);
    n->backward(acc.g, g);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      Edge& e = n->inputs[i];
      if (!g.slot(i).defined()) {
        if (hook && e.leaf && --leaf_edges[e.leaf.get()] == 0 && e.leaf->grad) hook(e.leaf.get());
        continue;
      }
      if (e.fn) {
        grads[e.fn.get()].add(g.slot(i));
      } else if (e.leaf) {
        Acc a;
        a.add(g.slot(i));
        accumulate_leaf(*e.leaf, a);
        if (hook && --leaf_edges[e.leaf.get()] == 0) hook(e.leaf.get());
      }
    }
    if (!retain_graph) {
      n->backward = nullptr;  // frees what the closure captured
      n->inputs.clear();
      n->freed = true;
    }
  }
}

}  // namespace bertlab
