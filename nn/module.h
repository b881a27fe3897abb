// nn/module.h — Module: a tree of named parameters and submodules.
//
// Follows the PyTorch C++ frontend (torch/nn/module.h): a layer registers its parameters and
// children by name in insertion order, and the dotted path of names is the parameter's name
// (`encoder.layer.0.attention.self.query.weight`). Those are Hugging Face's checkpoint keys,
// so loading a checkpoint is a name lookup, not a table of renames.
//
//   struct Mlp : Module {
//     std::shared_ptr<Linear> fc1, fc2;
//     Mlp() { fc1 = register_module("fc1", std::make_shared<Linear>(4, 8));
//             fc2 = register_module("fc2", std::make_shared<Linear>(8, 2)); }
//     Tensor forward(const Tensor& x) { return fc2->forward(relu(fc1->forward(x))); }
//   };
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace bertlab::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// What load_state_dict found: keys the module has but the dict lacks, and the reverse.
struct LoadReport {
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  bool ok() const { return missing.empty() && unexpected.empty(); }
  std::string str() const;  // "missing: a, b; unexpected: c"
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  virtual ~Module() = default;

  // Registration (in insertion order). A parameter is a float tensor that requires grad.
  Tensor& register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // A tensor that belongs to the module's state but is not trained (moved by to(), saved in
  // state_dict only when `persistent`).
  Tensor& register_buffer(const std::string& name, Tensor t, bool persistent = false);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // Every parameter with its dotted name, depth first in registration order. A tensor
  // registered twice (tied weights) is listed once, under its first name.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  // A submodule by dotted path ("encoder.layer.3"), or null.
  std::shared_ptr<Module> find_module(const std::string& path) const;

  // Parameter counts: all, or only those that require grad.
  int64_t num_parameters(bool trainable_only = false) const;
  // Stops training every parameter whose name starts with `prefix` (e.g. "bert.").
  // Returns how many tensors were frozen.
  int freeze(const std::string& prefix, bool frozen = true);

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves every parameter and buffer to `d` in place: the same Tensor handles (held by an
  // optimizer, or tied between modules) see the new storage.
  void to(Device d);
  // Converts every floating-point parameter and buffer to `t` in place (float32 <-> float64).
  void to(DType t);
  void zero_grad();

  // Name -> tensor for every parameter (tied ones under every name they have) and
  // persistent buffer.
  NamedTensors state_dict() const;
  // Copies values from `sd` into the module's tensors (by name; dtype converted, device
  // kept). A shape mismatch throws naming the key and both shapes; missing and unexpected
  // keys are reported (and thrown as an error when `strict`).
  LoadReport load_state_dict(const std::map<std::string, Tensor>& sd, bool strict = true);

 protected:
  virtual void on_train(bool) {}

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void collect(const std::string& prefix, NamedTensors& out, bool params, bool dedupe,
               bool persistent_only, std::vector<const TensorImpl*>& seen) const;

  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<bool> buffer_persistent_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Moves t's storage to device d in place (every handle to t sees it).
void move_to_device_(Tensor& t, Device d);
// Converts t to dtype in place (every handle to t sees it); drops its gradient.
void convert_dtype_(Tensor& t, DType dtype);

}  // namespace bertlab::nn
