// bert/cli/cmd_pipelines.cpp — `bertlab predict sentiment|ner|qa|zero-shot`: the prediction
// pipelines of bert/tasks/pipelines.h (transformers' text-classification, token-classification
// with aggregation_strategy="simple", question-answering and zero-shot-classification).
// Text comes from the arguments, or from stdin (one text a line) when there are none or the
// argument is '-'. --json prints one JSON value per input, as the Hugging Face pipeline returns
// it; otherwise readable lines. --input FILE reads a file (or '-') a batch at a time and writes
// JSON lines with each input's line number (--output FILE, default stdout): see predict_lines.
//
//   bertlab predict sentiment --model runs/sst2/best "a gorgeous, witty film"
//   bertlab predict ner --model runs/conll/best --html ner.html < sentences.txt
//   bertlab predict qa --model runs/squad/best --question "Who?" --context "..."
//   bertlab predict zero-shot --model NLI_MODEL --labels sports,politics "The match ended 2-1"
//   bertlab predict sentiment --model runs/sst2/best --input reviews.txt --output reviews.jsonl
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "bert/io.h"
#include "bert/tasks/pipelines.h"

namespace bertlab::cli {

namespace {

struct Common {
  std::string model, input, output;
  std::vector<std::string> texts;
  int64_t batch_size = 32;
  CommonFlags common;
};

void add_common(CLI::App* c, Common& f, bool positional = true) {
  c->add_option("--model", f.model, "fine-tuned model folder (e.g. RUN_DIR/best)")->required()->transform(model_folder());
  if (positional) c->add_option("text", f.texts, "texts ('-' or none: one text per line from stdin)");
  c->add_option("--batch-size", f.batch_size, "texts per batch")->check(at_least<long>(1))->capture_default_str();
  add_common_flags(c, f.common, kThreads | kDevice | kJson | kDType, "one JSON value per input (the Hugging Face pipeline's output)");
  add_file_flags(c, f.input, f.output);
}

// The texts of the arguments, or of stdin; blank lines of stdin are skipped (--input keeps them).
std::vector<std::string> read_texts(const Common& f) {
  std::vector<std::string> out;
  bool from_stdin = f.texts.empty();
  for (auto& a : f.texts) {
    if (a == "-") from_stdin = true;
    else out.push_back(a);
  }
  if (from_stdin) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!is_blank(line)) out.push_back(line);
    }
  }
  if (out.empty()) fail("predict: no text (give it as arguments, one per line on stdin, or --input FILE)");
  return out;
}

std::vector<std::string> texts_of(const std::vector<InputLine>& lines) {
  std::vector<std::string> t;
  for (auto& l : lines) t.push_back(l.text);
  return t;
}

nlohmann::json entities_json(const std::vector<tasks::EntityGroup>& es) {
  nlohmann::json a = nlohmann::json::array();
  for (auto& e : es)
    a.push_back({{"entity_group", e.entity_group}, {"score", e.score}, {"word", e.word}, {"start", e.start}, {"end", e.end}});
  return a;
}

std::vector<std::string> split_labels(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  auto push = [&] {
    size_t a = cur.find_first_not_of(' '), b = cur.find_last_not_of(' ');
    if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
    cur.clear();
  };
  for (char c : s) {
    if (c == ',') push();
    else cur += c;
  }
  push();
  return out;
}

}  // namespace

void add_predict_sentiment(CLI::App& predict) {
  auto f = std::make_shared<Common>();
  auto* c = predict.add_subcommand("sentiment", "the label of a text classifier (e.g. fine-tuned on SST-2) and its softmax score");
  add_common(c, *f);
  c->callback([f] {
    if (!f->input.empty() && !f->texts.empty()) usage_error("give texts as arguments or --input FILE, not both");
    tasks::Loaded m = tasks::load_for_inference(f->model, bert::Task::SequenceClassification, f->common.apply());
    if (!f->input.empty()) {
      predict_lines(f->input, f->output, f->batch_size, [&](const std::vector<InputLine>& lines) {
        std::vector<nlohmann::json> out;
        for (auto& r : tasks::classify_texts(m, texts_of(lines), f->batch_size))
          out.push_back({{"label", r[0].label}, {"score", r[0].score}});
        return out;
      });
      return;
    }
    std::vector<std::string> texts = read_texts(*f);
    auto res = tasks::classify_texts(m, texts, f->batch_size);
    for (size_t i = 0; i < texts.size(); ++i) {
      const auto& top = res[i][0];
      if (f->common.json) std::printf("%s\n", nlohmann::json{{"label", top.label}, {"score", top.score}}.dump().c_str());
      else std::printf("%-10s %.4f  %s\n", top.label.c_str(), top.score, texts[i].c_str());
    }
  });
}

