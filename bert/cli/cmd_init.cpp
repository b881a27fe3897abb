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
  c->add_option("--config", o->config, "preset (bert-tiny ... bert-large[-cased], distilbert-base-[un]cased, distilbert-tiny) or a config.json")->capture_default_str();
  c->add_option("--task", o->task, "head: pretrain, mlm, nsp, classify, ner, qa")
      ->check(one_of({"pretrain", "mlm", "nsp", "classify", "ner", "qa"}))
      ->capture_default_str();
  c->add_option("--num-labels", o->num_labels, "labels of a classify/ner head")->check(in_range<long>(1, 1 << 20));
  c->add_option("--out", o->out, "folder to create")->required();
  c->add_option("--vocab", o->vocab, "vocab.txt to ship with it (default: the bundled uncased/cased vocab)");
  add_seed_flag(c, o->seed, "the initial weights");
  c->callback([o] {
    if (o->num_labels > 0 && o->task != "classify" && o->task != "ner")
      usage_error("--num-labels applies to classify and ner heads only");
    auto model = new_model(task_from_cli(o->task), o->config, o->num_labels);
    const bert::BertConfig& config = model->config;
    Generator g(o->seed);
    model->init_weights(g);
    bert::TokenizerFiles tok;
    tok.vocab_file = o->vocab.empty() ? default_vocab(config.vocab_size == 28996) : o->vocab;
    tok.do_lower_case = config.vocab_size != 28996;
    bert::save_pretrained(*model, o->out, tok);
    std::printf("wrote %s: %s, %s parameters\n", o->out.c_str(), model->class_name().c_str(),
                with_commas(model->num_parameters()).c_str());
  });
}

}  // namespace bertlab::cli
