// bert/distilbert/model.cpp — see model.h.
#include "bert/distilbert/model.h"

#include <cmath>

#include <algorithm>
#include <filesystem>

#include "bert/checkpoint.h"
#include "bert/layer.h"  // activation()
#include "bert/safetensors.h"
#include "ops/ops.h"

namespace bertlab::bert {

DistilBertEmbeddings::DistilBertEmbeddings(const DistilBertConfig& c) {
  const BertConfig& s = c.shared;
  word_embeddings = register_module(
      "word_embeddings", std::make_shared<nn::Embedding>(s.vocab_size, s.hidden_size, default_generator(),
                                                         s.pad_token_id < s.vocab_size ? s.pad_token_id : -1));
  position_embeddings =
      register_module("position_embeddings", std::make_shared<nn::Embedding>(s.max_position_embeddings, s.hidden_size));
  LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(s.hidden_size, 1e-12));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(s.hidden_dropout_prob));
}

Tensor DistilBertEmbeddings::forward(const Tensor& input_ids) const {
  if (!input_ids.defined() || input_ids.dim() != 2)
    fail("DistilBertEmbeddings: input_ids must be (batch, seq_len), got " +
         (input_ids.defined() ? shape_str(input_ids.shape()) : std::string("undefined")));
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  if (T > position_embeddings->weight.size(0))
    fail("DistilBertEmbeddings: sequence length " + std::to_string(T) + " exceeds max_position_embeddings " +
         std::to_string(position_embeddings->weight.size(0)));
  Tensor pos = expand(reshape(arange(T, DType::Int64, input_ids.device()), {1, T}), {B, T});
  return dropout->forward(LayerNorm->forward(word_embeddings->forward(input_ids) + position_embeddings->forward(pos)));
}

DistilBertSelfAttention::DistilBertSelfAttention(const DistilBertConfig& c) : heads(c.shared.num_attention_heads) {
  const int64_t d = c.shared.hidden_size;
  q_lin = register_module("q_lin", std::make_shared<nn::Linear>(d, d));
  k_lin = register_module("k_lin", std::make_shared<nn::Linear>(d, d));
  v_lin = register_module("v_lin", std::make_shared<nn::Linear>(d, d));
  out_lin = register_module("out_lin", std::make_shared<nn::Linear>(d, d));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.shared.attention_probs_dropout_prob));
}

Tensor DistilBertSelfAttention::forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs) const {
  const Tensor x = autocast_operand(hidden);  // one bfloat16 copy for the three under autocast
  return out_lin->forward(
      multi_head_attention(q_lin->forward(x), k_lin->forward(x), v_lin->forward(x), mask_bias, heads, *dropout, probs));
}

DistilBertFFN::DistilBertFFN(const DistilBertConfig& c) : act(c.shared.hidden_act) {
  lin1 = register_module("lin1", std::make_shared<nn::Linear>(c.shared.hidden_size, c.shared.intermediate_size));
  lin2 = register_module("lin2", std::make_shared<nn::Linear>(c.shared.intermediate_size, c.shared.hidden_size));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.shared.hidden_dropout_prob));
}

Tensor DistilBertFFN::forward(const Tensor& x) const {
  Tensor inner = act == "gelu" ? linear_gelu(x, lin1->weight, lin1->bias, autocast_activation_dtype(x))
                               : activation(act, lin1->forward(x));
  return dropout->forward(lin2->forward(inner));
}

DistilBertBlock::DistilBertBlock(const DistilBertConfig& c) {
  attention = register_module("attention", std::make_shared<DistilBertSelfAttention>(c));
  sa_layer_norm = register_module("sa_layer_norm", std::make_shared<nn::LayerNorm>(c.shared.hidden_size, 1e-12));
  ffn = register_module("ffn", std::make_shared<DistilBertFFN>(c));
  output_layer_norm = register_module("output_layer_norm", std::make_shared<nn::LayerNorm>(c.shared.hidden_size, 1e-12));
}

Tensor DistilBertBlock::forward(const Tensor& hidden, const Tensor& mask_bias, Tensor* probs) const {
  Tensor a = sa_layer_norm->forward(attention->forward(hidden, mask_bias, probs) + hidden);
  return output_layer_norm->forward(ffn->forward(a) + a);
}

DistilBertModel::DistilBertModel(const DistilBertConfig& c) : config(c) {
  embeddings = register_module("embeddings", std::make_shared<DistilBertEmbeddings>(c));
  transformer = register_module("transformer", std::make_shared<nn::Module>());
  layer = transformer->register_module("layer", std::make_shared<nn::ModuleList<DistilBertBlock>>());
  for (int64_t i = 0; i < c.shared.num_hidden_layers; ++i) layer->push_back(std::make_shared<DistilBertBlock>(c));
  if (c.sinusoidal_pos_embds) {  // fixed, not trained
    NoGradGuard ng;
    copy_(embeddings->position_embeddings->weight,
          sinusoidal_positions(c.shared.max_position_embeddings, c.shared.hidden_size));
    embeddings->position_embeddings->weight.set_requires_grad(false);
  }
}

