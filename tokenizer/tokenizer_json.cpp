// tokenizer/tokenizer_json.cpp — tokenizer.json for BERT (see tokenizer_json.h): a strict reader
// that names the key path of anything it cannot use, and a writer in transformers 5's layout.
#include "tokenizer/tokenizer_json.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace bertlab::tokenizer {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxFileBytes = std::size_t{256} << 20;  // bert-base's is 0.7 MB
constexpr std::size_t kMaxDepth = 32;                          // a BERT file nests 6 deep
constexpr std::size_t kMaxVocab = std::size_t{1} << 24;        // ids are int32; BERT has 30522

// Errors name the file and the key path: "tokenizer.json: model.vocab["x"]: ...".
struct Reader {
  std::string source;

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw TokenizerError(source + ": " + (path.empty() ? "" : path + ": ") + what);
  }

  // A short description of a value for messages (never the whole of a big object).
  static std::string show(const json& v) {
    if (v.is_object()) return "an object of " + std::to_string(v.size()) + " keys";
    if (v.is_array()) return "a list of " + std::to_string(v.size()) + " values";
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return std::string(v.type_name()) + " " + s;
  }

  [[noreturn]] void bad_type(const std::string& path, const char* want, const json& got) const {
    fail(path, std::string("must be ") + want + ", got " + show(got));
  }

  const json& member(const json& obj, const std::string& path, const char* key) const {
    const auto it = obj.find(key);
    if (it == obj.end()) fail(path, std::string("missing key '") + key + "'");
    return *it;
  }
  const json& object(const json& obj, const std::string& path, const char* key) const {
    const json& v = member(obj, path, key);
    if (!v.is_object()) bad_type(join(path, key), "an object", v);
    return v;
  }
  std::string string(const json& v, const std::string& path) const {
    if (!v.is_string()) bad_type(path, "a string", v);
    return v.get<std::string>();
  }
  std::string string(const json& obj, const std::string& path, const char* key) const {
    return string(member(obj, path, key), join(path, key));
  }
  // obj[key] if present (type-checked), else `fallback`.
  bool boolean(const json& obj, const std::string& path, const char* key, bool fallback) const {
    const auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_boolean()) bad_type(join(path, key), "true or false", *it);
    return it->get<bool>();
  }
  // A non-negative integer no larger than `limit` (JSON 3.0 is not an integer here).
  std::size_t count(const json& v, const std::string& path, std::size_t limit) const {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
      bad_type(path, "a non-negative integer", v);
    }
    const std::uint64_t n = v.get<std::uint64_t>();
    if (n > limit) fail(path, std::to_string(n) + " is larger than the limit " + std::to_string(limit));
    return static_cast<std::size_t>(n);
  }
  std::size_t count(const json& obj, const std::string& path, const char* key, std::size_t limit) const {
    return count(member(obj, path, key), join(path, key), limit);
  }
  // The "type" of a component: a string.
  std::string type(const json& obj, const std::string& path) const {
    return string(obj, path, "type");
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string index(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }
  static std::string quoted(const std::string& path, const std::string& key) {
    return path + "[" + json(key).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
  }
};

// nlohmann::json keeps the last of two equal keys; tokenizers' serde rejects them. A parser
// callback sees every key and catches duplicates (with their path); it also bounds the nesting,
// so that no later recursive walk (dump) can run out of stack.
json parse_strict(std::string_view text, const Reader& r) {
  struct Frame {
    bool is_object;
    std::unordered_set<std::string> keys;
    std::string key;        // the object's current key
    std::size_t items = 0;  // the array's values so far
  };
  std::vector<Frame> stack;
  const auto path = [&] {
    std::string p;
    for (const Frame& f : stack) {
      if (f.is_object && !f.key.empty()) p = Reader::join(p, f.key);
      if (!f.is_object && f.items > 0) p = Reader::index(p, f.items - 1);
    }
    return p;
  };
  const auto count_item = [&] {
    if (!stack.empty() && !stack.back().is_object) ++stack.back().items;
  };
  const json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        count_item();
        if (stack.size() >= kMaxDepth) r.fail(path(), "nested deeper than " + std::to_string(kMaxDepth) + " levels");
        stack.push_back({event == json::parse_event_t::object_start, {}, {}, 0});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& f = stack.back();
        std::string k = parsed.get<std::string>();
        f.key.clear();
        if (!f.keys.insert(k).second) r.fail(Reader::quoted(path(), k), "duplicate key");
        f.key = std::move(k);
        break;
      }
      case json::parse_event_t::value: count_item(); break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    r.fail("", std::string("not valid JSON: ") + e.what());
  }
}

