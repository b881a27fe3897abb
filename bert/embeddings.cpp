// bert/embeddings.cpp — see embeddings.h.
#include "bert/embeddings.h"

#include "ops/ops.h"

namespace bertlab::bert {

BertEmbeddings::BertEmbeddings(const BertConfig& c) : max_positions(c.max_position_embeddings) {
  word_embeddings = register_module(
      "word_embeddings", std::make_shared<nn::Embedding>(c.vocab_size, c.hidden_size, default_generator(),
                                                         c.pad_token_id < c.vocab_size ? c.pad_token_id : -1));
  position_embeddings =
      register_module("position_embeddings", std::make_shared<nn::Embedding>(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings =
      register_module("token_type_embeddings", std::make_shared<nn::Embedding>(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", std::make_shared<nn::LayerNorm>(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.hidden_dropout_prob));
}

Tensor BertEmbeddings::forward(const Tensor& input_ids, const Tensor& token_type_ids,
                               const Tensor& position_ids) const {
  if (!input_ids.defined() || input_ids.dim() != 2)
    fail("BertEmbeddings: input_ids must be (batch, seq_len), got " +
         (input_ids.defined() ? shape_str(input_ids.shape()) : std::string("undefined")));
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  if (T > max_positions)
    fail("BertEmbeddings: sequence length " + std::to_string(T) + " exceeds max_position_embeddings " +
         std::to_string(max_positions));
  const Device dev = input_ids.device();
  Tensor pos = position_ids.defined() ? position_ids : expand(reshape(arange(T, DType::Int64, dev), {1, T}), {B, T});
  Tensor types = token_type_ids.defined() ? token_type_ids : zeros({B, T}, DType::Int64, dev);
  if (types.shape() != input_ids.shape())
    fail("BertEmbeddings: token_type_ids " + shape_str(types.shape()) + " do not match input_ids " +
         shape_str(input_ids.shape()));
  Tensor h = word_embeddings->forward(input_ids) + position_embeddings->forward(pos) +
             token_type_embeddings->forward(types);
  return dropout->forward(LayerNorm->forward(h));
}

}  // namespace bertlab::bert