BertOutputs DistilBertModel::forward(const Tensor& input_ids, const Tensor& attention_mask,
                                     const ForwardOptions& opt) const {
  BertOutputs out;
  Tensor h = embeddings->forward(input_ids);
  Tensor bias;
  if (attention_mask.defined()) {
    if (attention_mask.shape() != input_ids.shape())
      fail("DistilBertModel: attention_mask " + shape_str(attention_mask.shape()) + " does not match input_ids " +
           shape_str(input_ids.shape()));
    bias = attention_mask_bias(attention_mask, h.dtype());
  }
  if (opt.output_hidden_states) out.hidden_states.push_back(h);
  for (const auto& block : *layer) {
    Tensor probs;
    h = block->forward(h, bias, opt.output_attentions ? &probs : nullptr);
    if (opt.output_hidden_states) out.hidden_states.push_back(h);
    if (opt.output_attentions) out.attentions.push_back(probs);
  }
  out.last_hidden_state = h;
  return out;
}

Tensor sinusoidal_positions(int64_t positions, int64_t dim) {
  Tensor t = zeros({positions, dim});
  float* p = t.data<float>();
  for (int64_t pos = 0; pos < positions; ++pos)
    for (int64_t j = 0; j < dim; ++j) {
      const double angle = (double)pos / std::pow(10000.0, 2.0 * (double)(j / 2) / (double)dim);
      p[pos * dim + j] = (float)(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return t;
}

void init_distilbert_weights(nn::Module& m, const DistilBertConfig& c, Generator& g) {
  init_bert_weights(m, c.shared.initializer_range, g);
  if (!c.sinusoidal_pos_embds) return;
  for (auto& [name, p] : m.named_parameters())
    if (name.ends_with("embeddings.position_embeddings.weight")) {
      NoGradGuard ng;
      copy_(p, sinusoidal_positions(p.size(0), p.size(1)).to(p.device()));
    }
}

// --- the heads -------------------------------------------------------------------------------

const char* distilbert_class_name(Task t) {
  switch (t) {
    case Task::MaskedLM: return "DistilBertForMaskedLM";
    case Task::SequenceClassification: return "DistilBertForSequenceClassification";
    case Task::TokenClassification: return "DistilBertForTokenClassification";
    case Task::QuestionAnswering: return "DistilBertForQuestionAnswering";
    case Task::PreTraining:
    case Task::NextSentence: break;
  }
  fail(std::string("DistilBERT has no ") + task_class_name(t) +
       " (no next-sentence head: it is trained by distillation and masked LM)");
}

DistilBertPreTrainedModel::DistilBertPreTrainedModel(const DistilBertConfig& c, Task t)
    : PreTrainedModel(c.shared, t), distil(c) {
  config.architectures = {distilbert_class_name(t)};
  distilbert = register_module("distilbert", std::make_shared<DistilBertModel>(c));
}

void DistilBertPreTrainedModel::init_weights(Generator& g) { init_distilbert_weights(*this, full_config(), g); }
std::string DistilBertPreTrainedModel::class_name() const { return distilbert_class_name(task); }
DistilBertConfig DistilBertPreTrainedModel::full_config() const {
  DistilBertConfig c = distil;
  c.shared = config;
  return c;
}
nlohmann::json DistilBertPreTrainedModel::config_json() const { return full_config().to_json(); }

// token_type_ids are not read: DistilBERT has no segment embeddings (a pair is told apart by
// its [SEP] alone), and its tokenizer does not return them.
BertOutputs DistilBertPreTrainedModel::encode(const BertInputs& in, const ForwardOptions& opt) const {
  return distilbert->forward(in.input_ids, in.attention_mask, opt);
}

DistilBertForMaskedLM::DistilBertForMaskedLM(const DistilBertConfig& c) : DistilBertPreTrainedModel(c, Task::MaskedLM) {
  const int64_t d = c.shared.hidden_size;
  vocab_transform = register_module("vocab_transform", std::make_shared<nn::Linear>(d, d));
  vocab_layer_norm = register_module("vocab_layer_norm", std::make_shared<nn::LayerNorm>(d, 1e-12));
  vocab_projector = register_module("vocab_projector", std::make_shared<nn::Module>());
  projector_weight = c.tie_word_embeddings
                         ? vocab_projector->register_parameter("weight", distilbert->embeddings->word_embeddings->weight)
                         : vocab_projector->register_parameter("weight", zeros({c.shared.vocab_size, d}));
  projector_bias = vocab_projector->register_parameter("bias", zeros({c.shared.vocab_size}));
}

ModelOutput DistilBertForMaskedLM::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = encode(in, opt);
  Tensor h = vocab_layer_norm->forward(activation(config.hidden_act, vocab_transform->forward(o.bert.last_hidden_state)));
  o.logits = linear(h, projector_weight, projector_bias);  // (B,T,V)
  if (in.labels.defined()) o.loss = masked_lm_loss(o.logits, in.labels);
  return o;
}

DistilBertForSequenceClassification::DistilBertForSequenceClassification(const DistilBertConfig& c)
    : DistilBertPreTrainedModel(c, Task::SequenceClassification) {
  const int64_t d = c.shared.hidden_size;
  pre_classifier = register_module("pre_classifier", std::make_shared<nn::Linear>(d, d));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(d, c.num_labels()));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.seq_classif_dropout));
}