// ------------------------------------------------------------------------------- the model

void read_model(const json& root, const Reader& r, TokenizerJson& out, std::vector<std::string>& tokens) {
  const std::string path = "model";
  const json& m = r.object(root, "", "model");
  const std::string type = r.type(m, path);
  if (type != "WordPiece") {
    r.fail("model.type", "'" + type + "' is not supported (bertlab reads WordPiece tokenizers, as BERT's)");
  }
  TokenizerOptions& o = out.options;
  o.unk_token = r.string(m, path, "unk_token");
  if (m.contains("continuing_subword_prefix")) o.continuing_subword_prefix = r.string(m, path, "continuing_subword_prefix");
  if (m.contains("max_input_chars_per_word")) {
    o.max_input_chars_per_word = r.count(m, path, "max_input_chars_per_word", std::numeric_limits<std::uint32_t>::max());
  }
  const json& vocab = r.object(m, path, "vocab");
  if (vocab.empty()) r.fail("model.vocab", "is empty");
  if (vocab.size() > kMaxVocab) {
    r.fail("model.vocab", "has " + std::to_string(vocab.size()) + " tokens, more than the limit " + std::to_string(kMaxVocab));
  }
  // ids must be exactly 0 .. n-1, each once (a vocab.txt's line numbers)
  tokens.assign(vocab.size(), std::string());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& [tok, id_value] : vocab.items()) {
    const std::string key = Reader::quoted("model.vocab", tok);
    const std::size_t id = r.count(id_value, key, kMaxVocab);
    if (id >= vocab.size()) {
      r.fail(key, "id " + std::to_string(id) + " is outside 0.." + std::to_string(vocab.size() - 1) +
                      " (the ids of " + std::to_string(vocab.size()) + " tokens must be 0 to n-1, each once)");
    }
    if (seen[id]) r.fail(key, "id " + std::to_string(id) + " is also the id of '" + tokens[id] + "'");
    seen[id] = true;
    tokens[id] = tok;
  }
}

// ------------------------------------------------------------------------------- added tokens

void read_added_tokens(const json& root, const Reader& r, std::vector<std::string>& tokens,
                       std::vector<std::string>& special) {
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return;
  if (!it->is_array()) r.bad_type("added_tokens", "a list", *it);
  std::unordered_set<std::string> contents;
  std::unordered_map<std::string, std::size_t> ids;
  for (std::size_t id = 0; id < tokens.size(); ++id) ids.emplace(tokens[id], id);
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string path = Reader::index("added_tokens", i);
    const json& t = (*it)[i];
    if (!t.is_object()) r.bad_type(path, "an object", t);
    const std::size_t id = r.count(t, path, "id", kMaxVocab);
    const std::string content = r.string(t, path, "content");
    if (content.empty()) r.fail(Reader::join(path, "content"), "is empty");
    if (!contents.insert(content).second) r.fail(Reader::join(path, "content"), "'" + content + "' is listed twice");
    // BERT's special tokens are matched exactly as written, before normalization
    for (const char* key : {"single_word", "lstrip", "rstrip", "normalized"}) {
      if (r.boolean(t, path, key, false)) {
        r.fail(Reader::join(path, key), "true is not supported (bertlab matches added tokens exactly, before normalization)");
      }
    }
    if (!r.boolean(t, path, "special", false)) {
      r.fail(Reader::join(path, "special"), "'" + content + "' is not special: only special added tokens are supported");
    }
    if (const auto in_vocab = ids.find(content); in_vocab != ids.end()) {
      const std::size_t vocab_id = in_vocab->second;
      if (vocab_id != id) {
        r.fail(Reader::join(path, "id"), std::to_string(id) + " disagrees with model.vocab, where '" + content +
                                             "' has id " + std::to_string(vocab_id));
      }
    } else if (id == tokens.size()) {
      ids.emplace(content, tokens.size());
      tokens.push_back(content);  // an added token past the vocabulary, as HF numbers them
    } else {
      r.fail(Reader::join(path, "id"), std::to_string(id) + ": '" + content + "' is not in model.vocab, so its id must be " +
                                           std::to_string(tokens.size()) + " (the next one after the vocabulary)");
    }
    special.push_back(content);
  }
}

