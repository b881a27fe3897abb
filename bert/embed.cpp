// bert/embed.cpp — see embed.h.
#include "bert/embed.h"

#include <filesystem>

#include "autograd/graph.h"
#include "bert/checkpoint.h"
#include "bert/distilbert/model.h"
#include "ops/ops.h"

namespace bertlab::bert {

BertInputs batch_inputs(const std::vector<tokenizer::Encoding>& encs, Device device) {
  if (encs.empty()) fail("batch_inputs: empty batch");
  const int64_t B = (int64_t)encs.size(), T = (int64_t)encs[0].size();
  std::vector<int64_t> ids(B * T), mask(B * T), types(B * T);
  for (int64_t b = 0; b < B; ++b) {
    if ((int64_t)encs[b].size() != T)
      fail("batch_inputs: encodings of different lengths (" + std::to_string(encs[b].size()) + " vs " +
           std::to_string(T) + "); pad the batch first");
    for (int64_t t = 0; t < T; ++t) {
      ids[b * T + t] = encs[b].ids[t];
      mask[b * T + t] = encs[b].attention_mask[t];
      types[b * T + t] = encs[b].type_ids[t];
    }
  }
  BertInputs in;
  in.input_ids = from_vector(ids, {B, T}, device);
  in.attention_mask = from_vector(mask, {B, T}, device);
  in.token_type_ids = from_vector(types, {B, T}, device);
  return in;
}

Tensor mean_pool(const Tensor& hidden, const Tensor& mask) {
  Tensor m = unsqueeze(mask.to(hidden.dtype()), -1);              // (B,T,1)
  Tensor summed = sum(hidden * m, {1});                             // (B,C)
  Tensor count = maximum(sum(m, {1}), full({1}, 1e-9, hidden.dtype(), hidden.device()));  // (B,1)
  return summed / count;
}

Tensor l2_normalize(const Tensor& x) {
  Tensor norm = sqrt(sum(x * x, {-1}, true));
  return x / maximum(norm, full({1}, 1e-12, x.dtype(), x.device()));
}

Embeddings embed(const BertModel& model, const tokenizer::BertTokenizer& tok, const std::vector<std::string>& texts,
                 bool normalize, size_t max_length, Device device) {
  Encoder e{nullptr, [&model](const BertInputs& in) {
              return model.forward(in.input_ids, in.attention_mask, in.token_type_ids).last_hidden_state;
            }, "BertModel"};
  return embed(e, tok, texts, normalize, max_length, device);
}

Encoder encoder_from_pretrained(const std::string& dir) {
  if (model_type_of(dir) != "distilbert") {
    std::shared_ptr<BertModel> m = bert_model_from_pretrained(dir);
    return {m, [m](const BertInputs& in) {
              return m->forward(in.input_ids, in.attention_mask, in.token_type_ids).last_hidden_state;
            }, "BertModel"};
  }
  const DistilBertConfig c = DistilBertConfig::load((std::filesystem::path(dir) / "config.json").string());
  std::shared_ptr<DistilBertModel> m;
  {
    nn::SkipInitGuard no_init;
    m = std::make_shared<DistilBertModel>(c);
  }
  const std::string file = weights_file(dir);
  const LoadInfo li = load_weights(*m, file, {}, "distilbert");
  if (!li.newly_initialized.empty())
    fail(dir + ": " + std::to_string(li.newly_initialized.size()) + " encoder tensors (" + li.newly_initialized.front() +
         ", ...) are not in " + file + ": the config and the weights are of different models");
  return {m, [m](const BertInputs& in) { return m->forward(in.input_ids, in.attention_mask).last_hidden_state; },
          "DistilBertModel"};
}

Embeddings embed(const Encoder& model, const tokenizer::BertTokenizer& tok, const std::vector<std::string>& texts,
                 bool normalize, size_t max_length, Device device) {
  tokenizer::EncodeOptions opt;
  opt.padding = tokenizer::Padding::kLongest;
  opt.truncation = tokenizer::Truncation::kLongestFirst;
  opt.max_length = max_length;
  std::vector<tokenizer::Encoding> encs = tok.encode_batch(texts, opt);
  BertInputs in = batch_inputs(encs, device);
  NoGradGuard ng;
  Embeddings e;
  e.last_hidden_state = model.last_hidden_state(in);
  e.attention_mask = in.attention_mask;
  e.sentence = mean_pool(e.last_hidden_state, in.attention_mask);
  if (normalize) e.sentence = l2_normalize(e.sentence);
  return e;
}

}  // namespace bertlab::bert