void add_predict_ner(CLI::App& predict) {
  auto f = std::make_shared<Common>();
  auto html = std::make_shared<std::string>();
  auto* c = predict.add_subcommand("ner", "named entities, grouped as the Hugging Face pipeline's aggregation_strategy=simple");
  add_common(c, *f);
  c->add_option("--html", *html, "also write a page with the entities marked in colour")->excludes("--input");
  c->callback([f, html] {
    if (!f->input.empty() && !f->texts.empty()) usage_error("give texts as arguments or --input FILE, not both");
    tasks::Loaded m = tasks::load_for_inference(f->model, bert::Task::TokenClassification, f->common.apply());
    if (!f->input.empty()) {
      predict_lines(f->input, f->output, f->batch_size, [&](const std::vector<InputLine>& lines) {
        std::vector<nlohmann::json> out;
        for (auto& r : tasks::ner_texts(m, texts_of(lines), f->batch_size)) out.push_back({{"entities", entities_json(r)}});
        return out;
      });
      return;
    }
    std::vector<std::string> texts = read_texts(*f);
    auto res = tasks::ner_texts(m, texts, f->batch_size);
    const std::vector<std::string> types = tasks::entity_types(m.labels);
    const bool tty = ::isatty(1);
    for (size_t i = 0; i < texts.size(); ++i) {
      if (f->common.json) {
        std::printf("%s\n", entities_json(res[i]).dump().c_str());
        continue;
      }
      if (tty) std::printf("%s\n", tasks::render_ansi(texts[i], res[i], types).c_str());
      else std::printf("%s\n", texts[i].c_str());
      if (res[i].empty()) std::printf("  (no entities)\n");
      for (auto& e : res[i])
        std::printf("  %-14s %-30s %.4f  [%lld, %lld)\n", e.entity_group.c_str(), e.word.c_str(), e.score, (long long)e.start,
                    (long long)e.end);
    }
    if (!html->empty()) {
      bert::write_file_atomic(*html, tasks::render_html(texts, res, types));
      if (!f->common.json) std::printf("wrote %s\n", html->c_str());
    }
  });
}

