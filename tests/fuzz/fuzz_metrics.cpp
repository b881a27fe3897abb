// tests/fuzz/fuzz_metrics.cpp — fuzz target for metrics.jsonl as `bertlab plot` reads it
// (train::parse_metric_series, bert/train/plot.cpp), and the gnuplot script drawn from it. Any
// input gives series or throws bertlab::Error; every point is finite and the script names
// each series.
#include <cmath>

#include "bert/train/plot.h"
#include "tests/fuzz/fuzz_common.h"

using namespace bertlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fuzz::as_text(data, size));
  fuzz::accept_errors([&] {
    const std::vector<train::MetricSeries> series = train::parse_metric_series(text, "run/metrics.jsonl");
    FUZZ_CHECK(!series.empty());
    for (const auto& s : series) {
      FUZZ_CHECK(!s.points.empty());
      for (auto [x, y] : s.points) FUZZ_CHECK(std::isfinite(y));
    }
    const std::string script = train::gnuplot_script(series, "loss.png", "run");
    FUZZ_CHECK(script.find("plot ") != std::string::npos);
  });
  return 0;
}
