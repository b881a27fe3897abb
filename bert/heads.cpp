// bert/heads.cpp — see heads.h.
#include "bert/heads.h"

#include "ops/loss.h"
#include "ops/ops.h"

namespace bertlab::bert {

const char* task_class_name(Task t) {
  switch (t) {
    case Task::PreTraining: return "BertForPreTraining";
    case Task::MaskedLM: return "BertForMaskedLM";
    case Task::NextSentence: return "BertForNextSentencePrediction";
    case Task::SequenceClassification: return "BertForSequenceClassification";
    case Task::TokenClassification: return "BertForTokenClassification";
    case Task::QuestionAnswering: return "BertForQuestionAnswering";
  }
  return "?";
}

Task task_from_class_name(const std::string& name) {
  for (Task t : {Task::PreTraining, Task::MaskedLM, Task::NextSentence, Task::SequenceClassification,
                 Task::TokenClassification, Task::QuestionAnswering})
    if (name == task_class_name(t)) return t;
  fail("unknown model class '" + name + "'");
}

bool is_head_of(const std::string& arch, Task task) {
  const std::string head = std::string(task_class_name(task)).substr(4);  // "ForSequenceClassification"
  return arch == "Bert" + head || arch == "DistilBert" + head;
}

BertPreTrainedModel::BertPreTrainedModel(const BertConfig& c, Task t, bool pooler) : PreTrainedModel(c, t) {
  config.architectures = {task_class_name(t)};
  bert = register_module("bert", std::make_shared<BertModel>(c, pooler));
}

void BertPreTrainedModel::init_weights(Generator& g) { init_bert_weights(*this, config.initializer_range, g); }

// ---------------------------------------------------------------------------------------

BertLMPredictionHead::BertLMPredictionHead(const BertConfig& c, const Tensor& word_embeddings) : act(c.hidden_act) {
  transform = register_module("transform", std::make_shared<nn::Module>());
  transform_dense = transform->register_module("dense", std::make_shared<nn::Linear>(c.hidden_size, c.hidden_size));
  transform_norm =
      transform->register_module("LayerNorm", std::make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  decoder = register_module("decoder", std::make_shared<nn::Module>());
  weight = decoder->register_parameter("weight", word_embeddings);  // tied
  bias = register_parameter("bias", zeros({c.vocab_size}));
  decoder->register_parameter("bias", bias);                          // tied
}

Tensor BertLMPredictionHead::forward(const Tensor& hidden) const {
  Tensor h = transform_norm->forward(activation(act, transform_dense->forward(hidden)));
  return linear(h, weight, bias);
}

static std::vector<std::string> mlm_tied() {
  return {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"};
}

Tensor masked_lm_loss(const Tensor& logits, const Tensor& labels) {
  if (labels.shape() != Shape(logits.shape().begin(), logits.shape().end() - 1))
    fail("masked-LM labels " + shape_str(labels.shape()) + " do not match input_ids " +
         shape_str(Shape(logits.shape().begin(), logits.shape().end() - 1)));
  return cross_entropy(logits, labels, -100);
}

// ---------------------------------------------------------------------------------------

BertForPreTraining::BertForPreTraining(const BertConfig& c) : BertPreTrainedModel(c, Task::PreTraining, true) {
  cls = register_module("cls", std::make_shared<nn::Module>());
  predictions = cls->register_module(
      "predictions", std::make_shared<BertLMPredictionHead>(c, bert->embeddings->word_embeddings->weight));
  seq_relationship = cls->register_module("seq_relationship", std::make_shared<nn::Linear>(c.hidden_size, 2));
}
std::vector<std::string> BertForPreTraining::tied_names() const { return mlm_tied(); }

ModelOutput BertForPreTraining::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = bert->forward(in.input_ids, in.attention_mask, in.token_type_ids, opt);
  o.logits = predictions->forward(o.bert.last_hidden_state);
  o.seq_relationship_logits = seq_relationship->forward(o.bert.pooler_output);
  if (in.labels.defined() && in.next_sentence_label.defined()) {
    o.mlm_loss = masked_lm_loss(o.logits, in.labels);
    o.nsp_loss = cross_entropy(o.seq_relationship_logits, in.next_sentence_label);
    o.loss = o.mlm_loss + o.nsp_loss;
  }
  return o;
}

BertForMaskedLM::BertForMaskedLM(const BertConfig& c) : BertPreTrainedModel(c, Task::MaskedLM, false) {
  cls = register_module("cls", std::make_shared<nn::Module>());
  predictions = cls->register_module(
      "predictions", std::make_shared<BertLMPredictionHead>(c, bert->embeddings->word_embeddings->weight));
}
std::vector<std::string> BertForMaskedLM::tied_names() const { return mlm_tied(); }

ModelOutput BertForMaskedLM::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = bert->forward(in.input_ids, in.attention_mask, in.token_type_ids, opt);
  o.logits = predictions->forward(o.bert.last_hidden_state);
  if (in.labels.defined()) o.loss = masked_lm_loss(o.logits, in.labels);
  return o;
}

BertForNextSentencePrediction::BertForNextSentencePrediction(const BertConfig& c)
    : BertPreTrainedModel(c, Task::NextSentence, true) {
  cls = register_module("cls", std::make_shared<nn::Module>());
  seq_relationship = cls->register_module("seq_relationship", std::make_shared<nn::Linear>(c.hidden_size, 2));
}

ModelOutput BertForNextSentencePrediction::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = bert->forward(in.input_ids, in.attention_mask, in.token_type_ids, opt);
  o.logits = seq_relationship->forward(o.bert.pooler_output);
  if (in.next_sentence_label.defined()) o.loss = cross_entropy(o.logits, in.next_sentence_label);
  return o;
}

