// bert/model.cpp — see model.h.
#include "bert/model.h"

#include <limits>

#include "autograd/graph.h"
#include "ops/ops.h"

namespace bertlab::bert {

Tensor attention_mask_bias(const Tensor& mask, DType dtype) {
  if (mask.dim() != 2) fail("attention_mask must be (batch, seq_len), got " + shape_str(mask.shape()));
  const double lowest = dtype == DType::Float64 ? std::numeric_limits<double>::lowest()
                                                : (double)std::numeric_limits<float>::lowest();
  Tensor m = mask.to(dtype);
  return reshape(rsub(1.0, m) * lowest, {mask.size(0), 1, 1, mask.size(1)});
}

// True when a CPU mask keeps every position (no padding): its bias would be all zeros, and
// adding zeros to every attention score changes nothing, so the encoder skips it (as
// transformers drops such a mask for SDPA). Not on CUDA: reading the mask would synchronise.
static bool keeps_every_position(const Tensor& mask) {
  if (mask.device() != Device::CPU) return false;
  Tensor m = mask.to(DType::Float64).contiguous();
  const double* p = m.data<double>();
  for (int64_t i = 0, n = m.numel(); i < n; ++i)
    if (p[i] != 1.0) return false;
  return true;
}

BertEncoder::BertEncoder(const BertConfig& c) {
  layer = register_module("layer", std::make_shared<nn::ModuleList<BertLayer>>());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(std::make_shared<BertLayer>(c));
}

BertPooler::BertPooler(const BertConfig& c) {
  dense = register_module("dense", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
}
Tensor BertPooler::forward(const Tensor& hidden) const { return tanh(dense->forward(select(hidden, 1, 0))); }

BertModel::BertModel(const BertConfig& c, bool add_pooling_layer) : config(c) {
  c.validate();
  embeddings = register_module("embeddings", std::make_shared<BertEmbeddings>(c));
  encoder = register_module("encoder", std::make_shared<BertEncoder>(c));
  if (add_pooling_layer) pooler = register_module("pooler", std::make_shared<BertPooler>(c));
}

BertOutputs BertModel::forward(const Tensor& input_ids, const Tensor& attention_mask, const Tensor& token_type_ids,
                               const ForwardOptions& opt) const {
  if (input_ids.dtype() != DType::Int64)
    fail(std::string("BertModel: input_ids must be int64, got ") + dtype_name(input_ids.dtype()));
  BertOutputs out;
  Tensor h = embeddings->forward(input_ids, token_type_ids);
  Tensor bias;
  if (attention_mask.defined()) {
    if (attention_mask.shape() != input_ids.shape())
      fail("BertModel: attention_mask " + shape_str(attention_mask.shape()) + " does not match input_ids " +
           shape_str(input_ids.shape()));
    if (!keeps_every_position(attention_mask)) bias = attention_mask_bias(attention_mask, h.dtype());
  }
  if (opt.output_hidden_states) out.hidden_states.push_back(h);
  for (const auto& layer : *encoder->layer) {
    Tensor probs;
    h = layer->forward(h, bias, opt.output_attentions ? &probs : nullptr);
    if (opt.output_hidden_states) out.hidden_states.push_back(h);
    if (opt.output_attentions) out.attentions.push_back(probs);
  }
  out.last_hidden_state = h;
  if (pooler) out.pooler_output = pooler->forward(h);
  return out;
}

static void init_rec(nn::Module& m, double std, Generator& g) {
  NoGradGuard ng;
  if (auto* lin = dynamic_cast<nn::Linear*>(&m)) {
    normal_(lin->weight, g, 0.0, std);
    if (lin->bias.defined()) fill_(lin->bias, 0.0);
  } else if (auto* emb = dynamic_cast<nn::Embedding*>(&m)) {
    normal_(emb->weight, g, 0.0, std);
    if (emb->padding_idx >= 0) fill_(select(emb->weight, 0, emb->padding_idx), 0.0);  // as transformers
  } else if (auto* ln = dynamic_cast<nn::LayerNorm*>(&m)) {
    fill_(ln->weight, 1.0);
    fill_(ln->bias, 0.0);
  }
  for (auto& [_, child] : m.children()) init_rec(*child, std, g);
}

void init_bert_weights(nn::Module& m, double initializer_range, Generator& g) { init_rec(m, initializer_range, g); }

}  // namespace bertlab::bert
