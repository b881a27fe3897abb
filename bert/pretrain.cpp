// bert/pretrain.cpp — see pretrain.h. The loop follows transformers' Trainer for the
// bookkeeping (AdamW, linear schedule, clip, accumulation) and Google's run_pretraining.py for
// the loss (the MLM head on the masked positions only).
#include "bert/pretrain.h"

#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "bert/checkpoint.h"
#include "bert/io.h"
#include "bert/train/distributed.h"
#include "bert/train/loop.h"
#include "bert/train/progress.h"
#include "bert/train/run.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tokenizer/tokenizer_json.h"

namespace bertlab::bert {

namespace fs = std::filesystem;

nlohmann::json PretrainEval::to_json(const std::string& p) const {
  return {{p + "loss", loss},
          {p + "mlm_loss", mlm_loss},
          {p + "nsp_loss", nsp_loss},
          {p + "mlm_accuracy", mlm_accuracy},
          {p + "nsp_accuracy", nsp_accuracy},
          {p + "examples", examples}};
}

PretrainLoss pretraining_loss(const BertForPreTraining& m, const PretrainBatch& b) {
  PretrainLoss L;
  BertOutputs o = m.bert->forward(b.input_ids, b.attention_mask, b.token_type_ids);
  const Tensor& h = o.last_hidden_state;  // (B,T,C)
  const Tensor flat = reshape(h, {h.size(0) * h.size(1), h.size(2)});
  const Tensor hm = index_select(flat, 0, b.masked_positions);  // (M,C)
  L.mlm_logits = m.predictions->forward(hm);                     // (M,V)
  L.mlm_targets = b.masked_labels;
  L.mlm_loss = cross_entropy(L.mlm_logits, b.masked_labels);
  L.nsp_logits = m.seq_relationship->forward(o.pooler_output);  // (B,2)
  L.nsp_loss = cross_entropy(L.nsp_logits, b.next_sentence_label);
  L.loss = L.mlm_loss + L.nsp_loss;
  return L;
}

PretrainEval evaluate_pretraining(BertForPreTraining& m, const std::vector<Example>& examples, int64_t batch_size,
                                  int64_t pad_id, Device device) {
  PretrainEval e;
  if (examples.empty()) return e;
  NoGradGuard ng;
  const bool was_training = m.is_training();
  m.eval();
  double mlm_sum = 0, nsp_sum = 0;
  int64_t mlm_right = 0, nsp_right = 0;
  for (size_t i = 0; i < examples.size(); i += (size_t)batch_size) {
    std::vector<Example> chunk(examples.begin() + i, examples.begin() + std::min(examples.size(), i + batch_size));
    PretrainBatch b = to_device(collate(chunk, pad_id), device);
    PretrainLoss L = pretraining_loss(m, b);
    const int64_t B = (int64_t)chunk.size();
    mlm_sum += L.mlm_loss.item() * (double)b.masked;
    nsp_sum += L.nsp_loss.item() * (double)B;
    const std::vector<int64_t> mp = argmax(L.mlm_logits, 1).tolist<int64_t>(), mt = L.mlm_targets.tolist<int64_t>();
    for (size_t k = 0; k < mp.size(); ++k) mlm_right += mp[k] == mt[k];
    const std::vector<int64_t> np = argmax(L.nsp_logits, 1).tolist<int64_t>(),
                               nt = b.next_sentence_label.tolist<int64_t>();
    for (size_t k = 0; k < np.size(); ++k) nsp_right += np[k] == nt[k];
    e.examples += B;
    e.predictions += b.masked;
  }
  m.train(was_training);
  e.mlm_loss = e.predictions ? mlm_sum / (double)e.predictions : 0;
  e.nsp_loss = nsp_sum / (double)e.examples;
  e.loss = e.mlm_loss + e.nsp_loss;
  e.mlm_accuracy = e.predictions ? (double)mlm_right / (double)e.predictions : 0;
  e.nsp_accuracy = (double)nsp_right / (double)e.examples;
  return e;
}

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void check_options(const PretrainOptions& o) {
  auto bad = [](const std::string& flag, const std::string& what) { fail("pretrain: " + flag + " " + what); };
  if (o.corpus.empty()) bad("--corpus", "is required (a text file; repeat the flag for more)");
  if (o.batch_size < 1) bad("--batch-size", "must be at least 1, got " + std::to_string(o.batch_size));
  if (o.grad_accum < 1) bad("--grad-accum", "must be at least 1, got " + std::to_string(o.grad_accum));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) bad("--lr", "must be positive, got " + std::to_string(o.lr));
  if (o.steps < 0) bad("--steps", "must not be negative");
  if (o.max_minutes < 0) bad("--max-minutes", "must not be negative");
  if (o.steps == 0 && o.max_minutes == 0) fail("pretrain: give --steps N and/or --max-minutes M (when to stop)");
  if (o.warmup_ratio < 0 || o.warmup_ratio > 1) bad("--warmup-ratio", "must be in [0, 1]");
  if (o.weight_decay < 0) bad("--weight-decay", "must not be negative");
  if (o.clip < 0) bad("--clip", "must not be negative (0 turns clipping off)");
  if (o.max_seq_length < 8) bad("--max-seq-length", "must be at least 8, got " + std::to_string(o.max_seq_length));
  if (o.holdout_every == 1 || o.holdout_every < 0) bad("--holdout-every", "must be 0 (none) or at least 2");
  if (o.device != "cpu" && o.device != "cuda") bad("--device", "must be cpu or cuda, got '" + o.device + "'");
  if (o.log_every < 1) bad("--log-every", "must be at least 1");
  for (const auto& f : o.corpus)
    if (!fs::exists(f)) fail("pretrain: --corpus " + f + ": no such file");
  for (const auto& f : o.eval_corpus)
    if (!fs::exists(f)) fail("pretrain: --eval-corpus " + f + ": no such file");
}

