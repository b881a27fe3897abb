// tests/ops/test_gradcheck.cpp — the gradcheck and allclose harness can fail.
//
// A harness that never fails proves nothing, so each way a backward can be wrong is fed to
// it on purpose: a wrong formula, a NaN, an infinity, a dropped gradient, a gradient of the
// wrong shape. Each must come back with ok == false and a message, without aborting the
// suite (gradcheck returns a result; it does not CHECK itself).
#include "tests/ops/helpers.h"

#include <cmath>

using namespace bertlab;
using testing::rand64;

namespace {

// y = x^2 with a backward chosen by the test: dx = back(x, dy)
testing::Fn square_with(std::function<Tensor(const Tensor& x, const Tensor& dy)> back) {
  return [back](const std::vector<Tensor>& v) {
    Tensor x = v[0];
    Tensor y = mul(x.detach(), x.detach());
    return record("square_under_test", y, {x}, [back, x = x.detach()](const Tensor& dy, Grads& g) {
      g.add(0, back(x, dy));
    });
  };
}

}  // namespace

TEST_CASE("gradcheck passes a correct backward") {
  auto res = testing::gradcheck(square_with([](auto& x, auto& dy) { return mul(dy, mul(x, 2.0)); }),
                                {rand64({3, 2}, 1)});
  INFO(res.message);
  CHECK(res.ok);
  CHECK(res.ops.count("square_under_test") == 1);
}

TEST_CASE("gradcheck fails a wrong backward and names the element") {
  // dx = 3 x dy instead of 2 x dy
  auto res = testing::gradcheck(square_with([](auto& x, auto& dy) { return mul(dy, mul(x, 3.0)); }),
                                {rand64({3, 2}, 1)});
  CHECK_FALSE(res.ok);
  CHECK(res.message.find("input 0 [3, 2]: element") != std::string::npos);
}

TEST_CASE("gradcheck fails a backward that gives NaN") {
  SUBCASE("every element NaN") {
    auto res = testing::gradcheck(square_with([](auto& x, auto& dy) { return mul(dy, mul(x, NAN)); }),
                                  {rand64({4}, 2)});
    CHECK_FALSE(res.ok);
    CHECK(res.message.find("nan") != std::string::npos);
  }
  SUBCASE("one element NaN among correct ones") {
    auto res = testing::gradcheck(square_with([](auto& x, auto& dy) {
                                    Tensor mask = from_vector(std::vector<int64_t>{0, 0, 1, 0}, {4});  // NaN at element 2 only
                                    return masked_fill(mul(dy, mul(x, 2.0)), mask, NAN);
                                  }),
                                  {rand64({4}, 2)});
    CHECK_FALSE(res.ok);
    CHECK(res.message.find("element 2") != std::string::npos);
  }
  SUBCASE("an infinity") {
    auto res = testing::gradcheck(square_with([](auto& x, auto& dy) { return mul(dy, mul(x, INFINITY)); }),
                                  {rand64({4}, 2)});
    CHECK_FALSE(res.ok);
  }
}

TEST_CASE("gradcheck fails a forward that gives NaN (the numeric gradient is NaN)") {
  // log of a negative number: forward NaN, backward dy / x finite
  auto res = testing::gradcheck([](auto& v) { return log(v[0]); }, {rand64({3}, 3, -2.0, -1.0)});
  CHECK_FALSE(res.ok);
}

TEST_CASE("gradcheck fails a backward that drops or misshapes the gradient") {
  SUBCASE("dropped: zero gradient") {
    auto res = testing::gradcheck(square_with([](auto& x, auto&) { return zeros_like(x); }), {rand64({3}, 4)});
    CHECK_FALSE(res.ok);
  }
  SUBCASE("output that records nothing") {
    auto res = testing::gradcheck([](auto& v) { return v[0].detach(); }, {rand64({3}, 4)});
    CHECK_FALSE(res.ok);
    CHECK(res.message == "the output does not require grad");
  }
  SUBCASE("nothing to check") {
    auto res = testing::gradcheck([](auto& v) { return mul(v[0], 2.0); }, {rand64({3}, 4, -1, 1, false)});
    CHECK_FALSE(res.ok);
    CHECK(res.message.find("nothing was checked") != std::string::npos);
  }
}

TEST_CASE("allclose fails on NaN and on a mismatched infinity, passes equal infinities") {
  Tensor ref = f64({1.0, 2.0, 3.0}, {3});
  CHECK(testing::allclose(f64({1.0, 2.0, 3.0 + 1e-9}, {3}), ref, 1e-6, 0).ok);
  CHECK_FALSE(testing::allclose(f64({1.0, NAN, 3.0}, {3}), ref, 1e-6, 0).ok);
  CHECK_FALSE(testing::allclose(ref, f64({1.0, NAN, 3.0}, {3}), 1e-6, 1e-3).ok);
  CHECK_FALSE(testing::allclose(f64({NAN}, {1}), f64({NAN}, {1}), 1e-6, 1e-3).ok);
  CHECK_FALSE(testing::allclose(f64({1.0}, {1}), f64({INFINITY}, {1}), 1e-6, 1e-3).ok);
  CHECK_FALSE(testing::allclose(f64({-INFINITY}, {1}), f64({INFINITY}, {1}), 1e-6, 1e-3).ok);
  CHECK(testing::allclose(f64({INFINITY}, {1}), f64({INFINITY}, {1}), 1e-6, 1e-3).ok);
  auto r = testing::allclose(f64({1.0, 2.5, 3.0}, {3}), ref, 1e-6, 0);
  CHECK_FALSE(r.ok);
  CHECK(r.message.find("element 1") != std::string::npos);
}
