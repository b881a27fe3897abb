// bert/tasks/infer.h — from tokenizer Encodings to model inputs and back: collating a batch
// (padding to the longest sequence in it, as transformers' DataCollatorWithPadding) and
// running a head model over many encodings in evaluation mode, returning plain host vectors.
#pragma once

#include <cstdint>
#include <vector>

#include "bert/heads.h"
#include "tokenizer/encoding.h"

namespace bertlab::tasks {

// input_ids (B,T) int64, attention_mask (B,T) int64 (1 token, 0 padding), token_type_ids (B,T)
// int64, with T the longest encoding of the batch; padding id `pad_id`.
bert::BertInputs collate(const std::vector<const tokenizer::Encoding*>& batch, Device device, int64_t pad_id = 0);
// labels (B,T) int64 from per-encoding token labels, padded with -100.
Tensor collate_token_labels(const std::vector<const std::vector<int64_t>*>& labels, int64_t T, Device device);

// What a head produced for one encoding, on the host.
struct HeadOutputs {
  std::vector<std::vector<float>> logits;      // sequence classification: (L); token classification: (T,L) row-major
  std::vector<std::vector<float>> start, end;  // question answering: (T) each
  int64_t num_labels = 0;                      // L
};
// Runs the model over every encoding (batches of `batch_size`, grouped by length so little
// padding is computed), without gradients and in eval mode (the mode is restored after).
// Outputs are in the order of `encodings`, each cut to its own length T.
HeadOutputs run_head(bert::PreTrainedModel& model, const std::vector<tokenizer::Encoding>& encodings,
                     int64_t batch_size, Device device);

// softmax over a row of logits (float64 accumulation)
std::vector<double> softmax_row(const float* logits, int64_t n);

}  // namespace bertlab::tasks
