// tests/ops/test_coverage.cpp — every differentiable op passes a float64 gradcheck, and no op
// can be added without one.
//
// The table below runs one gradcheck per case and collects the names of the graph nodes each
// case recorded. The test then scans the op sources (ops/**/*.cpp, read from the working
// directory: meson runs the tests from the project root) for every name passed as the first
// argument of record(...), and fails listing any name that no case exercised. A record(...)
// whose name is not a string literal (or a `cond ? "a" : "b"` of literals) fails too, since
// the scan could not see it.
#include "tests/ops/helpers.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace bertlab;
using testing::rand64;

namespace {

struct Case {
  const char* label;
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
      {"add_scalar", [](auto& v) { return add(v[0], 2.0); }, {a}},
      {"mul_scalar", [](auto& v) { return mul(v[0], -3.0); }, {a}},
      {"rsub_scalar", [](auto& v) { return rsub(1.0, v[0]); }, {a}},
      {"rdiv_scalar", [](auto& v) { return rdiv(2.0, v[0]); }, {pos}},
      {"neg", [](auto& v) { return neg(v[0]); }, {a}},
      {"exp", [](auto& v) { return exp(v[0]); }, {a}},
      {"log", [](auto& v) { return log(v[0]); }, {pos}},
      {"sqrt", [](auto& v) { return sqrt(v[0]); }, {pos}},
      {"pow", [](auto& v) { return pow(v[0], 1.5); }, {pos}},
      {"tanh", [](auto& v) { return tanh(v[0]); }, {a}},
      {"sigmoid", [](auto& v) { return sigmoid(v[0]); }, {a}},
      {"relu", [](auto& v) { return relu(v[0]); }, {f64({-1.0, -0.2, 0.3, 0.8}, {4}).set_requires_grad()}},
      {"gelu", [](auto& v) { return gelu(v[0]); }, {a}},
      {"gelu_tanh", [](auto& v) { return gelu(v[0], GeluApprox::Tanh); }, {a}},
      {"matmul", [](auto& v) { return matmul(v[0], v[1]); }, {rand64({2, 2, 3}, 5), rand64({3, 2}, 6)}},
      {"linear", [](auto& v) { return linear(v[0], v[1], v[2]); }, {rand64({2, 3}, 7), rand64({4, 3}, 8), rand64({4}, 9)}},
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
  };
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
    CAPTURE(c.label);
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

  std::string missing;
  for (const auto& n : recorded)
    if (!exercised.count(n)) missing += " " + n;
  CHECK_MESSAGE(missing.empty(), "ops recorded in ops/ without a gradcheck case in tests/ops/test_coverage.cpp:" << missing);
  std::string where;
  for (const auto& u : unreadable) where += " " + u;
  CHECK_MESSAGE(unreadable.empty(), "record() calls whose op name is not a string literal:" << where);
}
