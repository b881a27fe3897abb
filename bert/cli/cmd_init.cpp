// bert/cli/cmd_init.cpp — `bertlab init`: a new, randomly initialised model folder in Hugging
// Face format (config.json, model.safetensors, vocab.txt, tokenizer_config.json), the start
// of pre-training from scratch, or a quick way to check the format with transformers.
//
//   bertlab init --config bert-mini --task pretrain --out runs/mini-init
#include <cstdio>

#include "bert/checkpoint.h"
#include "bert/cli/commands.h"
#include "bert/cli/common.h"

namespace bertlab::cli {

void add_init_command(CLI::App& app) {
  struct Opts {
    std::string config = "bert-mini", task = "pretrain", out, vocab;
    int64_t num_labels = 0;
    uint64_t seed = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("init", "write a new randomly initialised model folder (Hugging Face format)");
  c->add_option("--config", o->config, "preset (bert-tiny ... bert-large[-cased]) or a config.json")->capture_default_str();
  c->add_option("--task", o->task, "head: pretrain, mlm, nsp, classify, ner, qa")
      ->check(one_of({"pretrain", "mlm", "nsp", "classify", "ner", "qa"}))
      ->capture_default_str();
  c->add_option("--num-labels", o->num_labels, "labels of a classify/ner head")->check(in_range<long>(1, 1 << 20));
  c->add_option("--out", o->out, "folder to create")->required();
  c->add_option("--vocab", o->vocab, "vocab.txt to ship with it (default: the bundled uncased/cased vocab)");
  add_seed_flag(c, o->seed, "the initial weights");
  c->callback([o] {
    bert::BertConfig config = resolve_config(o->config);
    if (o->num_labels > 0) {
      if (o->task != "classify" && o->task != "ner") usage_error("--num-labels applies to classify and ner heads only");
      config.set_num_labels(o->num_labels);
    }
    auto model = bert::make_model(task_from_cli(o->task), config);
    Generator g(o->seed);
    model->init_weights(g);
    bert::TokenizerFiles tok;
    tok.vocab_file = o->vocab.empty() ? default_vocab(config.vocab_size == 28996) : o->vocab;
    tok.do_lower_case = config.vocab_size != 28996;
    bert::save_pretrained(*model, o->out, tok);
    std::printf("wrote %s: %s, %s parameters\n", o->out.c_str(), bert::task_class_name(model->task),
                with_commas(model->num_parameters()).c_str());
  });
}

}  // namespace bertlab::cli
