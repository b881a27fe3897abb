// bert/cli/cmd_embed.cpp — `bertlab embed`: sentence embeddings from a BertModel folder
// (mean pooling + L2 normalisation, as sentence-transformers' all-MiniLM-L6-v2), and the
// cosine similarity of every pair of inputs.
//
//   bertlab embed --model models/all-MiniLM-L6-v2 "A man is eating food." "A man eats."
//   bertlab embed --model DIR --json - < sentences.txt
//   bertlab embed --model DIR --dump-hidden out.safetensors TEXT...   (last_hidden_state etc.)
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bert/checkpoint.h"
#include "bert/cli/commands.h"
#include "bert/embed.h"
#include "bert/safetensors.h"
#include "ops/ops.h"

namespace bertlab::cli {

void add_embed_command(CLI::App& app) {
  struct Opts {
    std::string model, dump;
    std::vector<std::string> texts;
    bool json = false, no_normalize = false;
    size_t max_length = 512;
  };
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("embed", "sentence embeddings (mean pooling, normalised) and their cosine similarities");
  c->add_option("--model", o->model, "a BertModel folder (config.json, model.safetensors, vocab.txt)")->required();
  c->add_option("texts", o->texts, "texts, or - to read one per line from stdin")->required();
  c->add_flag("--json", o->json, "print JSON: embeddings and similarities");
  c->add_flag("--no-normalize", o->no_normalize, "keep the mean-pooled vectors unnormalised");
  c->add_option("--max-length", o->max_length, "truncate inputs to this many tokens")->capture_default_str();
  c->add_option("--dump-hidden", o->dump, "also write last_hidden_state, attention_mask and the embeddings to a safetensors file");
  c->callback([o] {
    std::vector<std::string> texts;
    for (auto& t : o->texts) {
      if (t != "-") {
        texts.push_back(t);
        continue;
      }
      std::string line;
      while (std::getline(std::cin, line)) texts.push_back(line);
    }
    if (texts.empty()) fail("embed: no input texts");
    auto model = bert::bert_model_from_pretrained(o->model);
    model->eval();
    auto tok = tokenizer::BertTokenizer::from_pretrained(o->model);
    bert::Embeddings e = bert::embed(*model, tok, texts, !o->no_normalize, o->max_length);
    if (!o->dump.empty())
      safetensors::save(o->dump, {{"last_hidden_state", e.last_hidden_state},
                                        {"attention_mask", e.attention_mask},
                                        {"sentence_embedding", e.sentence}});
    const int64_t B = e.sentence.size(0);
    Tensor n = bert::l2_normalize(e.sentence);
    std::vector<float> sim = matmul(n, transpose(n, 0, 1)).tolist<float>();
    if (o->json) {
      nlohmann::json j;
      j["embeddings"] = nlohmann::json::array();
      std::vector<float> v = e.sentence.tolist<float>();
      const int64_t C = e.sentence.size(1);
      for (int64_t b = 0; b < B; ++b) j["embeddings"].push_back(std::vector<float>(v.begin() + b * C, v.begin() + (b + 1) * C));
      j["cosine_similarity"] = nlohmann::json::array();
      for (int64_t a = 0; a < B; ++a) j["cosine_similarity"].push_back(std::vector<float>(sim.begin() + a * B, sim.begin() + (a + 1) * B));
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("%lld texts, %lld dimensions\n", (long long)B, (long long)e.sentence.size(1));
    for (int64_t a = 0; a < B; ++a)
      for (int64_t b = a + 1; b < B; ++b)
        std::printf("%.4f  \"%s\"  ~  \"%s\"\n", sim[a * B + b], texts[a].c_str(), texts[b].c_str());
  });
}

}  // namespace bertlab::cli