void add_predict_qa(CLI::App& predict) {
  struct Flags {
    Common c;
    std::string question, context;
    int64_t top_k = 1, max_answer_len = 15;
  };
  auto f = std::make_shared<Flags>();
  auto* c = predict.add_subcommand("qa", "extractive question answering: the answer span in a context, with its score");
  add_common(c, f->c, false);
  c->add_option("--question", f->question, "the question");
  c->add_option("--context", f->context, "the text holding the answer");
  c->add_option("--top-k", f->top_k, "answers to return")->check(at_least<long>(1))->capture_default_str();
  c->add_option("--max-answer-len,--max-answer-length", f->max_answer_len, "longest answer in tokens")
      ->check(at_least<long>(1))
      ->capture_default_str();
  c->footer("Without --question/--context, reads JSON lines {\"question\": ..., \"context\": ...} from stdin or --input; "
            "with --input each output line is {\"line\", \"question\", and the answer (or \"answers\" with --top-k)}.");
  c->callback([f] {
    if (!f->c.input.empty() && (!f->question.empty() || !f->context.empty()))
      usage_error("give --question and --context, or --input FILE, not both");
    if (f->question.empty() != f->context.empty()) usage_error("give both --question and --context");
    tasks::Loaded m = tasks::load_for_inference(f->c.model, bert::Task::QuestionAnswering, f->c.common.apply());
    auto answer_json = [&](const std::string& q, const std::string& ctx) {
      nlohmann::json a = nlohmann::json::array();
      for (auto& x : tasks::answer_question(m, q, ctx, f->top_k, f->max_answer_len))
        a.push_back({{"score", x.score}, {"start", x.start}, {"end", x.end}, {"answer", x.answer}});
      return a;
    };
    // {"question": "...", "context": "..."} on line `n` of `where`
    auto parse = [](const std::string& line, const std::string& where, int64_t n) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {  // also out_of_range: a number too large for a double (1e+600)
        fail(where + ":" + std::to_string(n) + ": invalid JSON: " + e.what());
      }
      if (!j.is_object() || !j.contains("question") || !j.contains("context") || !j["question"].is_string() ||
          !j["context"].is_string())
        fail(where + ":" + std::to_string(n) + ": expected {\"question\": \"...\", \"context\": \"...\"}");
      return std::pair{j["question"].get<std::string>(), j["context"].get<std::string>()};
    };
    if (!f->c.input.empty()) {
      const std::string where = f->c.input == "-" ? "stdin" : f->c.input;
      predict_lines(
          f->c.input, f->c.output, f->c.batch_size,
          [&](const std::vector<InputLine>& lines) {
            std::vector<nlohmann::json> out;
            for (const InputLine& l : lines) {
              auto [q, ctx] = parse(l.text, where, l.line);
              nlohmann::json a = answer_json(q, ctx), rec = {{"question", q}};
              if (f->top_k == 1 && a.size() == 1) rec.update(a[0]);
              else rec["answers"] = a;
              out.push_back(rec);
            }
            return out;
          },
          "");
      return;
    }
    std::vector<std::pair<std::string, std::string>> inputs;
    if (!f->question.empty()) {
      inputs.push_back({f->question, f->context});
    } else {
      std::string line;
      for (int64_t n = 1; std::getline(std::cin, line); ++n)
        if (!is_blank(line) && line != "\r") inputs.push_back(parse(line, "stdin", n));
      if (inputs.empty()) fail("predict qa: no input (--question and --context, or JSON lines on stdin or --input)");
    }
    for (auto& [q, ctx] : inputs) {
      const nlohmann::json a = answer_json(q, ctx);
      if (f->c.common.json) {
        std::printf("%s\n", (f->top_k == 1 && a.size() == 1 ? a[0] : a).dump().c_str());
        continue;
      }
      std::printf("Q: %s\n", q.c_str());
      if (a.empty()) std::printf("  (no answer)\n");
      for (auto& x : a)
        std::printf("  %s   (score %.4f, characters %lld-%lld)\n", x["answer"].get<std::string>().c_str(), x["score"].get<double>(),
                    (long long)x["start"].get<int64_t>(), (long long)x["end"].get<int64_t>());
    }
  });
}

void add_predict_zero_shot(CLI::App& predict) {
  struct Flags {
    Common c;
    std::string labels, templ = "This example is {}.";
    bool multi = false;
  };
  auto f = std::make_shared<Flags>();
  auto* c = predict.add_subcommand("zero-shot", "score candidate labels with an NLI model's entailment class");
  add_common(c, f->c);
  c->add_option("--labels", f->labels, "candidate labels, comma-separated")->required();
  c->add_option("--template", f->templ, "hypothesis template; {} is replaced by each label")->capture_default_str();
  c->add_flag("--multi-label", f->multi, "score each label on its own (entailment vs contradiction)");
  c->footer("The model must be an NLI classifier whose config.json labels include 'entailment' (and 'contradiction' "
            "for --multi-label), e.g. one fine-tuned on MNLI with bertlab finetune classify.");
  c->callback([f] {
    if (!f->c.input.empty() && !f->c.texts.empty()) usage_error("give texts as arguments or --input FILE, not both");
    tasks::Loaded m = tasks::load_for_inference(f->c.model, bert::Task::SequenceClassification, f->c.common.apply());
    std::vector<std::string> labels = split_labels(f->labels);
    if (!f->c.input.empty()) {
      predict_lines(f->c.input, f->c.output, f->c.batch_size, [&](const std::vector<InputLine>& lines) {
        std::vector<nlohmann::json> out;
        for (const InputLine& l : lines) {
          tasks::ZeroShotResult r = tasks::zero_shot(m, l.text, labels, f->templ, f->multi);
          out.push_back({{"labels", r.labels}, {"scores", r.scores}});
        }
        return out;
      });
      return;
    }
    for (auto& text : read_texts(f->c)) {
      tasks::ZeroShotResult r = tasks::zero_shot(m, text, labels, f->templ, f->multi);
      if (f->c.common.json) {
        std::printf("%s\n", nlohmann::json{{"sequence", r.sequence}, {"labels", r.labels}, {"scores", r.scores}}.dump().c_str());
        continue;
      }
      std::printf("%s\n", text.c_str());
      for (size_t i = 0; i < r.labels.size(); ++i) std::printf("  %-20s %.4f\n", r.labels[i].c_str(), r.scores[i]);
    }
  });
}

}  // namespace bertlab::cli
