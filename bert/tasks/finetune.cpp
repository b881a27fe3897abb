// bert/tasks/finetune.cpp — see finetune.h.
#include "bert/tasks/finetune.h"

#include "autograd/autocast.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>

#include "autograd/graph.h"
#include "bert/checkpoint.h"
#include "bert/io.h"
#include "bert/tasks/evaluate.h"
#include "bert/tasks/infer.h"
#include "bert/train/distributed.h"
#include "bert/train/loop.h"
#include "bert/train/progress.h"
#include "bert/train/run.h"
#include "nn/optim.h"
#include "ops/ops.h"
#include "tokenizer/tokenizer_json.h"

namespace bertlab::tasks {

namespace fs = std::filesystem;

std::string best_metric_name(const std::string& task) { return task == "classify" ? "accuracy" : "f1"; }

namespace {

bert::Task task_of(const std::string& t) {
  if (t == "classify") return bert::Task::SequenceClassification;
  if (t == "ner") return bert::Task::TokenClassification;
  if (t == "qa") return bert::Task::QuestionAnswering;
  fail("finetune: unknown task '" + t + "' (classify, ner, qa)");
}

// What training batches are cut from: one encoding per feature and its targets.
struct TrainSet {
  std::vector<tokenizer::Encoding> encodings;
  std::vector<int64_t> seq_labels;                 // classify: (N)
  std::vector<std::vector<int64_t>> token_labels;  // ner: (N) x (T_i)
  std::vector<int64_t> starts, ends;               // qa: (N)
};

// The dev set in the form its evaluation needs.
struct DevSet {
  bool present = false;
  ClassifyFeatures classify;
  NerData ner_data;
  NerFeatures ner;
  std::vector<SquadExample> qa_examples;
  std::vector<QaFeature> qa;
};

bert::BertInputs make_batch(const TrainSet& s, bert::Task task, const std::vector<size_t>& idx, Device d) {
  std::vector<const tokenizer::Encoding*> encs;
  for (size_t i : idx) encs.push_back(&s.encodings[i]);
  bert::BertInputs in = collate(encs, d);
  const int64_t B = (int64_t)idx.size(), T = in.input_ids.size(1);
  if (task == bert::Task::SequenceClassification) {
    std::vector<int64_t> y;
    for (size_t i : idx) y.push_back(s.seq_labels[i]);
    in.labels = from_vector(y, {B}, d);
  } else if (task == bert::Task::TokenClassification) {
    std::vector<const std::vector<int64_t>*> y;
    for (size_t i : idx) y.push_back(&s.token_labels[i]);
    in.labels = collate_token_labels(y, T, d);
  } else {
    std::vector<int64_t> st, en;
    for (size_t i : idx) st.push_back(s.starts[i]), en.push_back(s.ends[i]);
    in.start_positions = from_vector(st, {B}, d);
    in.end_positions = from_vector(en, {B}, d);
  }
  return in;
}

// Labels a saved head already has (a folder fine-tuned before, or a checkpoint being resumed):
// its id2label when the folder holds this task's head with named labels; else empty.
std::vector<std::string> existing_labels(const std::string& dir, bert::Task task) {
  if (dir.empty() || !bert::is_head_of(bert::saved_architecture(dir), task)) return {};
  bert::BertConfig c = bert::load_shared_config((fs::path(dir) / "config.json").string());
  std::vector<std::string> names;
  bool named = false;
  for (auto& [i, n] : c.id2label) {
    names.push_back(n);
    named |= n != "LABEL_" + std::to_string(i);
  }
  return named ? names : std::vector<std::string>{};
}

// Fisher-Yates with a 64-bit Mersenne Twister: the same order on every platform.
std::vector<size_t> permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  std::mt19937_64 rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng() % i]);
  return p;
}

