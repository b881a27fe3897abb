// tokenizer/config.cpp — reads an HF model folder's tokenizer_config.json and
// special_tokens_map.json into TokenizerOptions (see bert_tokenizer.h).
//
// Keys read (transformers BertTokenizer / PreTrainedTokenizerBase names): do_lower_case,
// strip_accents, tokenize_chinese_chars, never_split, model_max_length (or the old max_len),
// unk/sep/pad/cls/mask_token (a string, or an AddedToken object {"content": ...}),
// additional_special_tokens, added_tokens_decoder (entries with "special": true),
// clean_up_tokenization_spaces. Other keys are ignored.
//
// Beside a tokenizer.json (tokenizer/tokenizer_json.h) the normalizer and [UNK] / [CLS] / [SEP]
// come from tokenizer.json; a key here that says otherwise is an error naming both files
// (transformers would follow this file, the tokenizers library tokenizer.json: which one the
// folder's author meant cannot be known). never_split is ignored there, as the fast tokenizer does.
#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tokenizer/bert_tokenizer.h"

namespace bertlab::tokenizer {

namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json parse_json(std::string_view text, const std::filesystem::path& path) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // also out_of_range: a number too large for a double (1e+600)
    throw TokenizerError(path.string() + ": not valid JSON: " + e.what());
  }
}

[[noreturn]] void bad_key(const std::filesystem::path& path, const std::string& key, const char* want,
                          const json& got) {
  throw TokenizerError(path.string() + ": key '" + key + "' must be " + want + ", got " +
                       std::string(got.type_name()) + " " + got.dump().substr(0, 60));
}

void read_bool(const json& j, const std::filesystem::path& path, const char* key, bool& out) {
  if (!j.contains(key)) return;
  if (!j[key].is_boolean()) bad_key(path, key, "true or false", j[key]);
  out = j[key].get<bool>();
}

// A special token: "[UNK]" or {"content": "[UNK]", ...}.
std::string token_text(const json& v, const std::filesystem::path& path, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  bad_key(path, key, "a string or an object with a string \"content\"", v);
}

// What tokenizer.json fixed (null when there is none): keys here must agree with it.
struct Fixed {
  const TokenizerOptions* json = nullptr;
  std::filesystem::path json_path;
};

[[noreturn]] void disagree(const std::filesystem::path& path, const std::string& key, const std::string& value,
                           const Fixed& fixed, const std::string& json_key, const std::string& json_value) {
  throw TokenizerError(path.string() + ": key '" + key + "' is " + value + " but " + fixed.json_path.string() +
                       " has " + json_key + " " + json_value +
                       " (transformers follows the first, the tokenizers library the second: make them agree)");
}

std::string show_bool(bool b) { return b ? "true" : "false"; }

void read_specials(const json& j, const std::filesystem::path& path, TokenizerOptions& o, const Fixed& fixed) {
  const std::pair<const char*, std::string*> named[] = {{"unk_token", &o.unk_token}, {"sep_token", &o.sep_token},
                                                        {"pad_token", &o.pad_token}, {"cls_token", &o.cls_token},
                                                        {"mask_token", &o.mask_token}};
  for (auto [key, dst] : named) {
    if (!j.contains(key) || j[key].is_null()) continue;
    std::string tok = token_text(j[key], path, key);
    const std::string k = key;
    if (fixed.json && (k == "unk_token" || k == "sep_token" || k == "cls_token") && tok != *dst) {
      disagree(path, key, "'" + tok + "'", fixed,
               k == "unk_token" ? "model.unk_token" : "the post_processor's " + k.substr(0, 3) + " token", "'" + *dst + "'");
    }
    *dst = std::move(tok);
  }
  if (j.contains("additional_special_tokens") && !j["additional_special_tokens"].is_null()) {
    const json& list = j["additional_special_tokens"];
    if (!list.is_array()) bad_key(path, "additional_special_tokens", "a list", list);
    for (std::size_t i = 0; i < list.size(); ++i) {
      o.additional_special_tokens.push_back(
          token_text(list[i], path, "additional_special_tokens[" + std::to_string(i) + "]"));
    }
  }
}

// The normalizer keys, checked against tokenizer.json's normalizer when there is one.
void read_normalizer_keys(const json& j, const std::filesystem::path& path, TokenizerOptions& o, const Fixed& fixed) {
  bool lower = o.do_lower_case, chinese = o.tokenize_chinese_chars;
  read_bool(j, path, "do_lower_case", lower);
  read_bool(j, path, "tokenize_chinese_chars", chinese);
  std::optional<bool> strip = o.strip_accents;
  const bool has_strip = j.contains("strip_accents");
  if (has_strip) {
    if (!j["strip_accents"].is_null() && !j["strip_accents"].is_boolean()) {
      bad_key(path, "strip_accents", "true, false or null", j["strip_accents"]);
    }
    strip = j["strip_accents"].is_null() ? std::nullopt : std::optional<bool>(j["strip_accents"].get<bool>());
  }
  if (!fixed.json) {
    o.do_lower_case = lower;
    o.tokenize_chinese_chars = chinese;
    if (strip) o.strip_accents = strip;
    return;
  }
  if (lower != o.do_lower_case) {
    disagree(path, "do_lower_case", show_bool(lower), fixed, "normalizer lowercase", show_bool(o.do_lower_case));
  }
  if (chinese != o.tokenize_chinese_chars) {
    disagree(path, "tokenize_chinese_chars", show_bool(chinese), fixed, "normalizer handle_chinese_chars",
             show_bool(o.tokenize_chinese_chars));
  }
  // null means "as do_lower_case" in both files: compare what each one does
  if (has_strip && strip.value_or(o.do_lower_case) != o.strip_accents.value_or(o.do_lower_case)) {
    disagree(path, "strip_accents", strip ? show_bool(*strip) : "null", fixed, "normalizer strip_accents",
             o.strip_accents ? show_bool(*o.strip_accents) : "null");
  }
}

