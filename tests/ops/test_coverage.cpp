// tests/ops/test_coverage.cpp — every differentiable op passes a float64 gradcheck, and no op
// can be added without one.
//
// The table below runs one gradcheck per case and collects the names of the graph nodes each
// case recorded. Two scans of the sources (read from the working directory: meson runs the
// tests from the project root) then make sure nothing is left out:
//  - every public function declared in the ops/ headers that ops/ops.h includes is either the
//    `op` of some gradcheck case or listed in kNotDifferentiable with its reason. An op that
//    forgets to call record() (so its gradient is silently dropped) cannot hide: its name is
//    in the header, its gradcheck fails with "the output does not require grad". The check
//    is by name, not by overload: `add(a, b)` and `add(x, 2.0)` are both `add`.
//  - every name passed as the first argument of record(...) in ops/**/*.cpp is exercised by a
//    case. A record(...) whose name is not a string literal (or a `cond ? "a" : "b"` of
//    literals) fails too, since the scan could not see it.
#include "tests/ops/helpers.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <fstream>
#include <set>
#include <sstream>

using namespace bertlab;
using testing::rand64;

namespace {

struct Case {
  const char* op;  // the function in the ops/ headers that the case checks
  testing::Fn fn;
  std::vector<Tensor> inputs;
};

Tensor int_tensor(std::vector<int64_t> v, Shape s) { return from_vector(v, s); }

std::vector<Case> cases() {
  Tensor a = rand64({3, 4}, 1), b = rand64({4}, 2, 0.5, 2.0), pos = rand64({2, 3}, 3, 0.5, 2.0);
  Tensor x3 = rand64({2, 3, 4}, 4, -2, 2);
  Tensor ids = int_tensor({1, 3, 1, 0}, {2, 2});
  Tensor targets = int_tensor({2, -100, 0}, {3});
  Tensor index = int_tensor({2, 0, 2}, {3});
  Tensor gidx = int_tensor({1, 0, 2, 2}, {2, 1, 2});
  Tensor cond = int_tensor({1, 0, 0, 1}, {4});
  return {
      {"add", [](auto& v) { return add(v[0], v[1]); }, {a, b}},
      {"sub", [](auto& v) { return sub(v[0], v[1]); }, {a, b}},
      {"mul", [](auto& v) { return mul(v[0], v[1]); }, {a, b}},
      {"div", [](auto& v) { return div(v[0], v[1]); }, {a, b}},
      {"add", [](auto& v) { return add(v[0], 2.0); }, {a}},
      {"mul", [](auto& v) { return mul(v[0], -3.0); }, {a}},
      {"rsub", [](auto& v) { return rsub(1.0, v[0]); }, {a}},
      {"rdiv", [](auto& v) { return rdiv(2.0, v[0]); }, {pos}},
      {"neg", [](auto& v) { return neg(v[0]); }, {a}},
      {"exp", [](auto& v) { return exp(v[0]); }, {a}},
      {"log", [](auto& v) { return log(v[0]); }, {pos}},
      {"sqrt", [](auto& v) { return sqrt(v[0]); }, {pos}},
      {"pow", [](auto& v) { return pow(v[0], 1.5); }, {pos}},
      {"tanh", [](auto& v) { return tanh(v[0]); }, {a}},
      {"sigmoid", [](auto& v) { return sigmoid(v[0]); }, {a}},
      {"relu", [](auto& v) { return relu(v[0]); }, {f64({-1.0, -0.2, 0.3, 0.8}, {4}).set_requires_grad()}},
      {"gelu", [](auto& v) { return gelu(v[0]); }, {a}},
      {"gelu", [](auto& v) { return gelu(v[0], GeluApprox::Tanh); }, {a}},
      {"matmul", [](auto& v) { return matmul(v[0], v[1]); }, {rand64({2, 2, 3}, 5), rand64({3, 2}, 6)}},
      {"linear", [](auto& v) { return linear(v[0], v[1], v[2]); }, {rand64({2, 3}, 7), rand64({4, 3}, 8), rand64({4}, 9)}},
      {"linear_gelu", [](auto& v) { return linear_gelu(v[0], v[1], v[2], DType::Float64); },
       {rand64({2, 3}, 7), rand64({4, 3}, 8), rand64({4}, 9)}},
      {"sum", [](auto& v) { return sum(v[0], {1}); }, {x3}},
      {"mean", [](auto& v) { return mean(v[0], {0, 2}); }, {x3}},
      {"max", [](auto& v) { return max(v[0], {2}); }, {x3}},
      {"reshape", [](auto& v) { return reshape(v[0], {4, 6}); }, {x3}},
      {"view", [](auto& v) { return view(v[0], {6, 4}); }, {x3}},
      {"permute", [](auto& v) { return permute(v[0], {2, 0, 1}); }, {x3}},
      {"expand", [](auto& v) { return expand(v[0], {2, 3, 4}); }, {b}},
      {"narrow", [](auto& v) { return narrow(v[0], 1, 1, 2); }, {x3}},
      {"contiguous", [](auto& v) { return contiguous(transpose(v[0], 0, 2)); }, {x3}},
      {"cat", [](auto& v) { return cat({v[0], v[1]}, 0); }, {a, rand64({2, 4}, 10)}},
      {"softmax", [](auto& v) { return softmax(v[0], 1); }, {x3}},
      {"log_softmax", [](auto& v) { return log_softmax(v[0], -1); }, {x3}},
      {"layer_norm", [](auto& v) { return layer_norm(v[0], v[1], v[2], 1e-5); },
       {x3, rand64({4}, 11, 0.5, 1.5), rand64({4}, 12)}},
      {"embedding", [ids](auto& v) { return embedding(v[0], ids); }, {rand64({4, 3}, 13)}},
      {"dropout",
       [](auto& v) {
         Generator g(14);
         return dropout(v[0], 0.3, true, g);
       },
       {a}},
      {"cross_entropy", [targets](auto& v) { return cross_entropy(v[0], targets); }, {rand64({3, 4}, 15, -2, 2)}},
      {"mse_loss", [](auto& v) { return mse_loss(v[0], v[1]); }, {a, rand64({3, 4}, 16)}},
      {"index_select", [index](auto& v) { return index_select(v[0], 1, index); }, {x3}},
      {"gather", [gidx](auto& v) { return gather(v[0], 2, gidx); }, {x3}},
      {"where", [cond](auto& v) { return where(cond, v[0], v[1]); }, {a, b}},
      {"masked_fill", [cond](auto& v) { return masked_fill(v[0], cond, -5.0); }, {a}},
      {"scaled_dot_product_attention",
       [](auto& v) {
         Generator g(17);
         return scaled_dot_product_attention(v[0], v[1], v[2], v[3], 0.3, true, g);
       },
       {rand64({2, 2, 3, 4}, 18), rand64({2, 2, 3, 4}, 19), rand64({2, 2, 3, 4}, 20), rand64({2, 1, 1, 3}, 21, -1, 0)}},
      // the derived ops: each is composed of the primitives above, checked here all the same
      {"maximum", [](auto& v) { return maximum(v[0], v[1]); }, {a, b}},
      {"minimum", [](auto& v) { return minimum(v[0], v[1]); }, {a, b}},
      {"clamp", [](auto& v) { return clamp(v[0], -0.5, 0.5); }, {a}},
      {"clamp", [](auto& v) { return clamp(v[0], std::nullopt, 0.2); }, {a}},
      {"clamp", [](auto& v) { return clamp(v[0], -0.2, std::nullopt); }, {a}},
      {"sum_to", [](auto& v) { return sum_to(v[0], {1, 4}); }, {x3}},
      {"flatten", [](auto& v) { return flatten(v[0], 1); }, {x3}},
      {"transpose", [](auto& v) { return transpose(v[0], 0, 2); }, {x3}},
      {"unsqueeze", [](auto& v) { return unsqueeze(v[0], 1); }, {a}},
      {"squeeze", [](auto& v) { return squeeze(v[0], 1); }, {rand64({3, 1, 2}, 22)}},
      {"slice", [](auto& v) { return slice(v[0], 2, 1, -1); }, {x3}},
      {"select", [](auto& v) { return select(v[0], 1, 2); }, {x3}},
      {"stack", [](auto& v) { return stack({v[0], v[1]}, 1); }, {a, rand64({3, 4}, 23)}},
      {"operator+", [](auto& v) { return v[0] + v[1] + 1.5 + (2.0 + v[0]); }, {a, b}},
      {"operator-", [](auto& v) { return v[0] - v[1] - 1.5 - (2.0 - v[0]) - (-v[1]); }, {a, b}},
      {"operator*", [](auto& v) { return v[0] * v[1] * 1.5 * (2.0 * v[0]); }, {a, b}},
      {"operator/", [](auto& v) { return v[0] / v[1] / 1.5 / (2.0 / v[1]); }, {a, b}},
  };
}

// Public ops with no gradient, and why. Each must still be declared in an ops/ header (a
// stale entry fails the test), and none may also have a gradcheck case.
const std::map<std::string, std::string> kNotDifferentiable = {
    {"gt", "a comparison: piecewise constant, its gradient is 0 wherever it exists"},
    {"eq", "a comparison: piecewise constant, its gradient is 0 wherever it exists"},
    {"argmax", "returns int64 indices"},
    {"topk", "inference only (fill-mask and pipeline top-k): values are copied on the host and carry no "
             "history, so a loss through them fails at backward instead of training silently"},
    {"add_", "in place and without history by design (optimizer updates, initialisation)"},
    {"mul_", "in place and without history by design (optimizer updates, initialisation)"},
    {"autocast_activation_dtype", "returns a DType"},
    {"autocast_operand", "returns x itself whenever grad mode is on; its bfloat16 copy is for inference only"},
};

// Names of the functions declared at namespace level in one header (comments blanked
// first): a line that starts in column 0 with a return type, then a name and '('. Operators
// keep their symbol ("operator+"). Declarations spread over several lines are found by
// their first line.
std::set<std::string> scan_header_ops(const std::string& text) {
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  bool in_block_comment = false;
  while (std::getline(in, line)) {
    if (in_block_comment) {
      if (line.find("*/") == std::string::npos) continue;
      line = line.substr(line.find("*/") + 2);
      in_block_comment = false;
    }
    if (auto c = line.find("//"); c != std::string::npos) line.resize(c);
    if (auto c = line.find("/*"); c != std::string::npos) {
      in_block_comment = line.find("*/", c) == std::string::npos;
      line.resize(c);
    }
    if (line.empty() || std::isspace((unsigned char)line[0]) || line[0] == '#' || line[0] == '}') continue;
    const auto paren = line.find('(');
    if (paren == std::string::npos) continue;
    std::string head = line.substr(0, paren);
    for (const char* skip : {"namespace", "struct", "class", "enum", "using", "template", "typedef", "static_assert"})
      if (head.rfind(skip, 0) == 0) head.clear();
    while (!head.empty() && std::isspace((unsigned char)head.back())) head.pop_back();
    if (head.empty()) continue;
    std::string name;
    if (auto op = head.find("operator"); op != std::string::npos) {
      name = head.substr(op);
      name.erase(std::remove_if(name.begin(), name.end(), [](unsigned char ch) { return std::isspace(ch); }), name.end());
    } else {
      size_t i = head.size();
      while (i > 0 && (std::isalnum((unsigned char)head[i - 1]) || head[i - 1] == '_')) --i;
      name = head.substr(i);
      if (i == 0 || name.empty()) continue;  // no return type before the name: not a declaration
    }
    names.insert(name);
  }
  return names;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The ops/ headers that ops/ops.h includes (autograd/ headers are the Tensor itself, not ops).
std::vector<std::string> op_headers() {
  std::vector<std::string> out;
  std::istringstream in(read_text("ops/ops.h"));
  std::string line;
  const std::string key = "#include \"ops/";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) out.push_back(line.substr(10, line.rfind('"') - 10));
  return out;
}

// Names passed as the first argument of record(...) in one source text. A first argument
// with no string literal is reported in `unreadable` (file:line).
void scan_record_names(const std::string& text, const std::string& file, std::set<std::string>& names,
                       std::vector<std::string>& unreadable) {
  // blank out // comments (outside string literals), keeping line breaks
  std::string src = text;
  bool in_str = false;
  for (size_t i = 0; i < src.size(); ++i) {
    if (in_str) {
      if (src[i] == '\\') ++i;
      else if (src[i] == '"') in_str = false;
    } else if (src[i] == '"') {
      in_str = true;
    } else if (src[i] == '\n') {
      in_str = false;
    } else if (src[i] == '/' && i + 1 < src.size() && src[i + 1] == '/') {
      while (i < src.size() && src[i] != '\n') src[i++] = ' ';
    }
  }
  const std::string key = "record(";
  for (size_t at = src.find(key); at != std::string::npos; at = src.find(key, at + 1)) {
    if (at > 0 && (std::isalnum((unsigned char)src[at - 1]) || src[at - 1] == '_' || src[at - 1] == '.' ||
                   src[at - 1] == '>' || src[at - 1] == ':'))
      continue;  // another function, or a member
    // the first argument: up to the first comma at nesting depth 0
    size_t i = at + key.size();
    int depth = 0;
    bool found = false;
    while (i < src.size()) {
      char c = src[i];
      if (c == '"') {
        size_t j = i + 1;
        std::string lit;
        while (j < src.size() && src[j] != '"') lit += src[j++];
        names.insert(lit);
        found = true;
        i = j + 1;
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      if (c == ')' || c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      }
      if (c == ',' && depth == 0) break;
      ++i;
    }
    if (!found) {
      const long line = 1 + std::count(src.begin(), src.begin() + (long)at, '\n');
      unreadable.push_back(file + ":" + std::to_string(line));
    }
  }
}

}  // namespace

TEST_CASE("the record() scanner finds literal names, conditional names, and flags the rest") {
  std::set<std::string> names;
  std::vector<std::string> bad;
  scan_record_names(
      "return record(\"mul\", y, {a, b}, f);\n"
      "  // record(\"commented\", y, {x}, f)\n"
      "return record(t ? \"gelu_tanh\" : \"gelu\", y, {x}, f);\n"
      "x = my_record(\"other\", 1);\n"
      "return record(name, y, {x}, f);\n",
      "demo.cpp", names, bad);
  CHECK(names == std::set<std::string>{"mul", "gelu", "gelu_tanh"});
  REQUIRE(bad.size() == 1);
  CHECK(bad[0] == "demo.cpp:5");
}

TEST_CASE("every op recorded in ops/ passes a float64 gradcheck") {
  std::set<std::string> exercised;
  for (const Case& c : cases()) {
    INFO("case: " << c.op);
    auto res = testing::gradcheck(c.fn, c.inputs);
    INFO("gradcheck: " << res.message);
    CHECK(res.ok);
    CHECK(!res.ops.empty());
    exercised.insert(res.ops.begin(), res.ops.end());
  }

  std::set<std::string> recorded;
  std::vector<std::string> unreadable;
  int files = 0;
  REQUIRE_MESSAGE(std::filesystem::is_directory("ops"), "run from the project root (meson test does)");
  for (const auto& e : std::filesystem::recursive_directory_iterator("ops")) {
    if (!e.is_regular_file() || e.path().extension() != ".cpp") continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    scan_record_names(ss.str(), e.path().string(), recorded, unreadable);
    ++files;
  }
  CHECK(files >= 8);
  CHECK(recorded.size() >= 30);  // the scan must find the ops, or it proves nothing
  for (const char* known : {"add", "matmul", "gelu_tanh", "layer_norm", "cross_entropy", "where"})
    CHECK_MESSAGE(recorded.count(known) == 1, "the scan missed " << known);

  // Nodes that round to bfloat16 under autocast (ops/matmul.cpp): a rounding has no finite
  // difference to check; tests/ops/test_bf16.cpp checks these products and their gradients
  // against float64 sums of the same rounded values, as the bf16 policy prescribes.
  const std::map<std::string, std::string> checked_elsewhere = {
      {"autocast_round_bf16", "tests/ops/test_bf16.cpp (matmul under bfloat16 autocast)"},
      {"autocast_grad_to_bf16", "tests/ops/test_bf16.cpp (matmul under bfloat16 autocast)"}};
  std::string missing;
  for (const auto& n : recorded)
    if (!exercised.count(n) && !checked_elsewhere.count(n)) missing += " " + n;
  for (const auto& [n, where] : checked_elsewhere)
    CHECK_MESSAGE(recorded.count(n) == 1, n << " is listed as checked in " << where << " but no op records it");
  CHECK_MESSAGE(missing.empty(), "ops recorded in ops/ without a gradcheck case in tests/ops/test_coverage.cpp:" << missing);
  std::string where;
  for (const auto& u : unreadable) where += " " + u;
  CHECK_MESSAGE(unreadable.empty(), "record() calls whose op name is not a string literal:" << where);
}

TEST_CASE("the header scanner finds namespace-level functions and operators, not members or comments") {
  auto names = scan_header_ops(
      "// Tensor commented(const Tensor& x);\n"
      "/* Tensor blocked(int);\n   Tensor also_blocked(int); */\n"
      "Tensor add(const Tensor& a, const Tensor& b);  // a + b\n"
      "TopK topk(const Tensor& x, int64_t k);\n"
      "Tensor cross_entropy(const Tensor& logits, const Tensor& targets,\n"
      "                     int64_t ignore_index = -100);\n"
      "inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }\n"
      "void add_(const Tensor& x, const Tensor& y, double alpha = 1.0);\n"
      "enum class GeluApprox { None, Tanh };\n"
      "struct TopK {\n  Tensor values, indices;\n  Tensor member(int);\n};\n"
      "namespace bertlab {\n"
      "#define MACRO(x) x\n");
  CHECK(names == std::set<std::string>{"add", "topk", "cross_entropy", "operator+", "add_"});
}

TEST_CASE("every public op in ops/ops.h is gradchecked or listed as not differentiable") {
  REQUIRE_MESSAGE(std::filesystem::is_regular_file("ops/ops.h"), "run from the project root (meson test does)");
  std::set<std::string> declared;
  const auto headers = op_headers();
  CHECK(headers.size() >= 10);  // the scan must find the headers, or it proves nothing
  for (const auto& h : headers) {
    CAPTURE(h);
    REQUIRE(std::filesystem::is_regular_file(h));
    auto names = scan_header_ops(read_text(h));
    CHECK_MESSAGE(!names.empty(), h << " declares no op the scan can see");
    declared.insert(names.begin(), names.end());
  }
  CHECK(declared.size() >= 50);
  for (const char* known : {"add", "maximum", "clamp", "scaled_dot_product_attention", "topk", "operator/", "mul_"})
    CHECK_MESSAGE(declared.count(known) == 1, "the header scan missed " << known);

  std::set<std::string> checked;
  for (const Case& c : cases()) checked.insert(c.op);
  std::string neither, stale, both;
  for (const auto& n : declared)
    if (!checked.count(n) && !kNotDifferentiable.count(n)) neither += " " + n;
  for (const auto& n : checked)
    if (!declared.count(n)) stale += " " + n;
  for (const auto& [n, why] : kNotDifferentiable) {
    if (!declared.count(n)) stale += " " + n;
    if (checked.count(n)) both += " " + n;
  }
  CHECK_MESSAGE(neither.empty(), "ops declared in ops/*.h with neither a gradcheck case nor an entry in "
                                 "kNotDifferentiable (tests/ops/test_coverage.cpp):" << neither);
  CHECK_MESSAGE(stale.empty(), "entries in tests/ops/test_coverage.cpp that no ops/ header declares:" << stale);
  CHECK_MESSAGE(both.empty(), "ops both gradchecked and listed as not differentiable:" << both);
}

TEST_CASE("the ops listed as not differentiable never pretend to have a gradient") {
  // a result that required grad without a backward would train silently wrong
  Tensor x = rand64({2, 5}, 30);
  CHECK_FALSE(gt(x, x).requires_grad());
  CHECK_FALSE(eq(x, x).requires_grad());
  CHECK_FALSE(argmax(x, 1).requires_grad());
  CHECK_FALSE(topk(x, 2).values.requires_grad());
}