// transformers' get_length_grouped_indices: the shuffled order cut into megabatches of
// min(N / (4 batch), 50) batches, each sorted by length (longest first), and the megabatch
// holding the longest sequence first, so that a memory error shows at once.
std::vector<size_t> group_by_length(const std::vector<size_t>& shuffled, const std::vector<tokenizer::Encoding>& enc,
                                    size_t batch) {
  const size_t n = shuffled.size();
  size_t mult = std::min<size_t>(n / (batch * 4), 50);
  if (mult == 0) mult = 1;
  const size_t mega = mult * batch;
  std::vector<std::vector<size_t>> megas;
  for (size_t i = 0; i < n; i += mega) {
    std::vector<size_t> m(shuffled.begin() + (long)i, shuffled.begin() + (long)std::min(n, i + mega));
    std::stable_sort(m.begin(), m.end(), [&](size_t a, size_t b) { return enc[a].size() > enc[b].size(); });
    megas.push_back(std::move(m));
  }
  size_t max_idx = 0;
  for (size_t k = 1; k < megas.size(); ++k)
    if (enc[megas[k][0]].size() > enc[megas[max_idx][0]].size()) max_idx = k;
  std::swap(megas[0][0], megas[max_idx][0]);
  std::vector<size_t> out;
  for (auto& m : megas) out.insert(out.end(), m.begin(), m.end());
  return out;
}