// ------------------------------------------------------------------------------- normalizer

void read_bert_normalizer(const json& n, const std::string& path, const Reader& r, TokenizerOptions& o) {
  o.clean_text = r.boolean(n, path, "clean_text", true);
  o.tokenize_chinese_chars = r.boolean(n, path, "handle_chinese_chars", true);
  o.do_lower_case = r.boolean(n, path, "lowercase", true);
  o.strip_accents.reset();
  if (const auto it = n.find("strip_accents"); it != n.end() && !it->is_null()) {
    if (!it->is_boolean()) r.bad_type(Reader::join(path, "strip_accents"), "true, false or null", *it);
    o.strip_accents = it->get<bool>();
  }
}

void read_normalizer(const json& root, const Reader& r, TokenizerOptions& o) {
  const auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) {  // no normalizer: the text as it is
    o.clean_text = o.tokenize_chinese_chars = o.do_lower_case = false;
    o.strip_accents = false;
    return;
  }
  if (!it->is_object()) r.bad_type("normalizer", "an object or null", *it);
  const json* n = &*it;
  std::string path = "normalizer";
  if (r.type(*n, path) == "Sequence") {  // accepted when it holds just the BertNormalizer
    const json& list = r.member(*n, path, "normalizers");
    if (!list.is_array()) r.bad_type("normalizer.normalizers", "a list", list);
    if (list.size() != 1) {
      r.fail("normalizer.normalizers", "holds " + std::to_string(list.size()) +
                                           " normalizers; bertlab reads a Sequence of just one BertNormalizer");
    }
    path = "normalizer.normalizers[0]";
    n = &list[0];
    if (!n->is_object()) r.bad_type(path, "an object", *n);
  }
  const std::string type = r.type(*n, path);
  if (type != "BertNormalizer") {
    r.fail(Reader::join(path, "type"), "'" + type + "' is not supported (bertlab reads BertNormalizer only)");
  }
  read_bert_normalizer(*n, path, r, o);
}

// ------------------------------------------------------------------------------- pre-tokenizer

void read_pre_tokenizer(const json& root, const Reader& r) {
  const json& p0 = r.member(root, "", "pre_tokenizer");
  if (!p0.is_object()) r.bad_type("pre_tokenizer", "an object", p0);
  const json* p = &p0;
  std::string path = "pre_tokenizer";
  if (r.type(*p, path) == "Sequence") {
    const json& list = r.member(*p, path, "pretokenizers");
    if (!list.is_array()) r.bad_type("pre_tokenizer.pretokenizers", "a list", list);
    if (list.size() != 1) {
      r.fail("pre_tokenizer.pretokenizers", "holds " + std::to_string(list.size()) +
                                                " pre-tokenizers; bertlab reads a Sequence of just one BertPreTokenizer");
    }
    path = "pre_tokenizer.pretokenizers[0]";
    p = &list[0];
    if (!p->is_object()) r.bad_type(path, "an object", *p);
  }
  const std::string type = r.type(*p, path);
  if (type != "BertPreTokenizer") {
    r.fail(Reader::join(path, "type"), "'" + type + "' is not supported (bertlab reads BertPreTokenizer only)");
  }
}

// ------------------------------------------------------------------------------- post-processor

// The id of token in the vocabulary, which must be `id`.
void check_id(const Reader& r, const std::string& path, const std::vector<std::string>& tokens,
              const std::string& token, std::size_t id) {
  if (id >= tokens.size() || tokens[id] != token) {
    const auto it = std::find(tokens.begin(), tokens.end(), token);
    r.fail(path, "'" + token + "' with id " + std::to_string(id) + " disagrees with the vocabulary, where " +
                     (it == tokens.end() ? "it is missing" : "its id is " + std::to_string(it - tokens.begin())));
  }
}