// tokenizer_config.json from its text (`name` names it in messages), applied on top of `o`;
// keys that tokenizer.json fixed (`fixed`) must agree with it.
void read_tokenizer_config_text(std::string_view text, const std::filesystem::path& config_path, TokenizerOptions& o,
                                const Fixed& fixed) {
  const json j = parse_json(text, config_path);
  if (!j.is_object()) throw TokenizerError(config_path.string() + ": must hold a JSON object");
  read_normalizer_keys(j, config_path, o, fixed);
  read_bool(j, config_path, "clean_up_tokenization_spaces", o.clean_up_tokenization_spaces);
  if (!fixed.json && j.contains("never_split") && !j["never_split"].is_null()) {
    const json& list = j["never_split"];
    if (!list.is_array()) bad_key(config_path, "never_split", "a list of strings or null", list);
    for (const json& v : list) {
      if (!v.is_string()) bad_key(config_path, "never_split", "a list of strings or null", list);
      o.never_split.push_back(v.get<std::string>());
    }
  }
  for (const char* key : {"model_max_length", "max_len"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    const json& v = j[key];
    if (!v.is_number() || !(v.get<double>() >= 1)) bad_key(config_path, key, "a positive number", v);
    // HF writes 1e30 ("VERY_LARGE_INTEGER") for "no limit"
    const double d = v.get<double>();
    o.model_max_length = d > 1e15 ? std::size_t{1} << 50 : static_cast<std::size_t>(d);
    break;
  }
  read_specials(j, config_path, o, fixed);
  if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
    for (const auto& [id, v] : j["added_tokens_decoder"].items()) {
      const std::string key = "added_tokens_decoder." + id;
      if (!v.is_object()) bad_key(config_path, key, "an object", v);
      const std::string tok = token_text(v, config_path, key);
      if (v.contains("special") && !v["special"].is_boolean()) bad_key(config_path, key + ".special", "true or false", v["special"]);
      const bool special = v.value("special", false);
      const bool known = tok == o.unk_token || tok == o.sep_token || tok == o.pad_token ||
                         tok == o.cls_token || tok == o.mask_token;
      if (special && !known) o.additional_special_tokens.push_back(tok);
    }
  }
}

void read_special_tokens_map_text(std::string_view text, const std::filesystem::path& map_path, TokenizerOptions& o,
                                  const Fixed& fixed) {
  const json j = parse_json(text, map_path);
  if (!j.is_object()) throw TokenizerError(map_path.string() + ": must hold a JSON object");
  std::vector<std::string> before = std::move(o.additional_special_tokens);
  o.additional_special_tokens.clear();
  read_specials(j, map_path, o, fixed);
  for (std::string& t : before) {
    if (std::find(o.additional_special_tokens.begin(), o.additional_special_tokens.end(), t) ==
        o.additional_special_tokens.end()) {
      o.additional_special_tokens.push_back(std::move(t));
    }
  }
}

TokenizerOptions read_config_files(const std::filesystem::path& dir, TokenizerOptions o, const Fixed& fixed) {
  const auto config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) read_tokenizer_config_text(read_text(config_path), config_path, o, fixed);
  const auto map_path = dir / "special_tokens_map.json";
  if (std::filesystem::exists(map_path)) read_special_tokens_map_text(read_text(map_path), map_path, o, fixed);
  return o;
}

}  // namespace

TokenizerOptions load_tokenizer_config(const std::filesystem::path& dir) { return read_config_files(dir, {}, {}); }

void read_tokenizer_config_json(std::string_view text, const std::string& name, TokenizerOptions& o) {
  read_tokenizer_config_text(text, name, o, {});
}

void read_special_tokens_map_json(std::string_view text, const std::string& name, TokenizerOptions& o) {
  read_special_tokens_map_text(text, name, o, {});
}

TokenizerOptions load_tokenizer_config(const std::filesystem::path& dir, const TokenizerOptions& from_tokenizer_json,
                                       const std::filesystem::path& tokenizer_json_path) {
  return read_config_files(dir, from_tokenizer_json, {&from_tokenizer_json, tokenizer_json_path});
}

}  // namespace bertlab::tokenizer
