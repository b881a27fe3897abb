// bert/tasks/infer.cpp — see infer.h.
#include "bert/tasks/infer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/graph.h"
#include "ops/ops.h"

namespace bertlab::tasks {

bert::BertInputs collate(const std::vector<const tokenizer::Encoding*>& batch, Device device, int64_t pad_id) {
  if (batch.empty()) fail("collate: empty batch");
  const int64_t B = (int64_t)batch.size();
  int64_t T = 0;
  for (auto* e : batch) T = std::max<int64_t>(T, (int64_t)e->size());
  if (T == 0) fail("collate: every sequence is empty");
  std::vector<int64_t> ids((size_t)(B * T), pad_id), mask((size_t)(B * T), 0), types((size_t)(B * T), 0);
  for (int64_t b = 0; b < B; ++b) {
    const tokenizer::Encoding& e = *batch[(size_t)b];
    for (size_t t = 0; t < e.size(); ++t) {
      const size_t k = (size_t)(b * T) + t;
      ids[k] = e.ids[t];
      mask[k] = e.attention_mask.empty() ? 1 : e.attention_mask[t];
      types[k] = e.type_ids[t];
    }
  }
  bert::BertInputs in;
  in.input_ids = from_vector(ids, {B, T}, device);
  in.attention_mask = from_vector(mask, {B, T}, device);
  in.token_type_ids = from_vector(types, {B, T}, device);
  return in;
}

Tensor collate_token_labels(const std::vector<const std::vector<int64_t>*>& labels, int64_t T, Device device) {
  const int64_t B = (int64_t)labels.size();
  std::vector<int64_t> out((size_t)(B * T), -100);
  for (int64_t b = 0; b < B; ++b) {
    const auto& l = *labels[(size_t)b];
    for (size_t t = 0; t < l.size() && (int64_t)t < T; ++t) out[(size_t)(b * T) + t] = l[t];
  }
  return from_vector(out, {B, T}, device);
}

std::vector<double> softmax_row(const float* logits, int64_t n) {
  std::vector<double> p((size_t)n);
  double mx = -INFINITY, sum = 0;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, (double)logits[i]);
  for (int64_t i = 0; i < n; ++i) sum += p[(size_t)i] = std::exp((double)logits[i] - mx);
  for (auto& v : p) v /= sum;
  return p;
}

HeadOutputs run_head(bert::PreTrainedModel& model, const std::vector<tokenizer::Encoding>& encodings,
                     int64_t batch_size, Device device) {
  HeadOutputs out;
  const size_t N = encodings.size();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  // longest first: batches of similar lengths, and a memory error shows up on the first batch
  std::vector<size_t> order(N);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return encodings[a].size() > encodings[b].size(); });
  switch (model.task) {
    case bert::Task::SequenceClassification:
    case bert::Task::TokenClassification: out.logits.resize(N); break;
    case bert::Task::QuestionAnswering: out.start.resize(N), out.end.resize(N); break;
    default: fail(std::string("run_head: no fine-tuning head on ") + bert::task_class_name(model.task));
  }
  out.num_labels = model.config.num_labels();
  try {
    for (size_t s = 0; s < N; s += (size_t)batch_size) {
      std::vector<const tokenizer::Encoding*> batch;
      for (size_t i = s; i < std::min(N, s + (size_t)batch_size); ++i) batch.push_back(&encodings[order[i]]);
      bert::BertInputs in = collate(batch, device);
      bert::ModelOutput o = model.forward(in);
      const int64_t B = (int64_t)batch.size(), T = in.input_ids.size(1);
      if (model.task == bert::Task::QuestionAnswering) {
        std::vector<float> st = o.start_logits.to(Device::CPU).contiguous().tolist<float>();
        std::vector<float> en = o.end_logits.to(Device::CPU).contiguous().tolist<float>();
        for (int64_t b = 0; b < B; ++b) {
          const size_t n = batch[(size_t)b]->size(), k = order[s + (size_t)b];
          out.start[k].assign(st.begin() + b * T, st.begin() + b * T + (long)n);
          out.end[k].assign(en.begin() + b * T, en.begin() + b * T + (long)n);
        }
      } else {
        std::vector<float> lg = o.logits.to(Device::CPU).to(DType::Float32).contiguous().tolist<float>();
        const int64_t L = o.logits.size(-1);
        for (int64_t b = 0; b < B; ++b) {
          const size_t k = order[s + (size_t)b];
          if (model.task == bert::Task::SequenceClassification) {
            out.logits[k].assign(lg.begin() + b * L, lg.begin() + (b + 1) * L);
          } else {
            const int64_t n = (int64_t)batch[(size_t)b]->size();
            out.logits[k].assign(lg.begin() + b * T * L, lg.begin() + (b * T + n) * L);
          }
        }
      }
    }
  } catch (...) {
    if (was_training) model.train();
    throw;
  }
  if (was_training) model.train();
  return out;
}

}  // namespace bertlab::tasks