// One piece of a template: {"SpecialToken": {"id", "type_id"}} or {"Sequence": {"id", "type_id"}},
// written as "S:[CLS]:0" or "Q:A:0" for comparison with BERT's template.
std::string template_piece(const json& piece, const std::string& path, const Reader& r) {
  if (!piece.is_object() || piece.size() != 1) r.bad_type(path, "an object with one key, SpecialToken or Sequence", piece);
  const std::string kind = piece.begin().key();
  const json& body = piece.begin().value();
  const std::string bpath = Reader::join(path, kind);
  if (kind != "SpecialToken" && kind != "Sequence") r.fail(path, "unknown template piece '" + kind + "'");
  if (!body.is_object()) r.bad_type(bpath, "an object", body);
  const std::string id = r.string(body, bpath, "id");
  const std::size_t type_id = r.count(body, bpath, "type_id", 1u << 20);
  return (kind == "SpecialToken" ? "S:" : "Q:") + id + ":" + std::to_string(type_id);
}

void read_template(const json& p, const Reader& r, const std::vector<std::string>& tokens, TokenizerOptions& o) {
  const std::string path = "post_processor";
  std::vector<std::string> single, pair;
  for (auto [key, dst] : {std::pair{"single", &single}, std::pair{"pair", &pair}}) {
    const json& list = r.member(p, path, key);
    const std::string lpath = Reader::join(path, key);
    if (!list.is_array()) r.bad_type(lpath, "a list", list);
    for (std::size_t i = 0; i < list.size(); ++i) dst->push_back(template_piece(list[i], Reader::index(lpath, i), r));
  }
  // BERT's template: [CLS]:0 $A:0 [SEP]:0, and for pairs ... $B:1 [SEP]:1
  const auto special_name = [](const std::string& piece) {
    return piece.starts_with("S:") && piece.ends_with(":0") ? piece.substr(2, piece.size() - 4) : std::string();
  };
  const std::string cls = single.size() == 3 ? special_name(single[0]) : "";
  const std::string sep = single.size() == 3 ? special_name(single[2]) : "";
  const std::vector<std::string> want_single = {"S:" + cls + ":0", "Q:A:0", "S:" + sep + ":0"};
  const std::vector<std::string> want_pair = {"S:" + cls + ":0", "Q:A:0", "S:" + sep + ":0", "Q:B:1", "S:" + sep + ":1"};
  if (cls.empty() || sep.empty() || single != want_single) {
    r.fail("post_processor.single", "is not BERT's template [CLS]:0 $A:0 [SEP]:0 (the only one bertlab supports)");
  }
  if (pair != want_pair) {
    r.fail("post_processor.pair", "is not BERT's template " + cls + ":0 $A:0 " + sep + ":0 $B:1 " + sep +
                                      ":1 (the only one bertlab supports)");
  }
  const json& specials = r.object(p, path, "special_tokens");
  for (const std::string& name : {cls, sep}) {
    const std::string spath = Reader::quoted("post_processor.special_tokens", name);
    const auto it = specials.find(name);
    if (it == specials.end()) r.fail("post_processor.special_tokens", "missing '" + name + "', used by the template");
    if (!it->is_object()) r.bad_type(spath, "an object", *it);
    if (r.string(*it, spath, "id") != name) r.fail(Reader::join(spath, "id"), "must be '" + name + "'");
    const json& ids = r.member(*it, spath, "ids");
    const json& toks = r.member(*it, spath, "tokens");
    if (!ids.is_array() || ids.size() != 1) r.bad_type(Reader::join(spath, "ids"), "a list of one id", ids);
    if (!toks.is_array() || toks.size() != 1) r.bad_type(Reader::join(spath, "tokens"), "a list of one token", toks);
    const std::string tok = r.string(toks[0], Reader::join(spath, "tokens") + "[0]");
    if (tok != name) r.fail(Reader::join(spath, "tokens") + "[0]", "'" + tok + "' must be '" + name + "'");
    check_id(r, Reader::join(spath, "ids") + "[0]", tokens, name,
             r.count(ids[0], Reader::join(spath, "ids") + "[0]", kMaxVocab));
  }
  o.cls_token = cls;
  o.sep_token = sep;
}

