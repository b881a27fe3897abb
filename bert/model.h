// bert/model.h — BertModel: embeddings, a stack of encoder layers, and the pooler
// (transformers' BertModel; Devlin et al. 2019).
//
//   h_0 = embeddings(input_ids, token_type_ids)                (B,T,C)
//   h_l = layer_l(h_{l-1}, mask_bias)                          l = 1..L
//   pooled = tanh(pooler.dense(h_L[:, 0]))                     (B,C), the [CLS] position
#pragma once

#include <vector>

#include "bert/embeddings.h"
#include "bert/layer.h"

namespace bertlab::bert {

struct BertOutputs {
  Tensor last_hidden_state;            // (B,T,C)
  Tensor pooler_output;                // (B,C), undefined without a pooler
  std::vector<Tensor> hidden_states;   // L+1 tensors (embeddings first), when asked
  std::vector<Tensor> attentions;      // L tensors (B,H,T,T), when asked
};

struct ForwardOptions {
  bool output_hidden_states = false;
  bool output_attentions = false;
};

// (1 - mask) * lowest(dtype), shaped (B,1,1,T) to broadcast over heads and query positions.
Tensor attention_mask_bias(const Tensor& attention_mask, DType dtype);

class BertEncoder : public nn::Module {
 public:
  explicit BertEncoder(const BertConfig& c);
  std::shared_ptr<nn::ModuleList<BertLayer>> layer;
};

class BertPooler : public nn::Module {
 public:
  explicit BertPooler(const BertConfig& c);
  Tensor forward(const Tensor& hidden) const;  // (B,T,C) -> (B,C)
  std::shared_ptr<nn::Linear> dense;
};

class BertModel : public nn::Module {
 public:
  explicit BertModel(const BertConfig& c, bool add_pooling_layer = true);
  // input_ids (B,T) int64; attention_mask (B,T) 1 = token, 0 = padding (undefined: all 1);
  // token_type_ids (B,T) (undefined: all 0).
  BertOutputs forward(const Tensor& input_ids, const Tensor& attention_mask = Tensor(),
                      const Tensor& token_type_ids = Tensor(), const ForwardOptions& opt = {}) const;

  BertConfig config;
  std::shared_ptr<BertEmbeddings> embeddings;
  std::shared_ptr<BertEncoder> encoder;
  std::shared_ptr<BertPooler> pooler;  // null without a pooling layer
};

// BERT's initialisation (transformers' BertPreTrainedModel._init_weights): every Linear and
// Embedding weight ~ N(0, initializer_range), biases 0, LayerNorm weight 1 and bias 0.
// Applied to every submodule of m, drawing from g.
void init_bert_weights(nn::Module& m, double initializer_range, Generator& g);

}  // namespace bertlab::bert
