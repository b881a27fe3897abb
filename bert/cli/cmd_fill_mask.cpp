// bert/cli/cmd_fill_mask.cpp — `bertlab predict fill-mask`: the top-k tokens for each [MASK] of
// a text, with softmax scores, as transformers' fill-mask pipeline (bert/fill_mask.h).
//
//   bertlab predict fill-mask --model runs/pretrain/final "paris is the [MASK] of france."
//   echo "the [MASK] sat on the mat." | bertlab predict fill-mask --json -
//
// People get readable lines; --json prints, per input, one line with transformers' JSON (a list
// of {"score","token","token_str","sequence"}, or a list of such lists for several masks).
#include <omp.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bert/cli/commands.h"
#include "bert/fill_mask.h"

namespace bertlab::cli {

void add_predict_fill_mask(CLI::App& predict) {
  struct Opts {
    std::string model = "runs/pretrain/final", device = "cpu";
    std::vector<std::string> texts;
    int64_t top_k = 5;
    bool json = false;
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* c = predict.add_subcommand("fill-mask", "most likely tokens for each [MASK] in a text, with scores");
  c->add_option("text", o->texts, "text(s) with [MASK]; '-' reads one text per line from standard input")->required();
  c->add_option("--model", o->model, "model folder with a masked-LM head (bertlab pretrain's final/, or Hugging Face's)")
      ->capture_default_str();
  c->add_option("--top-k", o->top_k, "candidates per mask")->check(CLI::PositiveNumber)->capture_default_str();
  c->add_flag("--json", o->json, "one JSON line per input, as transformers' pipeline returns it");
  c->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  c->add_option("--threads", o->threads, "CPU threads (0: OpenMP's default)");
  c->callback([o] {
    if (o->threads > 0) omp_set_num_threads(o->threads);
    std::vector<std::string> inputs;
    for (const auto& t : o->texts) {
      if (t != "-") {
        inputs.push_back(t);
        continue;
      }
      for (std::string line; std::getline(std::cin, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") != std::string::npos) inputs.push_back(line);
      }
    }
    if (inputs.empty()) fail("predict fill-mask: no input text");
    bert::FillMask fm(o->model, o->device == "cuda" ? Device::CUDA : Device::CPU);
    for (const auto& text : inputs) {
      const auto r = fm(text, o->top_k);
      if (o->json) {
        std::printf("%s\n", bert::FillMask::to_json(r).dump().c_str());
        continue;
      }
      std::printf("%s\n", text.c_str());
      for (size_t m = 0; m < r.size(); ++m) {
        if (r.size() > 1) std::printf("  [MASK] #%zu\n", m + 1);
        for (const auto& cand : r[m])
          std::printf("  %6.4f  %-14s %s\n", cand.score, cand.token_str.c_str(), cand.sequence.c_str());
      }
    }
  });
}

}  // namespace bertlab::cli