// The older form: {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}.
void read_bert_processing(const json& p, const Reader& r, const std::vector<std::string>& tokens, TokenizerOptions& o) {
  for (auto [key, dst] : {std::pair{"cls", &o.cls_token}, std::pair{"sep", &o.sep_token}}) {
    const std::string path = Reader::join("post_processor", key);
    const json& v = r.member(p, "post_processor", key);
    if (!v.is_array() || v.size() != 2) r.bad_type(path, "a list [token, id]", v);
    *dst = r.string(v[0], path + "[0]");
    check_id(r, path, tokens, *dst, r.count(v[1], path + "[1]", kMaxVocab));
  }
}

void read_post_processor(const json& root, const Reader& r, const std::vector<std::string>& tokens, TokenizerOptions& o) {
  const json& p = r.member(root, "", "post_processor");
  if (p.is_null()) r.fail("post_processor", "is null: bertlab always adds [CLS] and [SEP], as BERT needs");
  if (!p.is_object()) r.bad_type("post_processor", "an object", p);
  const std::string type = r.type(p, "post_processor");
  if (type == "TemplateProcessing") return read_template(p, r, tokens, o);
  if (type == "BertProcessing") return read_bert_processing(p, r, tokens, o);
  r.fail("post_processor.type", "'" + type + "' is not supported (bertlab reads TemplateProcessing or BertProcessing)");
}

// ------------------------------------------------------------------------------- decoder

void read_decoder(const json& root, const Reader& r, const TokenizerOptions& o) {
  const auto it = root.find("decoder");
  if (it == root.end() || it->is_null()) return;
  if (!it->is_object()) r.bad_type("decoder", "an object or null", *it);
  const std::string type = r.type(*it, "decoder");
  if (type != "WordPiece") r.fail("decoder.type", "'" + type + "' is not supported (bertlab decodes as WordPiece)");
  if (it->contains("prefix")) {
    const std::string prefix = r.string(*it, "decoder", "prefix");
    if (prefix != o.continuing_subword_prefix) {
      r.fail("decoder.prefix", "'" + prefix + "' differs from model.continuing_subword_prefix '" +
                                   o.continuing_subword_prefix + "'");
    }
  }
  if (!r.boolean(*it, "decoder", "cleanup", true)) {
    r.fail("decoder.cleanup", "false is not supported (bertlab's decoder always cleans up)");
  }
}

// ------------------------------------------------------------------------------- truncation, padding

void read_truncation(const json& root, const Reader& r, TokenizerJson& out) {
  const auto it = root.find("truncation");
  if (it == root.end() || it->is_null()) return;
  const std::string path = "truncation";
  if (!it->is_object()) r.bad_type(path, "an object or null", *it);
  TokenizerJson::SavedTruncation t;
  if (it->contains("direction") && r.string(*it, path, "direction") != "Right") {
    r.fail("truncation.direction", "'" + r.string(*it, path, "direction") + "' is not supported (only \"Right\")");
  }
  t.max_length = r.count(*it, path, "max_length", std::size_t{1} << 40);
  t.stride = it->contains("stride") ? r.count(*it, path, "stride", std::size_t{1} << 40) : 0;
  if (t.max_length > 0 && t.stride >= t.max_length) {
    r.fail("truncation.stride", std::to_string(t.stride) + " must be smaller than max_length " + std::to_string(t.max_length));
  }
  const std::string strategy = it->contains("strategy") ? r.string(*it, path, "strategy") : "LongestFirst";
  if (strategy == "LongestFirst") t.strategy = Truncation::kLongestFirst;
  else if (strategy == "OnlyFirst") t.strategy = Truncation::kOnlyFirst;
  else if (strategy == "OnlySecond") t.strategy = Truncation::kOnlySecond;
  else r.fail("truncation.strategy", "'" + strategy + "' is not LongestFirst, OnlyFirst or OnlySecond");
  out.truncation = t;
}