// What decides the training examples and their order: must match on --resume.
nlohmann::json data_signature(const PretrainOptions& o, const PretrainDataOptions& d) {
  nlohmann::json corpus = nlohmann::json::array();
  for (const auto& f : o.corpus) corpus.push_back(fs::path(f).filename().string());
  nlohmann::json j = d.to_json();
  j["corpus"] = corpus;
  j["batch_size"] = o.batch_size;
  j["grad_accum"] = o.grad_accum;
  return j;
}

}  // namespace

PretrainResult run_pretraining(const PretrainOptions& o) {
  check_options(o);
  PretrainResult res;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  auto say = [&](const std::string& s) {  // (data parallel: rank 0 speaks for all)
    if (!o.quiet && dist::is_main()) std::fprintf(stderr, "%s\n", s.c_str());
  };
  const int64_t world = dist::world_size(), rank = dist::rank();
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const Device device = o.device == "cuda" ? Device::CUDA : Device::CPU;

  // --- where we start: a checkpoint, a model folder, or a config ---------------------
  std::string run_dir = o.out;
  std::string ckpt;
  if (!o.resume.empty()) {
    if (o.resume == "latest") {
      if (run_dir.empty()) run_dir = "runs/pretrain";
      ckpt = train::latest_checkpoint(run_dir);
      if (ckpt.empty()) fail("pretrain: --resume: no checkpoint-<step> folder in " + run_dir + " to resume from");
    } else {
      ckpt = o.resume;
      if (!file_exists((fs::path(ckpt) / "trainer_state.json").string()))
        fail("pretrain: --resume " + ckpt + ": not a checkpoint folder (no trainer_state.json)");
      if (run_dir.empty()) run_dir = fs::path(ckpt).lexically_normal().parent_path().string();
      if (run_dir.empty()) run_dir = ".";
    }
  }
  if (run_dir.empty()) run_dir = "runs/pretrain";
  if (ckpt.empty() && !train::latest_checkpoint(run_dir).empty())
    fail("pretrain: " + run_dir + " already holds checkpoints (" + train::latest_checkpoint(run_dir) +
         "); pass --resume to continue that run, or choose another --out");

  std::shared_ptr<BertForPreTraining> model;
  std::string vocab_file = o.vocab;
  bool lower = o.do_lower_case;
  std::string tok_dir;  // a folder whose tokenizer files to use
  if (!ckpt.empty() || !o.model_dir.empty()) {
    const std::string dir = !ckpt.empty() ? ckpt : o.model_dir;
    LoadInfo info;
    auto m = bert_from_pretrained(dir, Task::PreTraining, &info, 0, o.seed, /*new_head=*/ckpt.empty());
    model = std::dynamic_pointer_cast<BertForPreTraining>(m);
    if (!model) fail("pretrain: " + dir + " did not load as BertForPreTraining");
    if (ckpt.empty() && !info.newly_initialized.empty()) say("pretrain: " + info.summary());
    if (vocab_file.empty() && (file_exists((fs::path(dir) / "vocab.txt").string()) ||
                               file_exists((fs::path(dir) / "tokenizer.json").string())))
      tok_dir = dir;
  } else {
    if (!o.config) fail("pretrain: no model: give --config (a preset or config.json) or --model DIR");
    o.config->validate();
    model = std::make_shared<BertForPreTraining>(*o.config);
    Generator g(o.seed);
    model->init_weights(g);
  }
  const BertConfig& cfg = model->config;
  if (o.max_seq_length > cfg.max_position_embeddings)
    fail("pretrain: --max-seq-length " + std::to_string(o.max_seq_length) + " is larger than the model's max_position_embeddings (" +
         std::to_string(cfg.max_position_embeddings) + ")");
  if (cfg.type_vocab_size < 2) fail("pretrain: the model has type_vocab_size " + std::to_string(cfg.type_vocab_size) + "; NSP pairs need 2");

  // --- tokenizer and data ------------------------------------------------------------
  std::shared_ptr<tokenizer::BertTokenizer> tok;
  std::string vocab_text;  // the vocabulary a folder's tokenizer.json holds (transformers 5 writes no vocab.txt)
  if (!tok_dir.empty()) {
    tok = std::make_shared<tokenizer::BertTokenizer>(tokenizer::BertTokenizer::from_pretrained(tok_dir));
    vocab_file = (fs::path(tok_dir) / "vocab.txt").string();
    if (file_exists((fs::path(tok_dir) / "tokenizer.json").string())) vocab_text = tokenizer::to_vocab_txt(tok->vocab());
    lower = tok->options().do_lower_case;
  } else {
    if (vocab_file.empty()) fail("pretrain: no vocabulary: give --vocab FILE");
    if (!file_exists(vocab_file)) fail("pretrain: --vocab " + vocab_file + ": no such file");
    tokenizer::TokenizerOptions to;
    to.do_lower_case = lower;
    tok = std::make_shared<tokenizer::BertTokenizer>(vocab_file, to);
  }
  if ((int64_t)tok->vocab().size() > cfg.vocab_size)
    fail("pretrain: the vocabulary " + vocab_file + " has " + std::to_string(tok->vocab().size()) +
         " tokens, more than the model's vocab_size " + std::to_string(cfg.vocab_size));

  PretrainDataOptions d;
  d.max_seq_length = o.max_seq_length;
  d.max_predictions_per_seq = o.max_predictions_per_seq;
  d.masked_lm_prob = o.masked_lm_prob;
  d.short_seq_prob = o.short_seq_prob;
  d.whole_word_masking = o.whole_word_masking;
  d.seed = o.seed;
  d.format = parse_corpus_format(o.corpus_format);
  d.shuffle_buffer = o.shuffle_buffer;
  d.window_docs = o.window_docs;
  const bool use_holdout = o.eval_corpus.empty() && o.holdout_every > 0;
  d.split = use_holdout ? PretrainDataOptions::Split::Train : PretrainDataOptions::Split::All;
  d.holdout_every = use_holdout ? o.holdout_every : 0;
  ExampleStream stream(o.corpus, tok, d);

  std::vector<Example> eval_set;
  if (o.eval_examples > 0 && (use_holdout || !o.eval_corpus.empty())) {
    PretrainDataOptions e = d;
    e.seed = mix_seed({o.seed, 0x6576616cULL /* "eval" */});
    e.loop = false;
    e.shuffle_buffer = 1;
    if (use_holdout) e.split = PretrainDataOptions::Split::HeldOut;
    try {
      ExampleStream es(use_holdout ? o.corpus : o.eval_corpus, tok, e);
      eval_set = es.take(o.eval_examples);
    } catch (const Error& err) {
      if (!use_holdout) throw;
      say("pretrain: no held-out documents (every " + std::to_string(o.holdout_every) +
          "th document of the corpus is held out, and there are fewer); evaluation is off. Give --eval-corpus FILE.");
    }
  }

  // --- optimizer, schedule, state -------------------------------------------------------
  model->to(device);
  model->train();
  nn::AdamW opt(nn::decay_groups(*model, o.weight_decay), o.lr);
  int64_t warmup = o.warmup_steps >= 0 ? o.warmup_steps : (int64_t)std::llround(o.warmup_ratio * (double)o.steps);
  nn::Schedule sched(opt, o.lr, o.steps > 0 ? nn::linear_warmup_decay(warmup, o.steps) : nn::constant_warmup(warmup));
  const std::vector<Tensor> params = model->parameters();

  train::TrainerState state;
  const nlohmann::json signature = data_signature(o, d);
  int64_t examples_seen = 0, tokens_seen = 0;
  if (!ckpt.empty()) {
    state = train::load_checkpoint_state(ckpt, opt);
    const nlohmann::json saved = state.extra.value("data_signature", nlohmann::json());
    if (saved != signature) {
      std::string diff;
      for (auto it = signature.begin(); it != signature.end(); ++it)
        if (!saved.contains(it.key()) || saved[it.key()] != it.value())
          diff += "\n  " + it.key() + ": checkpoint " + (saved.contains(it.key()) ? saved[it.key()].dump() : "(none)") +
                  ", now " + it.value().dump();
      fail("pretrain: --resume " + ckpt + " was made with other data options; give the same flags as that run:" + diff);
    }
    stream.restore(json_key(state.extra, "data", ckpt + "/trainer_state.json: extra"), ckpt + "/trainer_state.json: extra.data");
    sched.set_step(state.schedule_step);
    train::restore_rank_generator(state, world, rank, ckpt);  // dropout: each rank's own stream
    examples_seen = state.data_position;
    tokens_seen = state.extra.value("tokens", (int64_t)0);
    res.last_checkpoint = ckpt;
    say("pretrain: resumed from " + ckpt + " at step " + std::to_string(state.step));
  } else {
    state.rng_seed = o.seed;
    train::restore_rank_generator(state, world, rank, "");
  }
  res.start_step = res.step = state.step;
  res.run_dir = run_dir;

  // The run folder appears with the first record, so a run that fails before its first step
  // leaves nothing behind.
  std::unique_ptr<train::MetricsLog> metrics;
  const std::string metrics_path = (fs::path(run_dir) / "metrics.jsonl").string();
  auto log = [&](const nlohmann::json& rec) {
    if (!dist::is_main()) return;  // only rank 0 writes
    if (!metrics) {
      make_dirs(run_dir);
      if (!ckpt.empty()) train::truncate_metrics(metrics_path, state.step);
      metrics = std::make_unique<train::MetricsLog>(metrics_path, !ckpt.empty());
      nlohmann::json args = {{"config", o.config_name}, {"model", o.model_dir}, {"corpus", o.corpus},
                             {"eval_corpus", o.eval_corpus}, {"vocab", vocab_file}, {"lr", o.lr},
                             {"warmup_steps", warmup}, {"steps", o.steps}, {"max_minutes", o.max_minutes},
                             {"weight_decay", o.weight_decay}, {"clip", o.clip}, {"device", o.device},
                             {"threads", omp_get_max_threads()}, {"data", signature},
                             {"parameters", model->num_parameters()}};
      write_file_atomic((fs::path(run_dir) / "pretrain_args.json").string(), args.dump(2) + "\n");
    }
    metrics->write(rec);
  };

  TokenizerFiles tok_files;
  tok_files.vocab_file = vocab_file;
  tok_files.vocab_text = vocab_text;
  tok_files.do_lower_case = lower;
  if (!tok_dir.empty()) {
    tok_files.strip_accents = tok->options().strip_accents;
    tok_files.tokenize_chinese_chars = tok->options().tokenize_chinese_chars;
    tok_files.additional_special_tokens = tok->options().additional_special_tokens;
  }
  tok_files.model_max_length = cfg.max_position_embeddings;
  auto save = [&](int64_t step) {
    state.step = step;
    state.schedule_step = sched.last_step();
    train::record_rank_generators(state);  // every rank's dropout stream (a collective)
    state.data_position = examples_seen;
    state.epoch = stream.epoch();
    state.extra["data"] = stream.state();
    state.extra["data_signature"] = signature;
    state.extra["tokens"] = tokens_seen;
    if (!dist::is_main()) return std::string();
    const std::string dir = train::save_checkpoint(run_dir, *model, opt, state, tok_files, o.keep);
    tok_files.vocab_file = (fs::path(dir) / "vocab.txt").string();  // survives keep-K deletion
    res.last_checkpoint = dir;
    return dir;
  };

  if (!o.quiet) {
    say("pretrain: " + std::string(ckpt.empty() && o.model_dir.empty() ? "from scratch, " : "") +
        (o.config_name.empty() ? std::string(task_class_name(model->task)) : o.config_name) + ", " +
        std::to_string(model->num_parameters()) + " parameters, " + std::to_string(cfg.num_hidden_layers) +
        " layers, hidden " + std::to_string(cfg.hidden_size) + "; " + std::to_string(omp_get_max_threads()) +
        " threads, " + o.device);
    say("pretrain: batch " + std::to_string(o.batch_size) +
        (world > 1 ? " per rank x " + std::to_string(world) + " ranks" : "") + " x " + std::to_string(o.grad_accum) +
        " accumulated = " + std::to_string(o.batch_size * world * o.grad_accum) + " sequences of " +
        std::to_string(o.max_seq_length) + " tokens per step, lr " + fmt("%.2g", o.lr) + ", warmup " + std::to_string(warmup) +
        (o.steps > 0 ? ", " + std::to_string(o.steps) + " steps (linear decay)" : ", constant lr after warmup (no --steps)") +
        (o.max_minutes > 0 ? ", at most " + fmt("%g", o.max_minutes) + " minutes" : "") + "; " +
        std::to_string(eval_set.size()) + " eval examples; run folder " + run_dir);
  }

  // --- the loop (bert/train/loop.h) with pre-training's pieces ------------------------------
  train::install_interrupt_handler();
  const bool show = !o.quiet && o.progress && dist::is_main();
  train::Progress progress("pretrain", o.steps, "tok", (int)o.log_every, show ? o.progress_tty : 0);
  if (o.max_minutes > 0) progress.set_time_limit(o.max_minutes * 60.0 - elapsed());
  int64_t eval_step = -1;
  auto run_eval = [&](int64_t step) {
    if (!dist::is_main()) return;  // rank 0 evaluates; the others wait at the next step
    PretrainEval ev = evaluate_pretraining(*model, eval_set, o.batch_size, tok->pad_id(), device);
    res.eval = ev;
    nlohmann::json rec = ev.to_json();
    rec["step"] = step;
    log(rec);
    eval_step = step;
    if (show)
      progress.message("eval step " + std::to_string(step) + ": loss " + fmt("%.4f", ev.loss) + " (mlm " +
                       fmt("%.4f", ev.mlm_loss) + ", nsp " + fmt("%.4f", ev.nsp_loss) + "), MLM accuracy " +
                       fmt("%.4f", ev.mlm_accuracy) + ", NSP accuracy " + fmt("%.4f", ev.nsp_accuracy));
  };

  train::TrainingTask task;
  std::vector<Example> micro;
  micro.reserve(o.batch_size);
  task.micro_batches = [&](int64_t) { return o.grad_accum; };
  task.forward = [&](int64_t, int64_t) {
    // a global micro-batch of batch_size x world examples from the one stream every rank
    // reads alike; rank r trains on its r-th part (with one process: all of it)
    micro.clear();
    Example ex;
    for (int64_t i = 0; i < o.batch_size * world; ++i) {
      stream.next(ex);
      tokens_seen += ex.num_tokens();
      if (i / o.batch_size == rank) micro.push_back(std::move(ex));
    }
    PretrainBatch b = to_device(collate(micro, tok->pad_id()), device);
    PretrainLoss L = pretraining_loss(*model, b);
    examples_seen += o.batch_size * world;
    res.tokens += b.tokens;
    return train::MicroBatchLoss{L.loss, {L.mlm_loss, L.nsp_loss}, (double)b.tokens};
  };
  task.log = [&](const train::LogWindow& w) {
    log({{"step", w.last.step},
         {"loss", w.mean_loss},
         {"mlm_loss", w.mean_parts[0]},
         {"nsp_loss", w.mean_parts[1]},
         {"lr", w.last.lr},
         {"grad_norm", w.last.grad_norm},
         {"tokens_per_s", w.items_per_second},
         {"epoch", stream.epoch()},
         {"examples", examples_seen},
         {"tokens", tokens_seen},
         {"elapsed_s", elapsed()}});
  };
  task.stats = [&](const train::StepRecord& r) {
    return "loss " + fmt("%.3f", r.loss) + " (mlm " + fmt("%.3f", r.parts[0]) + " nsp " + fmt("%.3f", r.parts[1]) +
           ") | lr " + fmt("%.2e", r.lr);
  };
  task.eval_due = [&](int64_t step) { return !eval_set.empty() && o.eval_every > 0 && step % o.eval_every == 0; };
  task.evaluate = run_eval;
  task.save_due = [&](int64_t step) { return o.save_every > 0 && step % o.save_every == 0; };
  task.save = save;
  task.on_step = o.on_step;

  train::LoopOptions lo;
  lo.start_step = state.step;
  lo.total_steps = o.steps;
  lo.max_seconds = o.max_minutes > 0 ? std::max(1e-9, o.max_minutes * 60.0 - elapsed()) : 0;
  lo.budget_flag = "--max-minutes " + fmt("%g", o.max_minutes);
  lo.clip = o.clip;
  lo.log_every = o.log_every;
  lo.defer_reads = o.defer_reads;
  lo.device = device;
  lo.last_checkpoint = res.last_checkpoint;
  lo.nan_at_step = o.debug_nan_at_step;
  lo.label = "pretrain";
  lo.zero_stage = o.zero_stage;
  train::LoopResult lr = train::run_training_loop(task, params, opt, sched, lo, show ? &progress : nullptr);
  res.step = lr.step;
  res.interrupted = lr.interrupted;
  res.time_up = lr.time_up;
  res.last_checkpoint = lr.last_checkpoint;
  for (const train::StepRecord& r : lr.history)
    res.history.push_back({r.step, r.loss, r.parts[0], r.parts[1], r.lr, r.grad_norm});

  // --- the end: final/ (unless interrupted), scored once more if the last step was not --------
  if (!res.interrupted) {
    if (!eval_set.empty() && eval_step != res.step) run_eval(res.step);
    if (!res.last_checkpoint.empty() && dist::is_main()) {
      train::publish(res.last_checkpoint, run_dir, "final");
      res.final_dir = (fs::path(run_dir) / "final").string();
    }
  }
  res.seconds = elapsed();
  return res;
}

}  // namespace bertlab::bert
