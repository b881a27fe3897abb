// bert/cli/cmd_finetune.cpp — `bertlab finetune classify|ner|qa` and `bertlab eval
// classify|ner|qa`: flags only; the work is bert/tasks/finetune.h and bert/tasks/evaluate.h
// (transformers' run_glue.py / run_ner.py / run_qa.py with Trainer's defaults).
//
//   bertlab finetune classify --model models/all-MiniLM-L6-v2 --train data/sst2/train.tsv
//       --dev data/sst2/dev.tsv --label-names negative,positive --epochs 1 --out runs/sst2
//   bertlab eval classify --model runs/sst2/best --data data/sst2/dev.tsv --json
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "bert/tasks/evaluate.h"
#include "bert/tasks/finetune.h"
#include "cuda/gemm.h"

namespace bertlab::cli {

namespace {

struct FinetuneFlags {
  tasks::FinetuneOptions o;
  std::string eval_every = "epoch", lang_prefix = "auto", label_names;
  CommonFlags common;
  bool tf32 = false;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  for (auto& x : out) {
    size_t a = x.find_first_not_of(' '), b = x.find_last_not_of(' ');
    x = a == std::string::npos ? "" : x.substr(a, b - a + 1);
  }
  return out;
}

tasks::LangPrefix lang_prefix_of(const std::string& s) {
  return s == "strip" ? tasks::LangPrefix::Strip : s == "keep" ? tasks::LangPrefix::Keep : tasks::LangPrefix::Auto;
}

// [CLS] question [SEP] window [SEP] must fit in --max-length with at least one question token,
// so consecutive windows can overlap by --doc-stride only if it is below --max-length - 4
// (longer questions are checked against it one by one when the data is read).
void check_qa_room(const std::string& task, int64_t max_length, const tasks::QaOptions& qa) {
  if (task != "qa") return;
  const int64_t len = max_length > 0 ? max_length : 384;
  if (qa.doc_stride + 4 >= len)
    usage_error("--doc-stride " + std::to_string(qa.doc_stride) + " leaves no room for the question: it must be less than " +
                (max_length > 0 ? "--max-length " : "the default --max-length ") + std::to_string(len) +
                " minus 4 (one question token and 3 special tokens)");
}

void add_data_flags(CLI::App* c, const std::string& task, tasks::ClassifyColumns& cols, std::string& lang_prefix,
                    tasks::QaOptions& qa) {
  if (task == "classify") {
    c->add_option("--format", cols.format, "tsv, csv or jsonl (default: from the file's extension)")
        ->check(one_of({"tsv", "csv", "jsonl"}));
    c->add_option("--text-column", cols.text, "text column: a header name or a number from 0 (default: sentence, text, ...)");
    c->add_option("--pair-column", cols.pair, "second text column (default: sentence2/question2/hypothesis if present; - for none)");
    c->add_option("--label-column", cols.label, "label column: a header name or a number")->capture_default_str();
  } else if (task == "ner") {
    c->add_option("--lang-prefix", lang_prefix, "WikiANN-style 'en:' token prefixes: auto (strip when every token has one), strip, keep")
        ->check(one_of({"auto", "strip", "keep"}))
        ->capture_default_str();
  } else {
    c->add_option("--doc-stride", qa.doc_stride, "tokens shared by consecutive context windows (less than --max-length minus the question and 3)")
        ->check(at_least<long>(1))
        ->capture_default_str();
    c->add_option("--max-query-length", qa.max_query_length, "question tokens kept")->check(at_least<long>(1))->capture_default_str();
    c->add_option("--n-best", qa.n_best, "start and end candidates per window in post-processing")
        ->check(in_range<long>(1, 10000))
        ->capture_default_str();
    c->add_option("--max-answer-length", qa.max_answer_length, "longest answer in tokens")->check(at_least<long>(1))->capture_default_str();
  }
}

void add_finetune_task(CLI::App& parent, const std::string& task, const std::string& help) {
  auto f = std::make_shared<FinetuneFlags>();
  f->o.task = task;
  auto* c = parent.add_subcommand(task, help);
  auto& o = f->o;
  c->add_option("--model", o.model, "pretrained model folder (Hugging Face format: config.json, model.safetensors, vocab.txt)")
      ->transform(model_folder());
  c->add_option("--config", o.config, "train from scratch instead: a preset (bert-tiny ... bert-base, distilbert-tiny, distilbert-base-uncased) or a config.json");
  c->add_option("--vocab", o.vocab, "with --config: the vocab.txt (default: the bundled bert-base-uncased vocabulary)");
  c->add_option("--train", o.train, "training file")->required();
  c->add_option("--dev", o.dev, "dev file, scored after each epoch; the best checkpoint becomes RUN_DIR/best");
  c->add_option("--out", o.out, "run folder (checkpoints, best/, metrics.jsonl)")->required();
  c->add_option("--epochs", o.epochs, "passes over the training data")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--lr", o.lr, task == "qa" ? "peak learning rate (default 3e-5)" : "peak learning rate (default 5e-5)")
      ->check(greater_than(0));
  c->add_option("--batch-size", o.batch_size, task == "qa" ? "examples per batch, per rank under mpirun (default 16)" : "examples per batch, per rank under mpirun (default 32)")
      ->check(at_least<long>(1));
  c->add_option("--eval-batch-size", o.eval_batch_size, "examples per evaluation batch (default 64; qa 32)")
      ->check(at_least<long>(1));
  c->add_option("--warmup-ratio", o.warmup_ratio, "fraction of steps with linear warmup")->check(in_range<double>(0, 1))->capture_default_str();
  c->add_option("--max-length", o.max_length,
                task == "qa" ? "max_seq_length in tokens (default 384)" : "tokens per sequence; longer ones are truncated (default 128)")
      ->check(at_least<long>(1));
  c->add_option("--weight-decay", o.weight_decay, "AdamW weight decay (not on biases and LayerNorm)")
      ->check(at_least<double>(0))
      ->capture_default_str();
  c->add_flag("--freeze-encoder", o.freeze_encoder, "freeze the encoder (bert.*): only the head trains");
  c->add_option("--grad-accum,--gradient-accumulation-steps", o.grad_accum, "batches accumulated per optimizer step (per rank under mpirun)")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--debug-nan-at-step", o.inject_nan_at_step)->check(at_least<long>(0))->group("");  // tests
  c->add_option("--zero-stage", o.zero_stage, "under mpirun: 1 splits AdamW's moments over the ranks (ZeRO-1: reduce-scatter, a slice each, all-gather); 0 keeps them whole")->check(CLI::IsMember({0, 1}))->capture_default_str();
  c->add_option("--clip", o.clip, "clip the gradient norm at this value (0: off)")->check(at_least<double>(0))->capture_default_str();
  c->add_flag("--group-by-length", o.group_by_length, "batches of similar lengths (less padding, faster; Trainer's group_by_length)");
  c->add_option("--eval-every", f->eval_every, "'epoch', or a number of optimizer steps")->capture_default_str();
  add_seed_flag(c, o.seed, "head init, shuffling, dropout, --max-train-examples");
  c->add_option("--max-train-examples", o.max_train_examples, "train on a random subset of N examples (0: all)")
      ->check(at_least<long>(0));
  c->add_option("--max-eval-examples", o.max_eval_examples, "score only the first N dev examples (0: all)")->check(at_least<long>(0));
  c->add_option("--log-every", o.log_every, "steps between log lines")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--keep", o.keep, "checkpoint-<step> folders to keep (best/ is kept apart)")->check(at_least<int>(0))->capture_default_str();
  c->add_flag("--resume", o.resume, "continue from the run folder's latest checkpoint (same flags)");
  c->add_flag("--tf32", f->tf32, "with --device cuda: TF32 tensor cores for the float32 matrix products (faster, 10-bit mantissa)");
  add_common_flags(c, f->common, kThreads | kDevice | kNoProgress | kJson | kDType, "print the best evaluation as one JSON object at the end");
  if (task == "classify")
    c->add_option("--label-names", f->label_names, "names for integer labels 0..n-1, comma-separated (e.g. negative,positive)");
  add_data_flags(c, task, o.columns, f->lang_prefix, o.qa);
  c->footer(
      "Writes RUN_DIR/best (the best checkpoint by dev " + tasks::best_metric_name(task) +
      "; the last one without --dev), checkpoint-<step>, metrics.jsonl and eval_results.json. Sequences longer "
      "than --max-length are truncated; --max-length above the model's max_position_embeddings is an error. "
      "Ctrl-C saves a checkpoint and stops (exit code 130). mpirun -np N bertlab finetune ... trains on N "
      "processes (a step is --batch-size x N x --grad-accum examples; docs/distributed.md).");
  c->callback([f] {
    tasks::FinetuneOptions o = f->o;
    check_qa_room(o.task, o.max_length, o.qa);
    o.device = f->common.apply();
    cuda::set_allow_tf32(f->tf32);
    o.lang_prefix = lang_prefix_of(f->lang_prefix);
    o.progress = !f->common.no_progress;
    if (!f->label_names.empty()) o.label_names = split_commas(f->label_names);
    if (f->eval_every == "epoch") {
      o.eval_every = 0;
    } else {
      try {
        size_t pos = 0;
        o.eval_every = std::stoll(f->eval_every, &pos);
        if (pos != f->eval_every.size() || o.eval_every <= 0) throw std::invalid_argument("");
      } catch (const std::exception&) {
        usage_error("--eval-every must be 'epoch' or a positive number of steps, got '" + f->eval_every + "'");
      }
    }
    if (!o.config.empty() && o.vocab.empty()) {
      bert::BertConfig c = resolve_config(o.config);
      o.vocab = default_vocab(c.vocab_size == 28996);
      o.do_lower_case = c.vocab_size != 28996;
    }
    tasks::FinetuneResult r = tasks::finetune(o);
    if (f->common.json) std::printf("%s\n", r.best.dump().c_str());
    if (r.interrupted) throw CLI::RuntimeError(kExitInterrupted);
  });
}

void add_eval_task(CLI::App& parent, const std::string& task, const std::string& help) {
  struct Flags {
    std::string model, data, lang_prefix = "auto";
    tasks::EvalOptions o;
    CommonFlags common;
  };
  auto f = std::make_shared<Flags>();
  auto* c = parent.add_subcommand(task, help);
  c->add_option("--model", f->model, "fine-tuned model folder (e.g. RUN_DIR/best)")->required()->transform(model_folder());
  c->add_option("--data", f->data, "labelled file to score")->required();
  c->add_option("--batch-size", f->o.batch_size, "examples per batch")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--max-length", f->o.max_length, task == "qa" ? "max_seq_length (default 384)" : "tokens per sequence (default 128)")
      ->check(at_least<long>(1));
  c->add_option("--max-examples", f->o.max_examples, "score only the first N examples (0: all)")->check(at_least<long>(0));
  c->add_option("--predictions", f->o.predictions,
                task == "classify" ? "also write each example's prediction: TSV with line, text, gold, predicted, score"
                : task == "ner"    ? "also write the predicted tags: CoNLL columns token, gold, predicted"
                                   : "also write SQuAD's predictions.json ({question id: answer}, for evaluate-v1.1.py)");
  add_common_flags(c, f->common, kThreads | kDevice | kJson | kDType, "print one JSON object");
  add_data_flags(c, task, f->o.columns, f->lang_prefix, f->o.qa);
  c->callback([f, task] {
    check_qa_room(task, f->o.max_length, f->o.qa);
    tasks::EvalOptions o = f->o;
    o.device = f->common.apply();
    o.lang_prefix = lang_prefix_of(f->lang_prefix);
    nlohmann::json j = tasks::evaluate_file(task, f->model, f->data, o);
    if (f->common.json) {
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("%s on %s (%lld examples)\n", f->model.c_str(), f->data.c_str(), (long long)j["n"].get<int64_t>());
    if (!o.predictions.empty()) std::printf("predictions written to %s\n", o.predictions.c_str());
    if (task == "classify") {
      std::printf("accuracy   %.4f\n", j["accuracy"].get<double>());
      if (j.contains("f1")) std::printf("f1         %.4f   (label id 1 positive)\n", j["f1"].get<double>());
    } else if (task == "ner") {
      std::printf("entity precision %.4f  recall %.4f  f1 %.4f   (seqeval / conlleval)\n", j["precision"].get<double>(),
                  j["recall"].get<double>(), j["f1"].get<double>());
      std::printf("strict IOB2      precision %.4f  recall %.4f  f1 %.4f\n", j["strict_precision"].get<double>(),
                  j["strict_recall"].get<double>(), j["strict_f1"].get<double>());
      std::printf("token accuracy   %.4f\n", j["accuracy"].get<double>());
      for (auto& [t, v] : j["per_type"].items())
        std::printf("  %-16s precision %.4f  recall %.4f  f1 %.4f  (%lld)\n", t.c_str(), v["precision"].get<double>(),
                    v["recall"].get<double>(), v["f1"].get<double>(), (long long)v["number"].get<int64_t>());
    } else {
      std::printf("exact match %.2f   f1 %.2f   (SQuAD v1.1)\n", j["exact_match"].get<double>(), j["f1"].get<double>());
    }
  });
}

}  // namespace

void add_finetune_command(CLI::App& app) {
  auto* c = app.add_subcommand("finetune", "fine-tune a model: classify (TSV/CSV/JSONL), ner (CoNLL), qa (SQuAD v1.1)");
  c->require_subcommand(1);
  add_finetune_task(*c, "classify", "sequence classification (GLUE-style, e.g. SST-2): accuracy, F1 for two labels");
  add_finetune_task(*c, "ner", "token classification on CoNLL column files (IOB1/IOB2): entity F1 (seqeval)");
  add_finetune_task(*c, "qa", "extractive question answering on SQuAD v1.1 JSON: exact match and F1");
}

void add_eval_tasks(CLI::App& eval) {
  add_eval_task(eval, "classify", "accuracy (and F1 for two labels) of a classifier on a labelled file");
  add_eval_task(eval, "ner", "entity precision / recall / F1 (seqeval, conlleval and strict IOB2) on a CoNLL file");
  add_eval_task(eval, "qa", "SQuAD v1.1 exact match and F1 on a SQuAD JSON file");
}

}  // namespace bertlab::cli