void read_padding(const json& root, const Reader& r, const std::vector<std::string>& tokens, TokenizerJson& out) {
  const auto it = root.find("padding");
  if (it == root.end() || it->is_null()) return;
  const std::string path = "padding";
  if (!it->is_object()) r.bad_type(path, "an object or null", *it);
  TokenizerJson::SavedPadding p;
  const json& strategy = r.member(*it, path, "strategy");
  if (strategy.is_string() && strategy.get<std::string>() == "BatchLongest") {
    p.strategy = Padding::kLongest;
  } else if (strategy.is_object() && strategy.size() == 1 && strategy.contains("Fixed")) {
    p.strategy = Padding::kMaxLength;
    p.length = r.count(strategy["Fixed"], "padding.strategy.Fixed", std::size_t{1} << 40);
  } else {
    r.bad_type("padding.strategy", "\"BatchLongest\" or {\"Fixed\": length}", strategy);
  }
  if (it->contains("direction") && r.string(*it, path, "direction") != "Right") {
    r.fail("padding.direction", "'" + r.string(*it, path, "direction") + "' is not supported (only \"Right\")");
  }
  if (const auto m = it->find("pad_to_multiple_of"); m != it->end() && !m->is_null()) {
    p.pad_to_multiple_of = r.count(*m, "padding.pad_to_multiple_of", std::size_t{1} << 20);
  }
  if (it->contains("pad_type_id") && r.count(*it, path, "pad_type_id", 1u << 20) != 0) {
    r.fail("padding.pad_type_id", "must be 0 (BERT pads with token type 0)");
  }
  const std::string pad_token = r.string(*it, path, "pad_token");
  check_id(r, "padding.pad_id", tokens, pad_token, r.count(*it, path, "pad_id", kMaxVocab));
  out.options.pad_token = pad_token;
  out.padding = p;
}

// One JSON value on one line; throws for invalid UTF-8.
std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::strict); }

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, std::string_view source) {
  const Reader r{std::string(source)};
  if (text.size() > kMaxFileBytes) {
    r.fail("", std::to_string(text.size()) + " bytes, more than the limit " + std::to_string(kMaxFileBytes));
  }
  const json root = parse_strict(text, r);
  if (!root.is_object()) r.bad_type("", "a JSON object", root);
  if (const auto v = root.find("version"); v != root.end() && !v->is_string()) r.bad_type("version", "a string", *v);

  TokenizerJson out;
  std::vector<std::string> tokens, special;
  read_model(root, r, out, tokens);
  read_added_tokens(root, r, tokens, special);
  read_normalizer(root, r, out.options);
  read_pre_tokenizer(root, r);
  read_post_processor(root, r, tokens, out.options);
  read_decoder(root, r, out.options);
  read_truncation(root, r, out);
  read_padding(root, r, tokens, out);

  TokenizerOptions& o = out.options;
  if (std::find(tokens.begin(), tokens.end(), o.unk_token) == tokens.end()) {
    r.fail("model.unk_token", "'" + o.unk_token + "' is not in model.vocab");
  }
  for (const std::string& s : special) {
    const bool named = s == o.unk_token || s == o.cls_token || s == o.sep_token || s == o.pad_token || s == o.mask_token;
    if (!named) o.additional_special_tokens.push_back(s);
  }
  out.vocab = Vocab(std::move(tokens), std::string(source) + " (model.vocab)");
  return out;
}

TokenizerJson load_tokenizer_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open");
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    throw TokenizerError(path.string() + ": " + std::to_string(size) + " bytes, more than the limit " +
                         std::to_string(kMaxFileBytes));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw TokenizerError(path.string() + ": read error");
  return parse_tokenizer_json(ss.str(), path.string());
}

// ------------------------------------------------------------------------------- writing