ModelOutput DistilBertForSequenceClassification::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = encode(in, opt);
  Tensor first = select(o.bert.last_hidden_state, 1, 0);  // (B,dim): the [CLS] position
  o.logits = classifier->forward(dropout->forward(relu(pre_classifier->forward(first))));
  if (in.labels.defined()) o.loss = sequence_classification_loss(o.logits, in.labels, config.problem_type);
  return o;
}

DistilBertForTokenClassification::DistilBertForTokenClassification(const DistilBertConfig& c)
    : DistilBertPreTrainedModel(c, Task::TokenClassification) {
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.shared.hidden_dropout_prob));
  classifier = register_module("classifier", std::make_shared<nn::Linear>(c.shared.hidden_size, c.num_labels()));
}

ModelOutput DistilBertForTokenClassification::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = encode(in, opt);
  o.logits = classifier->forward(dropout->forward(o.bert.last_hidden_state));
  if (in.labels.defined()) o.loss = token_classification_loss(o.logits, in.labels, in.input_ids);
  return o;
}

DistilBertForQuestionAnswering::DistilBertForQuestionAnswering(const DistilBertConfig& c)
    : DistilBertPreTrainedModel(c, Task::QuestionAnswering) {
  if (c.num_labels() != 2)
    fail("DistilBertForQuestionAnswering needs num_labels = 2 (start and end), the config has " +
         std::to_string(c.num_labels()));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.qa_dropout));
  qa_outputs = register_module("qa_outputs", std::make_shared<nn::Linear>(c.shared.hidden_size, 2));
}

ModelOutput DistilBertForQuestionAnswering::forward(const BertInputs& in, const ForwardOptions& opt) const {
  ModelOutput o;
  o.bert = encode(in, opt);
  Tensor logits = qa_outputs->forward(dropout->forward(o.bert.last_hidden_state));  // (B,T,2)
  o.start_logits = select(logits, 2, 0);
  o.end_logits = select(logits, 2, 1);
  if (in.start_positions.defined() && in.end_positions.defined())
    o.loss = span_loss(o.start_logits, o.end_logits, in.start_positions, in.end_positions);
  return o;
}

std::shared_ptr<DistilBertPreTrainedModel> make_distilbert(Task task, const DistilBertConfig& c) {
  switch (task) {
    case Task::MaskedLM: return std::make_shared<DistilBertForMaskedLM>(c);
    case Task::SequenceClassification: return std::make_shared<DistilBertForSequenceClassification>(c);
    case Task::TokenClassification: return std::make_shared<DistilBertForTokenClassification>(c);
    case Task::QuestionAnswering: return std::make_shared<DistilBertForQuestionAnswering>(c);
    case Task::PreTraining:
    case Task::NextSentence: break;
  }
  distilbert_class_name(task);  // throws, naming it
  fail("make_distilbert: unknown task");
}

// --- folders ---------------------------------------------------------------------------------

std::shared_ptr<DistilBertPreTrainedModel> distilbert_from_pretrained(const std::string& dir, Task task, LoadInfo* info,
                                                                      bool new_head, uint64_t seed, int64_t num_labels) {
  const std::string file = weights_file(dir);
  DistilBertConfig c = DistilBertConfig::load((std::filesystem::path(dir) / "config.json").string());
  if (num_labels > 0 && num_labels != c.num_labels()) c.shared.set_num_labels(num_labels);
  std::shared_ptr<DistilBertPreTrainedModel> model;
  {
    nn::SkipInitGuard no_init;  // every value is loaded or initialised below
    model = make_distilbert(task, c);
  }
  LoadInfo li = load_weights(*model, file, model->tied_names(), "distilbert");
  std::vector<std::string> encoder, head;
  for (const std::string& n : li.newly_initialized) (n.rfind("distilbert.", 0) == 0 ? encoder : head).push_back(n);
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 6; ++i) s += (i ? ", " : "") + v[i];
    return v.size() > 6 ? s + " and " + std::to_string(v.size() - 6) + " more" : s;
  };
  if (!encoder.empty())
    fail(dir + ": " + std::to_string(encoder.size()) + " encoder tensors (" + list(encoder) + ") are not in " + file +
         ": the config and the weights are of different models");
  if (!head.empty() && !new_head)
    fail(dir + ": " + list(head) + " not in " + file + ": the folder has no trained " + distilbert_class_name(task) +
         " head");
  init_missing(*model, head, c.shared, seed);  // a new head, initialised as the family does
  if (info) *info = li;
  return model;
}


}  // namespace bertlab::bert
