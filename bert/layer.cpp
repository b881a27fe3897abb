// bert/layer.cpp — see layer.h.
#include "bert/layer.h"

#include "ops/ops.h"

namespace bertlab::bert {

Tensor activation(const std::string& name, const Tensor& x) {
  if (name == "gelu") return gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return gelu(x, GeluApprox::Tanh);
  if (name == "relu") return relu(x);
  fail("unknown activation '" + name + "'");
}

BertIntermediate::BertIntermediate(const BertConfig& c) : act(c.hidden_act) {
  dense = register_module("dense", std::make_shared<nn::Linear>(c.hidden_size, c.intermediate_size));
}
// With the exact GELU, one GEMM with the bias and GELU in its epilogue (linear_gelu); for
// inference under bfloat16 autocast its output is stored in bfloat16, which BertOutput's dense
// reads in place (the residual stream around it stays float32: docs/precision.md).
Tensor BertIntermediate::forward(const Tensor& h) const {
  if (act == "gelu") return linear_gelu(h, dense->weight, dense->bias, autocast_activation_dtype(h));
  return activation(act, dense->forward(h));
}

BertOutput::BertOutput(const BertConfig& c) {
  dense = register_module("dense", std::make_shared<nn::Linear>(c.intermediate_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.hidden_dropout_prob));
}
Tensor BertOutput::forward(const Tensor& inner, const Tensor& input) const {
  return LayerNorm->forward(input + dropout->forward(dense->forward(inner)));
}

BertLayer::BertLayer(const BertConfig& c) {
  attention = register_module("attention", std::make_shared<BertAttention>(c));
  intermediate = register_module("intermediate", std::make_shared<BertIntermediate>(c));
  output = register_module("output", std::make_shared<BertOutput>(c));
}
Tensor BertLayer::forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs) const {
  Tensor a = attention->forward(hidden, mask_bias, probs);
  return output->forward(intermediate->forward(a), a);
}

}  // namespace bertlab::bert
