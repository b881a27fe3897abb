// bert/cli/cmd_fill_mask.cpp — `bertlab predict fill-mask`: the top-k tokens for each [MASK] of
// a text, with softmax scores, as transformers' fill-mask pipeline (bert/fill_mask.h).
//
//   bertlab predict fill-mask --model runs/pretrain/final "paris is the [MASK] of france."
//   echo "the [MASK] sat on the mat." | bertlab predict fill-mask --json -
//   bertlab predict fill-mask --model DIR --input masked.txt --output fills.jsonl
//
// People get readable lines; --json prints, per input, one line with transformers' JSON (a list
// of {"score","token","token_str","sequence"}, or a list of such lists for several masks).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "bert/fill_mask.h"

namespace bertlab::cli {

void add_predict_fill_mask(CLI::App& predict) {
  struct Opts {
    std::string model = "runs/pretrain/final", input, output;
    std::vector<std::string> texts;
    int64_t top_k = 5, batch_size = 32;
    CommonFlags common;
  };
  auto o = std::make_shared<Opts>();
  auto* c = predict.add_subcommand("fill-mask", "most likely tokens for each [MASK] in a text, with scores");
  c->add_option("text", o->texts, "text(s) with [MASK]; '-' reads one text per line from standard input");
  c->add_option("--model", o->model, "model folder with a masked-LM head (bertlab pretrain's final/, or Hugging Face's)")
      ->capture_default_str()
      ->transform(model_folder());
  c->add_option("--top-k", o->top_k, "candidates per mask")->check(in_range<long>(1, 1 << 20))->capture_default_str();
  c->add_option("--batch-size", o->batch_size, "with --input: lines read at a time")->check(at_least<long>(1))->capture_default_str();
  add_common_flags(c, o->common, kThreads | kDevice | kJson | kDType, "one JSON line per input, as transformers' pipeline returns it");
  add_file_flags(c, o->input, o->output);
  c->callback([o] {
    if (o->input.empty() && o->texts.empty()) usage_error("give the text(s) with [MASK] as arguments, '-' for stdin, or --input FILE");
    if (!o->input.empty() && !o->texts.empty()) usage_error("give texts as arguments or --input FILE, not both");
    const Device device = o->common.apply();
    if (!o->input.empty()) {
      bert::FillMask fm(o->model, device);
      predict_lines(o->input, o->output, o->batch_size, [&](const std::vector<InputLine>& lines) {
        std::vector<nlohmann::json> out;
        for (const InputLine& l : lines) out.push_back({{"predictions", bert::FillMask::to_json(fm(l.text, o->top_k))}});
        return out;
      });
      return;
    }
    std::vector<std::string> inputs;
    for (const auto& t : o->texts) {
      if (t != "-") {
        inputs.push_back(t);
        continue;
      }
      for (std::string line; std::getline(std::cin, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!is_blank(line)) inputs.push_back(line);
      }
    }
    if (inputs.empty()) fail("predict fill-mask: no input text");
    bert::FillMask fm(o->model, device);
    for (const auto& text : inputs) {
      const auto r = fm(text, o->top_k);
      if (o->common.json) {
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