static double classifier_dropout(const BertConfig& c) {
  return c.classifier_dropout ? *c.classifier_dropout : c.hidden_dropout_prob;
}

BertForSequenceClassification::BertForSequenceClassification(const BertConfig& c)
    : BertPreTrainedModel(c, Task::SequenceClassification, true) {
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(classifier_dropout(c)));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(c.hidden_size, c.num_labels()));
}

ModelOutput BertForSequenceClassification::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = bert->forward(in.input_ids, in.attention_mask, in.token_type_ids, opt);
  o.logits = classifier->forward(dropout->forward(o.bert.pooler_output));  // (B,L)
  if (in.labels.defined()) o.loss = sequence_classification_loss(o.logits, in.labels, config.problem_type);
  return o;
}

Tensor sequence_classification_loss(const Tensor& logits, const Tensor& labels, const std::string& problem_type) {
  const int64_t B = logits.size(0), L = logits.size(1);
  if (labels.dim() != 1 || labels.size(0) != B)
    fail("sequence classification: labels must be (" + std::to_string(B) + "), got " + shape_str(labels.shape()));
  const bool regression = problem_type == "regression" || (problem_type.empty() && L == 1);
  if (regression) return mse_loss(reshape(logits, {B}), labels.to(logits.dtype()));
  return cross_entropy(logits, labels);
}

BertForTokenClassification::BertForTokenClassification(const BertConfig& c)
    : BertPreTrainedModel(c, Task::TokenClassification, false) {
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(classifier_dropout(c)));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(c.hidden_size, c.num_labels()));
}

ModelOutput BertForTokenClassification::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = bert->forward(in.input_ids, in.attention_mask, in.token_type_ids, opt);
  o.logits = classifier->forward(dropout->forward(o.bert.last_hidden_state));  // (B,T,L)
  if (in.labels.defined()) o.loss = token_classification_loss(o.logits, in.labels, in.input_ids);
  return o;
}

Tensor token_classification_loss(const Tensor& logits, const Tensor& labels, const Tensor& input_ids) {
  if (labels.shape() != input_ids.shape())
    fail("token classification: labels " + shape_str(labels.shape()) + " do not match input_ids " +
         shape_str(input_ids.shape()));
  return cross_entropy(logits, labels, -100);
}

BertForQuestionAnswering::BertForQuestionAnswering(const BertConfig& c)
    : BertPreTrainedModel(c, Task::QuestionAnswering, false) {
  if (c.num_labels() != 2)  // transformers builds qa_outputs with num_labels outputs and splits them in two
    fail("BertForQuestionAnswering needs num_labels = 2 (start and end), the config has " +
         std::to_string(c.num_labels()));
  qa_outputs = register_module("qa_outputs", std::make_shared<nn::Linear>(c.hidden_size, 2));
}

ModelOutput BertForQuestionAnswering::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = bert->forward(in.input_ids, in.attention_mask, in.token_type_ids, opt);
  Tensor logits = qa_outputs->forward(o.bert.last_hidden_state);  // (B,T,2)
  o.start_logits = select(logits, 2, 0);
  o.end_logits = select(logits, 2, 1);
  if (in.start_positions.defined() && in.end_positions.defined())
    o.loss = span_loss(o.start_logits, o.end_logits, in.start_positions, in.end_positions);
  return o;
}

Tensor span_loss(const Tensor& start_logits, const Tensor& end_logits, const Tensor& start_positions,
                 const Tensor& end_positions) {
  const int64_t T = start_logits.size(1);
  // positions outside the sequence are clamped to [0, T] and T is ignored, as transformers
  // does; on the positions' own device (no copy to the host, so no wait for the GPU)
  auto clamp_pos = [T](const Tensor& p) { return clamp(p, 0.0, (double)T); };
  Tensor s = clamp_pos(start_positions), e = clamp_pos(end_positions);
  return (cross_entropy(start_logits, s, T) + cross_entropy(end_logits, e, T)) * 0.5;
}

std::shared_ptr<BertPreTrainedModel> make_model(Task task, const BertConfig& c) {
  switch (task) {
    case Task::PreTraining: return std::make_shared<BertForPreTraining>(c);
    case Task::MaskedLM: return std::make_shared<BertForMaskedLM>(c);
    case Task::NextSentence: return std::make_shared<BertForNextSentencePrediction>(c);
    case Task::SequenceClassification: return std::make_shared<BertForSequenceClassification>(c);
    case Task::TokenClassification: return std::make_shared<BertForTokenClassification>(c);
    case Task::QuestionAnswering: return std::make_shared<BertForQuestionAnswering>(c);
  }
  fail("make_model: unknown task");
}

}  // namespace bertlab::bert
