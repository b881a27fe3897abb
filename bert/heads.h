// bert/heads.h — BertModel with task heads, as transformers' Bert* classes, with their
// parameter names (so Hugging Face checkpoints load by name) and their losses:
//
//   BertForPreTraining                  MLM logits (B,T,V) + NSP logits (B,2); loss = MLM CE + NSP CE
//   BertForMaskedLM                     MLM logits; CE over labels != -100
//   BertForNextSentencePrediction       NSP logits (B,2) from the pooled [CLS]
//   BertForSequenceClassification       logits (B,L) from dropout(pooled); CE, or MSE when L = 1
//   BertForTokenClassification          logits (B,T,L) from dropout(hidden); CE over labels != -100
//   BertForQuestionAnswering            start/end logits (B,T); loss = (CE(start) + CE(end)) / 2,
//                                       positions clamped to [0, T] and T ignored
//
// The MLM decoder's weight is the word-embedding matrix itself (tied), and its bias is
// cls.predictions.bias.
#pragma once

#include <memory>
#include <string>

#include "bert/model.h"

namespace bertlab::bert {

// What a forward pass takes. Undefined tensors are absent (labels absent: no loss).
struct BertInputs {
  Tensor input_ids;            // (B,T) int64
  Tensor attention_mask;       // (B,T)
  Tensor token_type_ids;       // (B,T)
  Tensor labels;               // MLM / token: (B,T); sequence: (B) (int64, or float for regression)
  Tensor next_sentence_label;  // (B) for pre-training / NSP
  Tensor start_positions, end_positions;  // (B) for question answering
};

struct ModelOutput {
  Tensor loss;                     // () when labels were given
  Tensor logits;                   // the head's main output (MLM: (B,T,V), NSP/seq: (B,L), token: (B,T,L))
  Tensor seq_relationship_logits;  // pre-training: (B,2)
  Tensor start_logits, end_logits; // question answering: (B,T)
  Tensor mlm_loss, nsp_loss;       // pre-training: the two parts of `loss`
  BertOutputs bert;                // hidden states (and attentions when asked)
};

enum class Task { PreTraining, MaskedLM, NextSentence, SequenceClassification, TokenClassification, QuestionAnswering };
const char* task_class_name(Task t);                // "BertForPreTraining", ...
Task task_from_class_name(const std::string& name); // throws for an unknown name
// Whether a saved architecture ("BertForSequenceClassification", "DistilBertFor...") is the
// head of `task`, in any family.
bool is_head_of(const std::string& architecture, Task task);

// What every family's head model is (BERT's here, DistilBERT's in bert/distilbert/): the
// training loop, evaluation and the pipelines take this, whatever the family.
class PreTrainedModel : public nn::Module {
 public:
  PreTrainedModel(const BertConfig& c, Task t) : config(c), task(t) {}
  virtual ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const = 0;
  // Re-initialises every weight as the family does (normal(0, initializer_range), ...).
  virtual void init_weights(Generator& g) = 0;
  // Names of parameters that are other parameters under a second name (tied), which
  // checkpoints may omit: {"cls.predictions.decoder.weight", ...}.
  virtual std::vector<std::string> tied_names() const { return {}; }
  // config.json as the family writes it (its model_type and key names).
  virtual nlohmann::json config_json() const { return config.to_json(); }
  // The encoder's name inside the head model ("bert", "distilbert"), and the class name.
  virtual std::string encoder_name() const = 0;
  virtual std::string class_name() const = 0;

  // The sizes, labels and problem type every family has, under BERT's names (a family's own
  // fields are its class's).
  BertConfig config;
  Task task;
};

// The common base of BERT's heads: a `bert` BertModel plus a head.
class BertPreTrainedModel : public PreTrainedModel {
 public:
  BertPreTrainedModel(const BertConfig& c, Task task, bool add_pooling_layer);
  void init_weights(Generator& g) override;
  std::string encoder_name() const override { return "bert"; }
  std::string class_name() const override { return task_class_name(task); }

  std::shared_ptr<BertModel> bert;
};

// transform: dense -> act -> LayerNorm; decoder: tied embedding matrix + bias
class BertLMPredictionHead : public nn::Module {
 public:
  BertLMPredictionHead(const BertConfig& c, const Tensor& word_embeddings);
  Tensor forward(const Tensor& hidden) const;  // (B,T,C) -> (B,T,V)
  std::shared_ptr<nn::Module> transform, decoder;  // decoder holds the tied weight and bias
  std::shared_ptr<nn::Linear> transform_dense;
  std::shared_ptr<nn::LayerNorm> transform_norm;
  Tensor weight;  // (V,C): the word-embedding matrix
  Tensor bias;    // (V): cls.predictions.bias, also cls.predictions.decoder.bias
  std::string act;
};

std::shared_ptr<BertPreTrainedModel> make_model(Task task, const BertConfig& c);

// The heads' losses, shared by every family (bert/distilbert/ too):
// sequence classification: MSE when problem_type is "regression" (or empty with one label),
// else cross-entropy; logits (B,L), labels (B)
Tensor sequence_classification_loss(const Tensor& logits, const Tensor& labels, const std::string& problem_type);
// token classification: cross-entropy over labels != -100; labels shaped as input_ids (B,T)
Tensor token_classification_loss(const Tensor& logits, const Tensor& labels, const Tensor& input_ids);
// question answering: (CE(start) + CE(end)) / 2, positions clamped to [0, T] and T ignored
Tensor span_loss(const Tensor& start_logits, const Tensor& end_logits, const Tensor& start_positions,
                 const Tensor& end_positions);
// masked LM: cross-entropy over labels != -100; logits (B,T,V), labels (B,T)
Tensor masked_lm_loss(const Tensor& logits, const Tensor& labels);

class BertForPreTraining : public BertPreTrainedModel {
 public:
  explicit BertForPreTraining(const BertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::vector<std::string> tied_names() const override;
  std::shared_ptr<nn::Module> cls;
  std::shared_ptr<BertLMPredictionHead> predictions;
  std::shared_ptr<nn::Linear> seq_relationship;
};

class BertForMaskedLM : public BertPreTrainedModel {
 public:
  explicit BertForMaskedLM(const BertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::vector<std::string> tied_names() const override;
  std::shared_ptr<nn::Module> cls;
  std::shared_ptr<BertLMPredictionHead> predictions;
};

class BertForNextSentencePrediction : public BertPreTrainedModel {
 public:
  explicit BertForNextSentencePrediction(const BertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Module> cls;
  std::shared_ptr<nn::Linear> seq_relationship;
};

class BertForSequenceClassification : public BertPreTrainedModel {
 public:
  explicit BertForSequenceClassification(const BertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
};

class BertForTokenClassification : public BertPreTrainedModel {
 public:
  explicit BertForTokenClassification(const BertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
};

class BertForQuestionAnswering : public BertPreTrainedModel {
 public:
  explicit BertForQuestionAnswering(const BertConfig& c);
  ModelOutput forward(const BertInputs& in, const ForwardOptions& opt = {}) const override;
  std::shared_ptr<nn::Linear> qa_outputs;
};

}  // namespace bertlab::bert