std::string to_tokenizer_json(const Vocab& vocab, const TokenizerOptions& o) {
  const auto id_of = [&](const std::string& tok, const char* role) {
    const TokenId id = vocab.find(tok);
    if (id < 0) {
      throw TokenizerError(std::string("cannot write tokenizer.json: the ") + role + " '" + tok +
                           "' is not in the vocabulary");
    }
    return id;
  };
  // added_tokens: every special token, in id order, as transformers 5 lists them
  std::vector<std::pair<TokenId, std::string>> special;
  const auto add_special = [&](const std::string& tok, const char* role) {
    const TokenId id = id_of(tok, role);
    for (const auto& s : special) {
      if (s.first == id) return;
    }
    special.emplace_back(id, tok);
  };
  add_special(o.pad_token, "pad_token");
  add_special(o.unk_token, "unk_token");
  add_special(o.cls_token, "cls_token");
  add_special(o.sep_token, "sep_token");
  add_special(o.mask_token, "mask_token");
  for (const std::string& t : o.additional_special_tokens) add_special(t, "additional special token");
  std::sort(special.begin(), special.end());

  using ojson = nlohmann::ordered_json;
  ojson added = ojson::array();
  for (const auto& [id, tok] : special) {
    added.push_back({{"id", id}, {"content", tok}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  const auto piece = [](const char* kind, const std::string& id, int type_id) {
    return ojson{{kind, {{"id", id}, {"type_id", type_id}}}};
  };
  const auto special_entry = [&](const std::string& tok, const char* role) {
    return ojson{{"id", tok}, {"ids", {id_of(tok, role)}}, {"tokens", {tok}}};
  };
  ojson head;
  head["version"] = "1.0";
  head["truncation"] = nullptr;
  head["padding"] = nullptr;
  head["added_tokens"] = added;
  head["normalizer"] = {{"type", "BertNormalizer"},
                        {"clean_text", o.clean_text},
                        {"handle_chinese_chars", o.tokenize_chinese_chars},
                        {"strip_accents", o.strip_accents ? ojson(*o.strip_accents) : ojson(nullptr)},
                        {"lowercase", o.do_lower_case}};
  head["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  head["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {piece("SpecialToken", o.cls_token, 0), piece("Sequence", "A", 0), piece("SpecialToken", o.sep_token, 0)}},
      {"pair",
       {piece("SpecialToken", o.cls_token, 0), piece("Sequence", "A", 0), piece("SpecialToken", o.sep_token, 0),
        piece("Sequence", "B", 1), piece("SpecialToken", o.sep_token, 1)}},
      {"special_tokens", {{o.cls_token, special_entry(o.cls_token, "cls_token")},
                          {o.sep_token, special_entry(o.sep_token, "sep_token")}}}};
  head["decoder"] = {{"type", "WordPiece"}, {"prefix", o.continuing_subword_prefix}, {"cleanup", true}};
  try {
    // The model by hand: an ordered_json object of 30k keys would search its keys on each insert.
    std::string out = head.dump(2, ' ', false, json::error_handler_t::strict);
    out.resize(out.size() - 2);  // drop "\n}"
    out += ",\n  \"model\": {\n    \"type\": \"WordPiece\",\n    \"unk_token\": " + dump(o.unk_token) +
           ",\n    \"continuing_subword_prefix\": " + dump(o.continuing_subword_prefix) +
           ",\n    \"max_input_chars_per_word\": " + std::to_string(o.max_input_chars_per_word) +
           ",\n    \"vocab\": {";
    for (std::size_t id = 0; id < vocab.size(); ++id) {
      out += id == 0 ? "\n      " : ",\n      ";
      out += dump(vocab.tokens()[id]);
      out += ": " + std::to_string(id);
    }
    out += "\n    }\n  }\n}\n";
    return out;
  } catch (const json::exception& e) {
    throw TokenizerError(std::string("cannot write tokenizer.json: a token is not valid UTF-8 (") + e.what() + ")");
  }
}

std::string to_vocab_txt(const Vocab& vocab) {
  std::string out;
  for (std::size_t id = 0; id < vocab.size(); ++id) {
    const std::string& t = vocab.tokens()[id];
    if (t.find_first_of("\r\n") != std::string::npos) {
      throw TokenizerError("cannot write vocab.txt: token " + std::to_string(id) + " holds a line break");
    }
    out += t;
    out += '\n';
  }
  return out;
}

}  // namespace bertlab::tokenizer
