// bert/cli/cmd_embed.cpp — `bertlab embed`: sentence embeddings from a BertModel folder
// (mean pooling + L2 normalisation, as sentence-transformers' all-MiniLM-L6-v2), and the
// cosine similarity of every pair of inputs.
//
//   bertlab embed --model models/all-MiniLM-L6-v2 "A man is eating food." "A man eats."
//   bertlab embed --model DIR --json - < sentences.txt
//   bertlab embed --model DIR --dump-hidden out.safetensors TEXT...   (last_hidden_state etc.)
//   bertlab embed --model DIR --input sentences.txt --output vectors.jsonl   (a batch at a time)
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bert/checkpoint.h"
#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "bert/embed.h"
#include "bert/safetensors.h"
#include "ops/ops.h"

namespace bertlab::cli {

void add_embed_command(CLI::App& app) {
  struct Opts {
    std::string model, dump, input, output;
    std::vector<std::string> texts;
    bool no_normalize = false;
    size_t max_length = 512;
    int64_t batch_size = 32;
    CommonFlags common;
  };
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("embed", "sentence embeddings (mean pooling, normalised) and their cosine similarities");
  c->add_option("--model", o->model, "a model folder of any family (BERT, DistilBERT: config.json, model.safetensors, vocab.txt)")->required()->transform(model_folder());
  c->add_option("texts", o->texts, "texts, or - to read one per line from stdin");
  c->add_flag("--no-normalize", o->no_normalize, "keep the mean-pooled vectors unnormalised");
  c->add_option("--max-length", o->max_length, "truncate inputs to this many tokens")
      ->check(in_range<unsigned long>(1, 1 << 20))
      ->capture_default_str();
  c->add_option("--batch-size", o->batch_size, "texts per batch")->check(at_least<long>(1))->capture_default_str();
  add_common_flags(c, o->common, kThreads | kDevice | kJson | kDType, "print JSON: embeddings and similarities");
  add_file_flags(c, o->input, o->output);
  c->add_option("--dump-hidden", o->dump, "also write last_hidden_state, attention_mask and the embeddings to a safetensors file "
                                          "(all texts in one batch)")
      ->excludes("--input");
  c->footer("With --input, writes one JSON line per input line: {\"line\", \"text\", \"embedding\"} (no similarities).");
  c->callback([o] {
    if (o->input.empty() && o->texts.empty()) usage_error("give texts as arguments, '-' for stdin, or --input FILE");
    if (!o->input.empty() && !o->texts.empty()) usage_error("give texts as arguments or --input FILE, not both");
    const Device device = o->common.apply();
    const bert::Encoder model = bert::encoder_from_pretrained(o->model);  // BERT or DistilBERT
    model.module->to(device);
    model.module->eval();
    auto tok = tokenizer::BertTokenizer::from_pretrained(o->model);
    // the sentence vectors of `texts`, a batch at a time: (B*C) row-major on the CPU
    auto embed_all = [&](const std::vector<std::string>& texts, int64_t& C) {
      std::vector<float> v;
      for (size_t b = 0; b < texts.size(); b += (size_t)o->batch_size) {
        std::vector<std::string> batch(texts.begin() + (long)b, texts.begin() + (long)std::min(texts.size(), b + (size_t)o->batch_size));
        Tensor s = bert::embed(model, tok, batch, !o->no_normalize, o->max_length, device).sentence.to(Device::CPU);
        C = s.size(1);
        std::vector<float> part = s.tolist<float>();
        v.insert(v.end(), part.begin(), part.end());
      }
      return v;
    };
    if (!o->input.empty()) {
      predict_lines(o->input, o->output, o->batch_size, [&](const std::vector<InputLine>& lines) {
        std::vector<std::string> texts;
        for (auto& l : lines) texts.push_back(l.text);
        int64_t C = 0;
        std::vector<float> v = embed_all(texts, C);
        std::vector<nlohmann::json> out;
        for (size_t b = 0; b < texts.size(); ++b)
          out.push_back({{"embedding", std::vector<float>(v.begin() + (long)b * C, v.begin() + (long)(b + 1) * C)}});
        return out;
      });
      return;
    }
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
    int64_t C = 0;
    std::vector<float> v;
    if (!o->dump.empty()) {
      bert::Embeddings e = bert::embed(model, tok, texts, !o->no_normalize, o->max_length, device);
      safetensors::save(o->dump, {{"last_hidden_state", e.last_hidden_state.to(Device::CPU)},
                                  {"attention_mask", e.attention_mask.to(Device::CPU)},
                                  {"sentence_embedding", e.sentence.to(Device::CPU)}});
      C = e.sentence.size(1);
      v = e.sentence.to(Device::CPU).tolist<float>();
    } else {
      v = embed_all(texts, C);
    }
    const int64_t B = (int64_t)texts.size();
    Tensor n = bert::l2_normalize(from_vector(v, {B, C}));
    std::vector<float> sim = matmul(n, transpose(n, 0, 1)).tolist<float>();
    if (o->common.json) {
      nlohmann::json j;
      j["embeddings"] = nlohmann::json::array();
      for (int64_t b = 0; b < B; ++b) j["embeddings"].push_back(std::vector<float>(v.begin() + b * C, v.begin() + (b + 1) * C));
      j["cosine_similarity"] = nlohmann::json::array();
      for (int64_t a = 0; a < B; ++a) j["cosine_similarity"].push_back(std::vector<float>(sim.begin() + a * B, sim.begin() + (a + 1) * B));
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("%lld texts, %lld dimensions\n", (long long)B, (long long)C);
    for (int64_t a = 0; a < B; ++a)
      for (int64_t b = a + 1; b < B; ++b)
        std::printf("%.4f  \"%s\"  ~  \"%s\"\n", sim[a * B + b], texts[a].c_str(), texts[b].c_str());
  });
}

}  // namespace bertlab::cli
