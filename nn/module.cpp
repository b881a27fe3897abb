// nn/module.cpp — parameter registration, traversal, state dicts, device moves.
#include "nn/module.h"

#include <algorithm>
#include <set>

#include "autograd/graph.h"

namespace bertlab::nn {

std::string LoadReport::str() const {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  std::string s;
  if (!missing.empty()) s += "missing keys: " + join(missing);
  if (!unexpected.empty()) s += std::string(s.empty() ? "" : "; ") + "unexpected keys: " + join(unexpected);
  return s.empty() ? "all keys matched" : s;
}

static void check_name(const std::string& name, const char* what) {
  if (name.empty() || name.find('.') != std::string::npos)
    fail(std::string("register_") + what + ": invalid name '" + name + "' (must be non-empty, without '.')");
}

Tensor& Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_name(name, "parameter");
  for (auto& [n, _] : params_)
    if (n == name) fail("register_parameter: '" + name + "' is already registered");
  if (!t.defined()) fail("register_parameter: '" + name + "' is an undefined tensor");
  if (requires_grad && !t.requires_grad()) t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
  check_name(name, "buffer");
  buffers_.emplace_back(name, t);
  buffer_persistent_.push_back(persistent);
  return buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_name(name, "module");
  if (!m) fail("register_module: '" + name + "' is null");
  for (auto& [n, _] : children_)
    if (n == name) fail("register_module: '" + name + "' is already registered");
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, NamedTensors& out, bool params, bool dedupe, bool persistent_only,
                     std::vector<const TensorImpl*>& seen) const {
  auto add = [&](const std::string& name, const Tensor& t) {
    if (dedupe) {
      if (std::find(seen.begin(), seen.end(), t.impl()) != seen.end()) return;
      seen.push_back(t.impl());
    }
    out.emplace_back(prefix + name, t);
  };
  if (params) {
    for (auto& [n, t] : params_) add(n, t);
  } else {
    for (size_t i = 0; i < buffers_.size(); ++i)
      if (!persistent_only || buffer_persistent_[i]) add(buffers_[i].first, buffers_[i].second);
  }
  for (auto& [n, m] : children_) m->collect(prefix + n + ".", out, params, dedupe, persistent_only, seen);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect("", out, true, true, false, seen);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [_, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect("", out, false, true, false, seen);
  return out;
}

std::shared_ptr<Module> Module::find_module(const std::string& path) const {
  const Module* cur = this;
  std::shared_ptr<Module> found;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::shared_ptr<Module> next;
    for (auto& [n, m] : cur->children_)
      if (n == part) next = m;
    if (!next) return nullptr;
    found = next;
    cur = next.get();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return found;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (auto& [_, t] : named_parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

int Module::freeze(const std::string& prefix, bool frozen) {
  int count = 0;
  for (auto& [name, t] : named_parameters()) {
    if (name.rfind(prefix, 0) != 0) continue;
    t.impl()->requires_grad = !frozen;
    if (frozen) t.zero_grad();
    ++count;
  }
  return count;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [_, m] : children_) m->train(on);
}

void move_to_device_(Tensor& t, Device d) {
  if (t.device() == d) return;
  Tensor moved = t.detach().contiguous().to(d);
  TensorImpl* impl = t.impl();
  impl->storage = moved.impl()->storage;
  impl->offset = moved.impl()->offset;
  impl->strides = moved.impl()->strides;
  if (impl->grad) {
    Tensor g(impl->grad);
    impl->grad = g.to(d).impl_ptr();
  }
}

void convert_dtype_(Tensor& t, DType dtype) {
  if (t.dtype() == dtype || !is_floating(t.dtype())) return;
  Tensor c = t.detach().to(dtype).contiguous();
  TensorImpl* impl = t.impl();
  impl->storage = c.impl()->storage;
  impl->offset = c.impl()->offset;
  impl->strides = c.impl()->strides;
  impl->dtype = dtype;
  impl->grad.reset();
}

void Module::to(DType t) {
  for (auto& [_, p] : named_parameters()) convert_dtype_(p, t);
  for (auto& [_, b] : named_buffers()) convert_dtype_(b, t);
}

void Module::to(Device d) {
  for (auto& [_, t] : named_parameters()) move_to_device_(t, d);
  for (auto& [_, t] : named_buffers()) move_to_device_(t, d);
}

void Module::zero_grad() {
  for (auto& [_, t] : named_parameters()) t.zero_grad();
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect("", out, true, false, false, seen);
  collect("", out, false, false, true, seen);
  return out;
}

LoadReport Module::load_state_dict(const std::map<std::string, Tensor>& sd, bool strict) {
  LoadReport report;
  std::set<std::string> used;
  NoGradGuard ng;
  for (auto& [name, t] : state_dict()) {
    auto it = sd.find(name);
    if (it == sd.end()) {
      report.missing.push_back(name);
      continue;
    }
    used.insert(name);
    const Tensor& src = it->second;
    if (src.shape() != t.shape())
      fail("load_state_dict: shape mismatch for '" + name + "': the checkpoint has " + shape_str(src.shape()) +
           ", the model expects " + shape_str(t.shape()));
    copy_(t, src.to(t.device()));
  }
  for (auto& [name, _] : sd)
    if (!used.count(name)) report.unexpected.push_back(name);
  if (strict && !report.ok()) fail("load_state_dict: " + report.str());
  return report;
}

}  // namespace bertlab::nn