template <typename T>
void subsample(std::vector<T>& v, int64_t n, uint64_t seed) {
  if (n <= 0 || (int64_t)v.size() <= n) return;
  std::vector<size_t> p = permutation(v.size(), seed);
  p.resize((size_t)n);
  std::sort(p.begin(), p.end());  // keep the file's order
  std::vector<T> out;
  out.reserve((size_t)n);
  for (size_t i : p) out.push_back(std::move(v[i]));
  v = std::move(out);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// The flags that decide a run's steps and its choice of best checkpoint, by the names the
// user types. A resumed run must be given the same (see check_same_flags); paths compare by
// the file they name, so resuming from another folder is fine.
nlohmann::json run_flags(const FinetuneOptions& o, int64_t max_len) {
  auto path = [](const std::string& p) {
    std::error_code ec;
    return p.empty() ? p : fs::weakly_canonical(p, ec).string();
  };
  nlohmann::json f = {{"task", o.task},
                      {"--model", path(o.model)},
                      {"--config", o.config},
                      {"--train", path(o.train)},
                      {"--dev", path(o.dev)},
                      {"--epochs", o.epochs},
                      {"--lr", o.lr},
                      {"--batch-size", o.batch_size},
                      {"--warmup-ratio", o.warmup_ratio},
                      {"--max-length", max_len},
                      {"--weight-decay", o.weight_decay},
                      {"--freeze-encoder", o.freeze_encoder},
                      {"--grad-accum", o.grad_accum},
                      {"--clip", o.clip},
                      {"--eval-every", o.eval_every},
                      {"--seed", o.seed},
                      {"--group-by-length", o.group_by_length},
                      {"--max-train-examples", o.max_train_examples},
                      {"--max-eval-examples", o.max_eval_examples},
                      {"--dtype", dtype_name(autocast_dtype())}};
  if (o.task == "classify") {
    f["--format"] = o.columns.format;
    f["--text-column"] = o.columns.text;
    f["--pair-column"] = o.columns.pair;
    f["--label-column"] = o.columns.label;
    f["--label-names"] = o.label_names;
  } else if (o.task == "ner") {
    f["--lang-prefix"] = (int)o.lang_prefix;
  } else {
    f["--doc-stride"] = o.qa.doc_stride;
    f["--max-query-length"] = o.qa.max_query_length;
  }
  return f;
}

// --resume with other flags than the run had would not continue that run: an error naming
// each flag that differs, with both values.
void check_same_flags(const train::TrainerState& state, const nlohmann::json& now, const std::string& checkpoint) {
  if (!state.extra.contains("flags")) return;  // a checkpoint from before flags were saved
  const nlohmann::json& saved = state.extra["flags"];
  std::string diff;
  for (auto it = now.begin(); it != now.end(); ++it) {
    // runs from before --dtype existed computed in float32
    const nlohmann::json was = saved.contains(it.key()) ? saved[it.key()]
                               : it.key() == "--dtype" ? nlohmann::json("float32") : nlohmann::json();
    if (was != it.value())
      diff += "\n  " + it.key() + ": " + (was.is_null() ? "(not set)" : was.dump()) + " in that run, " + it.value().dump() + " now";
  }
  if (!diff.empty())
    fail("finetune: --resume: " + checkpoint + " was written by a run with other flags; give the same flags as that run:" + diff);
}

// The label -> id map the run trains with, printed at its start: labels are sorted (numbers
// numerically), so a reader sees which id each became.
std::string label_map_line(bert::Task task, const std::vector<std::string>& names) {
  if (task == bert::Task::QuestionAnswering) return "labels: none (span start and end)";
  const bool numbers = !names.empty() && std::all_of(names.begin(), names.end(), [](const std::string& n) {
    size_t i = !n.empty() && n[0] == '-';
    return i < n.size() && std::all_of(n.begin() + (long)i, n.end(), ::isdigit);
  });
  std::string s = task == bert::Task::TokenClassification ? "tags:" : "labels:";
  for (size_t i = 0; i < names.size(); ++i) {
    if (numbers) s += std::string(i ? "," : "") + " " + names[i] + " -> " + std::to_string(i);
    else s += " " + names[i] + "=" + std::to_string(i);
  }
  return s;
}

// Removes a run folder that this run created when the run fails (an exception) before its
// first checkpoint, so a failed run leaves nothing half made. A folder that was there
// before is never removed.
struct RemoveIfFailed {
  std::string dir;
  bool created_here;
  ~RemoveIfFailed() {
    if (!created_here || std::uncaught_exceptions() == 0 || !train::latest_checkpoint(dir).empty()) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

FinetuneResult finetune(const FinetuneOptions& o_in) {
  FinetuneOptions o = o_in;
  const bert::Task task = task_of(o.task);
  const bool qa = task == bert::Task::QuestionAnswering;
  // --- check the options -------------------------------------------------------------------
  if (o.model.empty() == o.config.empty()) fail("finetune: give either a pretrained model folder (--model) or a config (--config)");
  if (o.train.empty()) fail("finetune: no training file (--train)");
  if (o.out.empty()) fail("finetune: no output folder (--out)");
  if (o.epochs <= 0) fail("finetune: --epochs must be positive");
  if (o.grad_accum <= 0) fail("finetune: --grad-accum must be positive");
  if (!(o.warmup_ratio >= 0 && o.warmup_ratio <= 1)) fail("finetune: --warmup-ratio must be in [0, 1]");
  if (o.lr == 0) o.lr = qa ? 3e-5 : 5e-5;
  if (!(o.lr > 0 && std::isfinite(o.lr))) fail("finetune: --lr must be a positive number");  // NaN fails too
  if (o.batch_size == 0) o.batch_size = qa ? 16 : 32;
  if (o.eval_batch_size == 0) o.eval_batch_size = qa ? 32 : 64;
  if (o.batch_size < 0 || o.eval_batch_size < 0) fail("finetune: batch sizes must be positive");
  if (!o.model.empty() && !bert::dir_exists(o.model)) fail("finetune: model folder " + o.model + " does not exist");
  if (!bert::file_exists(o.train)) fail("finetune: training file " + o.train + " does not exist");
  if (!o.dev.empty() && !bert::file_exists(o.dev)) fail("finetune: dev file " + o.dev + " does not exist");
  auto say = [&](const std::string& s) {
    if (o.verbose) {
      std::printf("%s\n", s.c_str());
      std::fflush(stdout);
    }
  };

  // Nothing is written until every input has been read and checked: a run that fails on
  // its input leaves no folder (or, in an existing folder, no file) behind.
  std::string resume_from;
  if (o.resume) {
    resume_from = train::latest_checkpoint(o.out);
    if (resume_from.empty()) fail("finetune: --resume, but " + o.out + " holds no checkpoint-<step> folder");
    say("resuming from " + resume_from);
  }
  const std::string source = !resume_from.empty() ? resume_from : o.model;

  // --- tokenizer and config ------------------------------------------------------------------
  std::optional<tokenizer::BertTokenizer> tok;
  bert::TokenizerFiles tok_files;
  if (!source.empty()) {
    tok.emplace(tokenizer::BertTokenizer::from_pretrained(source));
    tok_files.vocab_file = (fs::path(source) / "vocab.txt").string();
  } else {
    if (o.vocab.empty()) fail("finetune: training from a config needs a vocab.txt (--vocab)");
    tokenizer::TokenizerOptions to;
    to.do_lower_case = o.do_lower_case;
    tok.emplace(o.vocab, to);
    tok_files.vocab_file = o.vocab;
  }
  tok_files.set_options(tok->options());
  bert::BertConfig config = !source.empty() ? bert::load_shared_config((fs::path(source) / "config.json").string())
                                            : bert::shared_config_of(o.config);
  if ((int64_t)tok->vocab().size() > config.vocab_size)
    fail("finetune: the vocabulary has " + std::to_string(tok->vocab().size()) + " tokens but the model only " +
         std::to_string(config.vocab_size));
  const int64_t max_len = resolve_max_length(o.task, o.max_length, config.max_position_embeddings);
  o.qa.max_seq_length = max_len;
  if (qa) o.qa.validate();  // before anything is written to --out

  // --- data ----------------------------------------------------------------------------
  TrainSet ts;
  DevSet dev;
  std::vector<std::string> label_names = existing_labels(source, task);
  if (task == bert::Task::SequenceClassification) {
    ClassifyData d = read_classify(o.train, o.columns);
    subsample(d.examples, o.max_train_examples, o.seed);
    LabelMap lm;
    if (!label_names.empty()) {
      lm = LabelMap::from_names(label_names);
    } else {
      lm = LabelMap::build(d, o.label_names);  // a mix of integer and named labels names its line
    }
    label_names = lm.names;
    ClassifyFeatures f = classify_features(*tok, d, &lm, max_len);
    ts.encodings = std::move(f.encodings);
    ts.seq_labels = std::move(f.labels);
    say("train: " + std::to_string(ts.encodings.size()) + " examples from " + o.train + " (text column '" +
        d.text_column + "'" + (d.pair_column.empty() ? "" : ", pair '" + d.pair_column + "'") + "), " +
        std::to_string(f.truncated) + " truncated to " + std::to_string(max_len) + " tokens");
    if (!o.dev.empty()) {
      ClassifyData dd = read_classify(o.dev, o.columns);
      if (o.max_eval_examples > 0 && (int64_t)dd.examples.size() > o.max_eval_examples)
        dd.examples.resize((size_t)o.max_eval_examples);
      dev.classify = classify_features(*tok, dd, &lm, max_len);
      dev.present = true;
    }
  } else if (task == bert::Task::TokenClassification) {
    NerData d = read_conll(o.train, o.lang_prefix);
    subsample(d.sentences, o.max_train_examples, o.seed);
    if (label_names.empty()) label_names = ner_label_list(d);
    NerFeatures f = ner_features(*tok, d, label_names, max_len);
    ts.encodings = std::move(f.encodings);
    ts.token_labels = std::move(f.labels);
    say("train: " + std::to_string(ts.encodings.size()) + " sentences from " + o.train + ", " +
        std::to_string(label_names.size()) + " tags" + (d.stripped_prefix.empty() ? "" : ", prefix '" + d.stripped_prefix + "' stripped") +
        (d.iob1_fixed ? ", " + std::to_string(d.iob1_fixed) + " IOB1 tags made IOB2" : "") + ", " +
        std::to_string(f.truncated) + " truncated to " + std::to_string(max_len) + " tokens");
    if (!o.dev.empty()) {
      dev.ner_data = read_conll(o.dev, o.lang_prefix);
      if (o.max_eval_examples > 0 && (int64_t)dev.ner_data.sentences.size() > o.max_eval_examples)
        dev.ner_data.sentences.resize((size_t)o.max_eval_examples);
      dev.ner = ner_features(*tok, dev.ner_data, label_names, max_len);
      dev.present = true;
    }
  } else {
    std::vector<SquadExample> ex = read_squad(o.train);
    subsample(ex, o.max_train_examples, o.seed);
    std::vector<QaFeature> f = qa_features(*tok, ex, o.qa, true);
    for (auto& x : f) {
      ts.starts.push_back(x.start_position);
      ts.ends.push_back(x.end_position);
      ts.encodings.push_back(std::move(x.enc));
    }
    say("train: " + std::to_string(ex.size()) + " questions from " + o.train + " -> " + std::to_string(ts.encodings.size()) +
        " features (max_seq_length " + std::to_string(max_len) + ", doc_stride " + std::to_string(o.qa.doc_stride) + ")");
    if (!o.dev.empty()) {
      dev.qa_examples = read_squad(o.dev);
      if (o.max_eval_examples > 0 && (int64_t)dev.qa_examples.size() > o.max_eval_examples)
        dev.qa_examples.resize((size_t)o.max_eval_examples);
      dev.qa = qa_features(*tok, dev.qa_examples, o.qa, false);
      dev.present = true;
    }
  }
  if (ts.encodings.empty()) fail("finetune: " + o.train + " gave no training examples");

  // --- model ----------------------------------------------------------------------------
  std::shared_ptr<bert::PreTrainedModel> model;
  const int64_t num_labels = qa ? 0 : (int64_t)label_names.size();
  if (!source.empty()) {
    if (!qa) {
      const std::string arch = bert::saved_architecture(source);
      if (bert::is_head_of(arch, task) && config.num_labels() != num_labels)
        fail("finetune: " + source + " holds a " + std::to_string(config.num_labels()) + "-label " + arch +
             " head, but the data has " + std::to_string(num_labels) + " labels (start from the encoder folder instead)");
    }
    bert::LoadInfo info;
    model = bert::from_pretrained(source, task, &info, num_labels, o.seed, /*new_head=*/resume_from.empty());
    if (!info.newly_initialized.empty() && resume_from.empty()) {
      std::string s;
      for (auto& n : info.newly_initialized) s += (s.empty() ? "" : ", ") + n;
      say("newly initialised (not in " + source + "): " + s);
    }
  } else {
    model = bert::new_model(task, o.config, num_labels);  // BERT or DistilBERT, from the spec
    Generator g(o.seed);
    model->init_weights(g);
  }
  if (!qa) model->config.set_labels(label_names);
  if (task == bert::Task::SequenceClassification) model->config.problem_type = "single_label_classification";
  if (o.freeze_encoder) model->freeze(model->encoder_name() + ".");
  {
    auto commas = [](int64_t n) {
      std::string s = std::to_string(n), out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i && (s.size() - i) % 3 == 0) out += ',';
        out += s[i];
      }
      return out;
    };
    say(std::string("model: ") + model->class_name() + ", " + std::to_string(config.num_hidden_layers) + " layers, hidden " +
        std::to_string(config.hidden_size) + (qa ? "" : ", " + std::to_string(num_labels) + " labels"));
    say("parameters   " + commas(model->num_parameters()) + " total, " + commas(model->num_parameters(true)) + " trainable");
  }
  model->to(o.device);
  model->train();

  // --- optimizer and schedule ----------------------------------------------------------
  // Data parallel (bert/train/distributed.h): a step's micro-batch is a global batch of
  // batch_size x world examples, rank r training on its r-th part. A last global batch with
  // fewer examples than ranks is dropped (every rank needs one); with one process nothing is.
  const int64_t world = dist::world_size(), rank = dist::rank();
  const int64_t N = (int64_t)ts.encodings.size();
  const int64_t global_batch = o.batch_size * world;
  int64_t batches_per_epoch = (N + global_batch - 1) / global_batch;
  if (N % global_batch != 0 && N % global_batch < world) --batches_per_epoch;
  if (batches_per_epoch == 0)
    fail("finetune: " + std::to_string(N) + " training examples cannot give each of the " + std::to_string(world) +
         " ranks one");
  const int64_t steps_per_epoch = (batches_per_epoch + o.grad_accum - 1) / o.grad_accum;
  const int64_t total_steps = steps_per_epoch * o.epochs;
  const int64_t warmup_steps = (int64_t)std::ceil((double)total_steps * o.warmup_ratio);
  nn::AdamW opt(nn::decay_groups(*model, o.weight_decay), o.lr);
  nn::Schedule sched(opt, o.lr, nn::linear_warmup_decay(warmup_steps, total_steps));
  std::vector<Tensor> trainable;
  for (auto& g : opt.groups)
    for (auto& p : g.params) trainable.push_back(p);

  train::TrainerState state;
  state.rng_seed = o.seed;
  if (!resume_from.empty()) {
    state = train::load_checkpoint_state(resume_from, opt);
    sched.set_step(state.schedule_step);
  }
  // dropout masks: rank 0 draws from the seed as a single process does, each other rank
  // from its own stream (a resumed run: each rank's from the checkpoint)
  train::restore_rank_generator(state, world, rank, resume_from);

  // --- the flags that decide the run: a resumed run must be given the same ones ------------
  const nlohmann::json flags = run_flags(o, max_len);
  if (!resume_from.empty()) check_same_flags(state, flags, resume_from);
  state.extra["flags"] = flags;
  say(label_map_line(task, label_names));

  // --- the run folder: written from here on, by rank 0 only ------------------------------------
  dist::barrier("the start of the run (every rank has read its input)");
  const bool main_rank = dist::is_main();
  const RemoveIfFailed cleanup{o.out, main_rank && !fs::exists(o.out)};
  if (main_rank) bert::make_dirs(o.out);
  // checkpoints copy the vocabulary from RUN_DIR/vocab.txt: the source folder may be a
  // checkpoint that rotation deletes (a resumed run)
  {
    const std::string run_vocab = (fs::path(o.out) / "vocab.txt").string();
    // written from the tokenizer: a transformers 5 folder has tokenizer.json and no vocab.txt
    if (main_rank && (fs::absolute(tok_files.vocab_file) != fs::absolute(run_vocab) || !fs::exists(run_vocab)))
      bert::write_file_atomic(run_vocab, tokenizer::to_vocab_txt(tok->vocab()));
    tok_files.vocab_file = run_vocab;
  }
  const std::string metrics_path = (fs::path(o.out) / "metrics.jsonl").string();
  if (main_rank && !resume_from.empty()) train::truncate_metrics(metrics_path, state.step);  // the steps after it run again
  std::optional<train::MetricsLog> metrics;
  if (main_rank) metrics.emplace(metrics_path, /*append=*/!resume_from.empty());
  auto log = [&](const nlohmann::json& rec) {
    if (metrics) metrics->write(rec);
  };
  if (main_rank) {
    nlohmann::json args = {{"task", o.task}, {"model", o.model}, {"config", o.config}, {"train", o.train}, {"dev", o.dev},
                           {"epochs", o.epochs}, {"lr", o.lr}, {"batch_size", o.batch_size}, {"warmup_ratio", o.warmup_ratio},
                           {"max_length", max_len}, {"weight_decay", o.weight_decay}, {"freeze_encoder", o.freeze_encoder},
                           {"grad_accum", o.grad_accum}, {"clip", o.clip}, {"eval_every", o.eval_every}, {"seed", o.seed},
                           {"group_by_length", o.group_by_length},
                           {"max_train_examples", o.max_train_examples}, {"train_features", N},
                           {"total_steps", total_steps}, {"warmup_steps", warmup_steps}, {"world_size", world},
                           {"effective_batch", global_batch * o.grad_accum}};
    if (qa) args["doc_stride"] = o.qa.doc_stride, args["max_query_length"] = o.qa.max_query_length;
    bert::write_file_atomic((fs::path(o.out) / "finetune_args.json").string(), args.dump(2) + "\n");
  }
  say("training: " + std::to_string(o.epochs) + " epochs x " + std::to_string(steps_per_epoch) + " steps (batch " +
      std::to_string(o.batch_size) + (world > 1 ? " per rank x " + std::to_string(world) + " ranks" : "") +
      (o.grad_accum > 1 ? " x " + std::to_string(o.grad_accum) + " accumulated" : "") +
      (world > 1 || o.grad_accum > 1 ? " = " + std::to_string(global_batch * o.grad_accum) + " examples per step" : "") +
      "), lr " + fmt("%.2g", o.lr) + ", warmup " + std::to_string(warmup_steps) + " steps, out " + o.out);

  FinetuneResult result;
  result.best_dir = (fs::path(o.out) / "best").string();
  const std::string metric = best_metric_name(o.task);
  std::optional<train::Progress> progress;
  if (o.progress && main_rank) progress.emplace("finetune " + o.task, total_steps, "ex", (int)o.log_every);
  auto note = [&](const std::string& s) {
    if (progress) progress->message(s);
    else say(s);
  };

  // --- evaluation and checkpoints ---------------------------------------------------------
  // Every evaluation is followed by a checkpoint; the best by `metric` is published as best/.
  nlohmann::json last_eval;  // the evaluation of the step being saved, if any
  auto evaluate = [&](int64_t step) {
    last_eval = nullptr;
    if (!dev.present || !main_rank) return;  // no dev set: --eval-every still saves a checkpoint
    auto t0 = std::chrono::steady_clock::now();
    nlohmann::json e = task == bert::Task::SequenceClassification
                           ? evaluate_classify(*model, dev.classify, o.eval_batch_size, o.device)
                       : task == bert::Task::TokenClassification
                           ? evaluate_ner(*model, dev.ner_data, dev.ner, label_names, o.eval_batch_size, o.device)
                           : evaluate_qa(*model, dev.qa_examples, dev.qa, o.qa, o.eval_batch_size, o.device);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e["step"] = step;
    e["epoch"] = (double)step / (double)steps_per_epoch;
    nlohmann::json rec = e;
    rec.erase("per_type");
    rec["type"] = "eval";
    rec["eval_seconds"] = secs;
    log(rec);
    result.evals.push_back(e);
    last_eval = e;
    const bool better = e.value(metric, -1e300) > state.best_metric;
    std::string line = "eval step " + std::to_string(step) + ": ";
    if (task == bert::Task::SequenceClassification) {
      line += "accuracy " + fmt("%.4f", e["accuracy"].get<double>());
      if (e.contains("f1")) line += ", f1 " + fmt("%.4f", e["f1"].get<double>());
    } else if (task == bert::Task::TokenClassification) {
      line += "entity f1 " + fmt("%.4f", e["f1"].get<double>()) + " (precision " + fmt("%.4f", e["precision"].get<double>()) +
              ", recall " + fmt("%.4f", e["recall"].get<double>()) + "), strict f1 " + fmt("%.4f", e["strict_f1"].get<double>());
    } else {
      line += "exact match " + fmt("%.2f", e["exact_match"].get<double>()) + ", f1 " + fmt("%.2f", e["f1"].get<double>());
    }
    line += " [" + fmt("%.0f", secs) + " s]" + (better ? " *best*" : "");
    note(line);
  };
  auto checkpoint = [&](int64_t step) {
    state.step = step;
    train::record_rank_generators(state);  // every rank's dropout stream (a collective)
    state.schedule_step = sched.last_step();
    const bool scored = !last_eval.is_null() && last_eval["step"] == step;
    const bool better = scored && last_eval.value(metric, -1e300) > state.best_metric;
    if (better) {
      state.best_metric = last_eval.value(metric, -1e300);
      state.best_checkpoint = (fs::path(o.out) / ("checkpoint-" + std::to_string(step))).string();
    }
    if (!main_rank) return std::string();
    const std::string dir = train::save_checkpoint(o.out, *model, opt, state, tok_files, o.keep);
    result.last_checkpoint = dir;
    if (better) {
      train::publish(dir, o.out, "best");
      nlohmann::json r = last_eval;
      r["epoch"] = state.epoch;
      bert::write_file_atomic((fs::path(o.out) / "eval_results.json").string(), r.dump(2) + "\n");
      result.best = last_eval;
    }
    return dir;
  };

  // --- the loop (bert/train/loop.h) with fine-tuning's pieces -------------------------------
  // Where the data is: batch `batch_index` of epoch `epoch`'s shuffled order.
  int64_t epoch = state.epoch, batch_index = state.data_position;
  if (batch_index >= batches_per_epoch) ++epoch, batch_index = 0;  // a checkpoint at an epoch's last batch
  std::vector<size_t> order;
  auto shuffle = [&] {  // the order of epoch `epoch`, the same on every run from the seed
    order = permutation((size_t)N, o.seed * 1000003ULL + (uint64_t)epoch + 1);
    if (o.group_by_length) order = group_by_length(order, ts.encodings, (size_t)o.batch_size);
  };
  shuffle();
  bool epoch_ended = false;

  train::TrainingTask t;
  t.micro_batches = [&](int64_t) { return std::min<int64_t>(o.grad_accum, batches_per_epoch - batch_index); };
  t.forward = [&](int64_t, int64_t) {
    // global batch batch_index, this rank's part of it
    const int64_t g0 = batch_index * global_batch, n = std::min(N - g0, global_batch);
    const size_t b0 = (size_t)(g0 + n * rank / world), b1 = (size_t)(g0 + n * (rank + 1) / world);
    ++batch_index;
    std::vector<size_t> idx(order.begin() + (long)b0, order.begin() + (long)b1);
    bert::ModelOutput out = model->forward(make_batch(ts, task, idx, o.device));
    return train::MicroBatchLoss{out.loss, {}, (double)idx.size()};
  };
  t.after_step = [&](int64_t) {
    epoch_ended = batch_index == batches_per_epoch;
    if (epoch_ended) {
      ++epoch;
      batch_index = 0;
      if (epoch < o.epochs) shuffle();
    }
    state.epoch = epoch;
    state.data_position = batch_index;
  };
  t.log = [&](const train::LogWindow& w) {
    log({{"type", "train"}, {"step", w.last.step}, {"epoch", (double)w.last.step / (double)steps_per_epoch},
               {"loss", w.last.loss}, {"lr", w.last.lr}, {"grad_norm", w.last.grad_norm}});
  };
  t.stats = [&](const train::StepRecord& r) {
    return "epoch " + std::to_string((r.step - 1) / steps_per_epoch + 1) + " | loss " + fmt("%.4f", r.loss) + " | lr " +
           fmt("%.1e", r.lr);
  };
  // after each epoch (or every --eval-every steps, and at the end): an evaluation and a checkpoint
  t.eval_due = [&](int64_t step) {
    return (o.eval_every > 0 && step % o.eval_every == 0) || (epoch_ended && (o.eval_every == 0 || step == total_steps));
  };
  t.save_due = t.eval_due;
  t.evaluate = evaluate;
  t.save = checkpoint;

  train::LoopOptions lo;
  lo.start_step = state.step;
  lo.total_steps = total_steps;
  lo.clip = o.clip;
  lo.log_every = o.log_every;
  lo.defer_reads = o.defer_reads;
  lo.device = o.device;
  lo.last_checkpoint = resume_from;
  lo.nan_at_step = o.inject_nan_at_step;
  lo.label = "finetune";
  lo.zero_stage = o.zero_stage;
  train::install_interrupt_handler();
  const train::LoopResult lr = train::run_training_loop(t, trainable, opt, sched, lo, progress ? &*progress : nullptr);
  for (const train::StepRecord& r : lr.history) result.losses.push_back(r.loss);
  result.steps = lr.step;
  result.last_checkpoint = lr.last_checkpoint;
  result.interrupted = lr.interrupted;
  if (result.interrupted) {
    note("interrupted at step " + std::to_string(lr.step) + ": saved " + lr.last_checkpoint + " (continue with --resume)");
    return result;
  }
  if (main_rank && !dev.present && !result.last_checkpoint.empty())
    train::publish(result.last_checkpoint, o.out, "best");  // no dev set: the last is the best we know
  say("done: " + std::to_string(lr.step) + " steps; best model in " + result.best_dir +
      (result.best.is_null() ? "" : " (" + metric + " " + fmt("%.4f", result.best[metric].get<double>()) + ")"));
  return result;
}

}  // namespace bertlab::tasks
