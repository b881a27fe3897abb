// bert/fill_mask.cpp — see fill_mask.h. Follows transformers/pipelines/fill_mask.py
// (preprocess / _forward / postprocess) with top_k and no target words.
#include "bert/fill_mask.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "bert/checkpoint.h"
#include "bert/io.h"
#include "ops/ops.h"

namespace bertlab::bert {

namespace fs = std::filesystem;

nlohmann::json FillMaskCandidate::to_json() const {
  return {{"score", score}, {"token", token}, {"token_str", token_str}, {"sequence", sequence}};
}

static void check_model_dir(const std::string& dir) {
  if (!dir_exists(dir)) fail("fill-mask: model folder " + dir + " does not exist");
  if (!file_exists((fs::path(dir) / "vocab.txt").string()) && !file_exists((fs::path(dir) / "tokenizer.json").string()))
    fail("fill-mask: " + dir + " has no tokenizer.json or vocab.txt (a model folder from `bertlab pretrain` or save_pretrained has both)");
}

static std::shared_ptr<tokenizer::BertTokenizer> load_tokenizer(const std::string& dir) {
  check_model_dir(dir);
  return std::make_shared<tokenizer::BertTokenizer>(tokenizer::BertTokenizer::from_pretrained(dir));
}

static std::shared_ptr<PreTrainedModel> load_mlm(const std::string& dir) {
  check_model_dir(dir);
  const std::string arch = saved_architecture(dir);
  if (!arch.empty() && arch != "BertForPreTraining" && arch != "BertForMaskedLM")
    fail("fill-mask: " + dir + " holds a " + arch + ", which has no masked-LM head (use a BertForPreTraining or BertForMaskedLM model)");
  LoadInfo info;
  auto m = from_pretrained(dir, Task::MaskedLM, &info);
  for (const auto& n : info.newly_initialized)
    if (n.rfind("cls.predictions", 0) == 0)
      fail("fill-mask: " + dir + " has no masked-LM head weights (" + n + " is missing)");
  return m;
}

FillMask::FillMask(const std::string& model_dir, Device device)
    : FillMask(load_mlm(model_dir), load_tokenizer(model_dir), device) {}

FillMask::FillMask(std::shared_ptr<PreTrainedModel> model, std::shared_ptr<const tokenizer::BertTokenizer> tok,
                   Device device)
    : model_(std::move(model)), tok_(std::move(tok)), device_(device) {
  model_->to(device_);
  model_->eval();
}

std::vector<std::vector<FillMaskCandidate>> FillMask::operator()(std::string_view text, int64_t top_k) const {
  if (top_k < 1) fail("fill-mask: --top-k must be at least 1");
  tokenizer::EncodeOptions eo;
  eo.truncation = tokenizer::Truncation::kLongestFirst;
  eo.max_length = (size_t)model_->config.max_position_embeddings;
  const tokenizer::Encoding enc = tok_->encode(text, eo);
  std::vector<size_t> masks;
  for (size_t i = 0; i < enc.ids.size(); ++i)
    if (enc.ids[i] == tok_->mask_id()) masks.push_back(i);
  if (masks.empty()) {
    if (tok_->encode(text).ids.size() > enc.ids.size())
      fail("fill-mask: every [MASK] is beyond the model's " + std::to_string(model_->config.max_position_embeddings) +
           " positions in: " + std::string(text.substr(0, 80)));
    fail("fill-mask: no [MASK] token in the input: \"" + std::string(text.substr(0, 80)) + "\"");
  }
  const int64_t T = (int64_t)enc.ids.size();
  std::vector<int64_t> ids(enc.ids.begin(), enc.ids.end()), types(enc.type_ids.begin(), enc.type_ids.end());
  BertInputs in;
  in.input_ids = from_vector(ids, {1, T}).to(device_);
  in.token_type_ids = from_vector(types, {1, T}).to(device_);
  in.attention_mask = ones({1, T}, DType::Int64, device_);
  NoGradGuard ng;
  const Tensor logits = model_->forward(in).logits;  // (1,T,V)
  const int64_t V = logits.size(2);
  const int64_t k = std::min<int64_t>(top_k, V);
  const bool single = masks.size() == 1;
  std::vector<std::vector<FillMaskCandidate>> out;
  for (size_t mpos : masks) {
    const std::vector<float> row = select(select(logits, 0, 0), 0, (int64_t)mpos).tolist<float>();
    // softmax in double
    double mx = -INFINITY;
    for (float v : row) mx = std::max(mx, (double)v);
    double z = 0;
    for (float v : row) z += std::exp((double)v - mx);
    std::vector<int64_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
      return row[a] > row[b] || (row[a] == row[b] && a < b);
    });
    std::vector<FillMaskCandidate> cands;
    for (int64_t j = 0; j < k; ++j) {
      FillMaskCandidate c;
      c.token = order[j];
      c.score = std::exp((double)row[c.token] - mx) / z;
      const tokenizer::TokenId one[] = {(tokenizer::TokenId)c.token};
      c.token_str = tok_->decode(one);
      std::vector<tokenizer::TokenId> filled;
      for (size_t i = 0; i < enc.ids.size(); ++i)
        if (enc.ids[i] != tok_->pad_id()) filled.push_back(i == mpos ? (tokenizer::TokenId)c.token : enc.ids[i]);
      tokenizer::DecodeOptions d;
      d.skip_special_tokens = single;
      c.sequence = tok_->decode(filled, d);
      cands.push_back(std::move(c));
    }
    out.push_back(std::move(cands));
  }
  return out;
}

nlohmann::json FillMask::to_json(const std::vector<std::vector<FillMaskCandidate>>& r) {
  auto list = [](const std::vector<FillMaskCandidate>& cs) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& c : cs) a.push_back(c.to_json());
    return a;
  };
  if (r.size() == 1) return list(r[0]);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& cs : r) all.push_back(list(cs));
  return all;
}

}  // namespace bertlab::bert
