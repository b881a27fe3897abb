// tests/ops/test_vec_math.cpp — the vectorisable float exp / erf against the C library.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "ops/cpu/vec_math.h"

using bertlab::cpu::verf;
using bertlab::cpu::vexp;

TEST_CASE("vexp is within 2e-7 relative of exp over the float range, and handles the edges") {
  double worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
    double ref = std::exp((double)x);
    worst = std::max(worst, std::fabs(vexp(x) - ref) / ref);
  }
  CHECK(worst < 2e-7);
  CHECK(vexp(0.0f) == 1.0f);
  CHECK(vexp(-1000.0f) == 0.0f);
  CHECK(vexp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(std::isinf(vexp(1000.0f)));
  CHECK(std::isnan(vexp(std::nanf(""))));
}

TEST_CASE("verf is within 4e-7 absolute of erf (float rounding included)") {
  double worst = 0;
  for (float x = -6.0f; x < 6.0f; x += 0.0007f) worst = std::max(worst, std::fabs(verf(x) - std::erf((double)x)));
  CHECK(worst < 4e-7);
  CHECK(verf(0.0f) == doctest::Approx(0.0).epsilon(1e-7));
  CHECK(verf(10.0f) == 1.0f);
  CHECK(verf(-10.0f) == -1.0f);
}
