// bert/cli/cmd_pretrain.cpp — `bertlab pretrain` (MLM + NSP pre-training, BERT paper section 3.1)
// and `bertlab eval pretrain` (MLM / NSP accuracy of a model on a corpus). Flags only: the loop
// is bert/pretrain.cpp, the data bert/pretrain_data.cpp.
//
//   bertlab pretrain --config bert-mini --corpus data/wikitext2/wiki.test.raw --steps 2000 --out runs/mini
//   bertlab pretrain --out runs/mini --corpus ... --steps 2000 --resume            (same flags + --resume)
//   bertlab eval pretrain --model runs/mini/final --corpus held_out.txt
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bert/checkpoint.h"
#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "bert/pretrain.h"
#include "bert/train/progress.h"
#include "cuda/gemm.h"

namespace bertlab::cli {

namespace {

// --holdout-every: 0 (no held-out split) or N >= 2 (every N-th document; 1 would hold out all).
CLI::Validator holdout_every() {
  const CLI::Validator number = at_least<long>(0);
  return CLI::Validator(
      [number](std::string& s) -> std::string {
        std::string err = number(s);
        if (err.empty() && s == "1") err = "must be 0 (none) or at least 2, got 1";
        return err;
      },
      "0 or at least 2");
}

}  // namespace

void add_pretrain_command(CLI::App& app) {
  struct Opts {
    bert::PretrainOptions p;
    std::string config = "bert-mini";
    std::string resume;
    bool tf32 = false;
    CommonFlags common;
  };
  auto o = std::make_shared<Opts>();
  auto& p = o->p;
  p.out = "runs/pretrain";
  auto* c = app.add_subcommand("pretrain", "pre-train BERT with masked LM + next sentence prediction on plain text");
  c->footer(
      "Corpus formats: 'lines' = one sentence per line, a blank line between documents (create_pretraining_data.py);\n"
      "'raw' = one paragraph per line, split into sentences, ' = Title = ' headings start documents (WikiText).\n"
      "A run folder gets metrics.jsonl, checkpoint-<step>/ (resumable), final/ (Hugging Face format).\n"
      "Ctrl-C saves a checkpoint and stops (exit code 130); --resume continues exactly where it stopped.\n"
      "Data parallel: mpirun -np N bertlab pretrain ... trains one model on N processes, each on its part of every\n"
      "batch (a step is --batch-size x N x --grad-accum sequences); see docs/distributed.md.");
  // model
  c->add_option("--config", o->config, "preset (bert-tiny, bert-mini, bert-small, bert-medium, bert-base, ...) or config.json, for a new model")
      ->capture_default_str();
  c->add_option("--model", p.model_dir, "continue pre-training a model folder (Hugging Face format) instead")
      ->transform(model_folder());
  // data
  c->add_option("--corpus", p.corpus, "training text file (repeat for more)")->required();
  c->add_option("--corpus-format", p.corpus_format, "auto, lines or raw (auto: raw for *.raw or WikiText headings)")
      ->check(one_of({"auto", "lines", "raw"}))
      ->capture_default_str();
  c->add_option("--eval-corpus", p.eval_corpus, "held-out text for evaluation (default: every --holdout-every-th document of --corpus)");
  c->add_option("--holdout-every", p.holdout_every, "hold out every N-th document for evaluation (0: none)")
      ->check(holdout_every())
      ->capture_default_str();
  c->add_option("--eval-examples", p.eval_examples, "examples in the evaluation set")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--vocab", p.vocab, "vocab.txt (default: the model's, or the bundled bert-base-uncased vocab)");
  c->add_option("--max-seq-length", p.max_seq_length, "tokens per example, [CLS] A [SEP] B [SEP]")
      ->check(at_least<long>(8))
      ->capture_default_str();
  c->add_option("--max-predictions", p.max_predictions_per_seq, "masked tokens per example at most (0: 15% of --max-seq-length)")
      ->check(at_least<long>(0))
      ->capture_default_str();
  c->add_option("--mlm-prob", p.masked_lm_prob, "share of tokens to predict")->check(in_range<double>(0.001, 1))->capture_default_str();
  c->add_option("--short-seq-prob", p.short_seq_prob, "share of examples made shorter than --max-seq-length")
      ->check(in_range<double>(0, 1))
      ->capture_default_str();
  c->add_flag("--whole-word-masking", p.whole_word_masking, "mask every WordPiece of a word together");
  c->add_option("--shuffle-buffer", p.shuffle_buffer, "examples shuffled together")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--doc-window", p.window_docs, "documents kept in memory for random next sentences")
      ->check(at_least<long>(1))
      ->capture_default_str();
  // optimisation
  c->add_option("--batch-size", p.batch_size, "examples per micro-batch (per rank under mpirun)")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--grad-accum,--gradient-accumulation-steps", p.grad_accum, "micro-batches per optimizer step (per rank under mpirun)")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--zero-stage", p.zero_stage, "under mpirun: 1 splits AdamW's moments over the ranks (ZeRO-1: reduce-scatter, a slice each, all-gather); 0 keeps them whole")->check(CLI::IsMember({0, 1}))->capture_default_str();
  c->add_option("--lr", p.lr, "peak learning rate (AdamW)")->check(greater_than(0))->capture_default_str();
  auto* ws = c->add_option("--warmup-steps", p.warmup_steps, "linear warmup steps")->check(at_least<long>(0));
  c->add_option("--warmup-ratio", p.warmup_ratio, "warmup as a share of --steps (when --warmup-steps is not given)")
      ->check(in_range<double>(0, 1))
      ->capture_default_str()
      ->excludes(ws);
  c->add_option("--steps", p.steps, "optimizer steps in all (the learning rate decays to 0 there)")->check(at_least<long>(0));
  c->add_option("--max-minutes", p.max_minutes, "time budget: save and stop after this many minutes")->check(at_least<double>(0));
  c->add_option("--weight-decay", p.weight_decay, "AdamW weight decay (not on biases and LayerNorm)")
      ->check(at_least<double>(0))
      ->capture_default_str();
  c->add_option("--clip", p.clip, "clip the gradient norm (0: off)")->check(at_least<double>(0))->capture_default_str();
  // bookkeeping
  c->add_option("--out", p.out, "run folder")->capture_default_str();
  c->add_option("--resume", o->resume,
                "continue the newest checkpoint in --out (no value), or a checkpoint folder; give the run's other flags again")
      ->expected(0, 1);
  c->add_option("--eval-every", p.eval_every, "evaluate every N steps (0: at the end only)")->check(at_least<long>(0))->capture_default_str();
  c->add_option("--save-every", p.save_every, "checkpoint every N steps (0: at the end only)")->check(at_least<long>(0))->capture_default_str();
  c->add_option("--keep", p.keep, "checkpoints to keep (0: all)")->check(at_least<int>(0))->capture_default_str();
  c->add_option("--log-every", p.log_every, "log a line / metrics record every N steps")->check(at_least<long>(1))->capture_default_str();
  add_seed_flag(c, p.seed, "initialisation, data, dropout");
  add_common_flags(c, o->common, kThreads | kDevice | kNoProgress | kDType);
  c->add_flag("--tf32", o->tf32, "with --device cuda: TF32 tensor cores for the float32 matrix products (faster, 10-bit mantissa)");
  // For tests of the NaN stop only: pretend the loss is NaN at this step.
  c->add_option("--debug-nan-at-step", p.debug_nan_at_step)->check(at_least<long>(0))->group("");

  c->callback([o, c] {
    auto& p = o->p;
    p.threads = o->common.threads;
    p.device = o->common.device;
    p.progress = !o->common.no_progress;
    cuda::set_allow_tf32(o->tf32);
    if (p.steps == 0 && p.max_minutes == 0) usage_error("give --steps N and/or --max-minutes M (when to stop)");
    if (c->count("--resume")) p.resume = o->resume.empty() ? "latest" : o->resume;
    if (p.model_dir.empty() && p.resume.empty()) {
      p.config = resolve_config(o->config);
      p.config_name = o->config;
      if (p.vocab.empty()) {
        const bool cased = p.config->vocab_size == 28996;
        p.vocab = default_vocab(cased);
        p.do_lower_case = !cased;
      }
    }
    bert::PretrainResult r = bert::run_pretraining(p);
    const int64_t took = r.step - r.start_step;
    std::printf("pretrain: %lld steps (now at step %lld) in %s, %s tok/s\n", (long long)took, (long long)r.step,
                train::format_duration(r.seconds).c_str(),
                train::format_count(r.seconds > 0 ? (double)r.tokens / r.seconds : 0).c_str());
    if (!r.history.empty()) {
      const auto& h = r.history.back();
      std::printf("pretrain: last step: loss %.4f (MLM %.4f, NSP %.4f)\n", h.loss, h.mlm_loss, h.nsp_loss);
    }
    if (r.eval)
      std::printf("pretrain: eval (%lld examples): loss %.4f (MLM %.4f, NSP %.4f), MLM accuracy %.4f, NSP accuracy %.4f\n",
                  (long long)r.eval->examples, r.eval->loss, r.eval->mlm_loss, r.eval->nsp_loss, r.eval->mlm_accuracy,
                  r.eval->nsp_accuracy);
    if (!r.last_checkpoint.empty()) std::printf("pretrain: checkpoint %s\n", r.last_checkpoint.c_str());
    if (r.interrupted) {
      std::printf("pretrain: interrupted; continue with the same flags and --resume\n");
      std::fflush(stdout);
      throw CLI::RuntimeError(kExitInterrupted);
    }
    if (!r.final_dir.empty()) std::printf("pretrain: model %s\n", r.final_dir.c_str());
  });
}

void add_eval_pretrain(CLI::App& eval) {
  struct Opts {
    std::string model = "runs/pretrain/final", format = "auto";
    std::vector<std::string> corpus;
    int64_t max_seq_length = 128, examples = 1000, batch_size = 32;
    uint64_t seed = 12345;
    bool wwm = false;
    CommonFlags common;
  };
  auto o = std::make_shared<Opts>();
  auto* c = eval.add_subcommand("pretrain", "masked-LM and next-sentence accuracy of a model on a text corpus");
  c->add_option("--model", o->model, "model folder with the pre-training heads")->capture_default_str()->transform(model_folder());
  // --data as in `eval classify|ner|qa`; --corpus as in `pretrain`
  c->add_option("--corpus,--data", o->corpus, "text file (repeat for more)")->required();
  c->add_option("--corpus-format", o->format, "auto, lines or raw")->check(one_of({"auto", "lines", "raw"}))->capture_default_str();
  c->add_option("--max-seq-length", o->max_seq_length, "tokens per example")->check(at_least<long>(8))->capture_default_str();
  c->add_option("--examples", o->examples, "examples to evaluate (the first of one pass, fewer if the corpus is small)")
      ->check(at_least<long>(1))
      ->capture_default_str();
  c->add_option("--batch-size", o->batch_size, "examples per batch")->check(at_least<long>(1))->capture_default_str();
  add_seed_flag(c, o->seed, "the masks and pairs");
  c->add_flag("--whole-word-masking", o->wwm, "mask whole words");
  add_common_flags(c, o->common, kThreads | kDevice | kJson | kDType, "print one JSON object");
  c->callback([o] {
    const Device dev = o->common.apply();
    bert::LoadInfo info;
    auto m = std::dynamic_pointer_cast<bert::BertForPreTraining>(
        bert::bert_from_pretrained(o->model, bert::Task::PreTraining, &info));
    bool nsp_missing = false;
    for (const auto& n : info.newly_initialized) {
      if (n.rfind("cls.predictions", 0) == 0) fail("eval pretrain: " + o->model + " has no masked-LM head (" + n + " is missing)");
      nsp_missing |= n.rfind("cls.seq_relationship", 0) == 0;
    }
    if (nsp_missing)
      std::fprintf(stderr, "eval pretrain: warning: %s has no next-sentence head; its NSP numbers are a random head's\n",
                   o->model.c_str());
    auto tok = std::make_shared<tokenizer::BertTokenizer>(tokenizer::BertTokenizer::from_pretrained(o->model));
    if (o->max_seq_length > m->config.max_position_embeddings)
      fail("eval pretrain: --max-seq-length " + std::to_string(o->max_seq_length) +
           " is larger than the model's max_position_embeddings (" + std::to_string(m->config.max_position_embeddings) + ")");
    bert::PretrainDataOptions d;
    d.max_seq_length = o->max_seq_length;
    d.whole_word_masking = o->wwm;
    d.seed = o->seed;
    d.format = bert::parse_corpus_format(o->format);
    d.loop = false;
    d.shuffle_buffer = 1;
    bert::ExampleStream s(o->corpus, tok, d);
    const std::vector<bert::Example> ex = s.take(o->examples);
    m->to(dev);
    const bert::PretrainEval e = bert::evaluate_pretraining(*m, ex, o->batch_size, tok->pad_id(), dev);
    if (o->common.json) {
      nlohmann::json j = e.to_json("");
      j["model"] = o->model;
      j["predictions"] = e.predictions;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%s on %lld examples (%lld masked tokens): loss %.4f (MLM %.4f, NSP %.4f), MLM accuracy %.4f, NSP accuracy %.4f\n",
                  o->model.c_str(), (long long)e.examples, (long long)e.predictions, e.loss, e.mlm_loss, e.nsp_loss,
                  e.mlm_accuracy, e.nsp_accuracy);
    }
  });
}

}  // namespace bertlab::cli
