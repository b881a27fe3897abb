// bert/distilbert/model.h — DistilBERT (Sanh et al. 2019) and its heads, as transformers'
// DistilBert* classes, with their parameter names, so Hugging Face checkpoints load by name:
//
//   h_0 = LayerNorm(word_embeddings(ids) + position_embeddings(0..T-1))   no token types
//   per layer (post-LN, as BERT):
//     a = sa_layer_norm(h + out_lin(attention(q_lin h, k_lin h, v_lin h)))
//     h = output_layer_norm(a + dropout(lin2(act(lin1 a))))
//
//   DistilBertForMaskedLM               vocab_projector(vocab_layer_norm(act(vocab_transform h))),
//                                       the projector's weight tied to the word embeddings
//   DistilBertForSequenceClassification classifier(dropout(relu(pre_classifier(h[:, 0])))), no pooler
//   DistilBertForTokenClassification    classifier(dropout(h))
//   DistilBertForQuestionAnswering      qa_outputs(dropout(h)) split into start and end logits
//
// The attention and the losses are BERT's (bert/attention.h, bert/heads.h); the inputs and
// outputs are BERT's structs (token_type_ids are ignored: DistilBERT has none).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bert/distilbert/config.h"
#include "bert/heads.h"

namespace bertlab::bert {

class DistilBertEmbeddings : public nn::Module {
 public:
  explicit DistilBertEmbeddings(const DistilBertConfig& c);
  Tensor forward(const Tensor& input_ids) const;  // (B,T) -> (B,T,dim)
  std::shared_ptr<nn::Embedding> word_embeddings, position_embeddings;
  std::shared_ptr<nn::LayerNorm> LayerNorm;
  std::shared_ptr<nn::Dropout> dropout;
};

class DistilBertSelfAttention : public nn::Module {
 public:
  explicit DistilBertSelfAttention(const DistilBertConfig& c);
  Tensor forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs = nullptr) const;
  std::shared_ptr<nn::Linear> q_lin, k_lin, v_lin, out_lin;
  std::shared_ptr<nn::Dropout> dropout;  // on the attention probabilities
  int64_t heads;
};

class DistilBertFFN : public nn::Module {
 public:
  explicit DistilBertFFN(const DistilBertConfig& c);
  Tensor forward(const Tensor& x) const;  // dropout(lin2(act(lin1 x)))
  std::shared_ptr<nn::Linear> lin1, lin2;
  std::shared_ptr<nn::Dropout> dropout;
  std::string act;
};

class DistilBertBlock : public nn::Module {  // transformers' TransformerBlock
 public:
  explicit DistilBertBlock(const DistilBertConfig& c);
  Tensor forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs = nullptr) const;
  std::shared_ptr<DistilBertSelfAttention> attention;
  std::shared_ptr<nn::LayerNorm> sa_layer_norm, output_layer_norm;
  std::shared_ptr<DistilBertFFN> ffn;
};

class DistilBertModel : public nn::Module {
 public:
  explicit DistilBertModel(const DistilBertConfig& c);
  // input_ids (B,T) int64; attention_mask (B,T) 1 = token, 0 = padding (undefined: all 1).
  BertOutputs forward(const Tensor& input_ids, const Tensor& attention_mask = Tensor(),
                      const ForwardOptions& opt = {}) const;
  DistilBertConfig config;
  std::shared_ptr<DistilBertEmbeddings> embeddings;
  std::shared_ptr<nn::Module> transformer;
  std::shared_ptr<nn::ModuleList<DistilBertBlock>> layer;  // transformer.layer
};

// DistilBERT's initialisation (transformers' DistilBertPreTrainedModel._init_weights): BERT's,
// then the sinusoidal position table when the config asks for it.
void init_distilbert_weights(nn::Module& m, const DistilBertConfig& c, Generator& g);
// The fixed table: row p, column j = sin(p / 10000^(2(j/2)/dim)) for even j, cos(...) for odd j.
Tensor sinusoidal_positions(int64_t positions, int64_t dim);

// The common base of the heads: a `distilbert` DistilBertModel plus a head. `config` (the
// base's) holds the shared fields, `distil` DistilBERT's own; config_json() joins them.
class DistilBertPreTrainedModel : public PreTrainedModel {
 public:
  DistilBertPreTrainedModel(const DistilBertConfig& c, Task task);
  void init_weights(Generator& g) override;
  nlohmann::json config_json() const override;
  std::string encoder_name() const override { return "distilbert"; }
  std::string class_name() const override;
  DistilBertConfig full_config() const;  // distil with config as its shared part

  DistilBertConfig distil;
  std::shared_ptr<DistilBertModel> distilbert;

 protected:
  BertOutputs encode(const BertInputs& in, const ForwardOptions& opt) const;  // checks the inputs
};

class DistilBertForMaskedLM : public DistilBertPreTrainedModel {
 public:
  explicit DistilBertForMaskedLM(const DistilBertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::vector<std::string> tied_names() const override {
    return distil.tie_word_embeddings ? std::vector<std::string>{"vocab_projector.weight"} : std::vector<std::string>{};
  }
  std::shared_ptr<nn::Linear> vocab_transform;
  std::shared_ptr<nn::LayerNorm> vocab_layer_norm;
  std::shared_ptr<nn::Module> vocab_projector;  // weight: the word embeddings (tied); bias
  Tensor projector_weight, projector_bias;
};

class DistilBertForSequenceClassification : public DistilBertPreTrainedModel {
 public:
  explicit DistilBertForSequenceClassification(const DistilBertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Linear> pre_classifier, classifier;
  std::shared_ptr<nn::Dropout> dropout;
};

class DistilBertForTokenClassification : public DistilBertPreTrainedModel {
 public:
  explicit DistilBertForTokenClassification(const DistilBertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
};

class DistilBertForQuestionAnswering : public DistilBertPreTrainedModel {
 public:
  explicit DistilBertForQuestionAnswering(const DistilBertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> qa_outputs;
};

struct LoadInfo;  // bert/checkpoint.h

// A head model from a folder (config.json of model_type "distilbert" + model.safetensors).
// Keys load with or without the "distilbert." prefix; every weight must be in the file,
// except, with `new_head`, the head's own (initialised from `seed`, listed in info).
// `num_labels` > 0 overrides the config's. (bert/checkpoint.h's from_pretrained and
// save_pretrained take every family's folder; this is the DistilBERT half of the first.)
std::shared_ptr<DistilBertPreTrainedModel> distilbert_from_pretrained(const std::string& dir, Task task,
                                                                      LoadInfo* info = nullptr, bool new_head = false,
                                                                      uint64_t seed = 0, int64_t num_labels = 0);

// The class for a task (PreTraining and NextSentence do not exist for DistilBERT: an error).
std::shared_ptr<DistilBertPreTrainedModel> make_distilbert(Task task, const DistilBertConfig& c);
const char* distilbert_class_name(Task t);

}  // namespace bertlab::bert
