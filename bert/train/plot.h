// bert/train/plot.h — loss curves of a run from its metrics.jsonl, drawn by gnuplot
// (Debian package gnuplot-nox), run without a shell on a generated script file.
//
// Generic over the keys a run logs: every numeric key whose name contains "loss" is drawn
// against "step" in the top panel; keys that look like scores (accuracy, f1, exact_match,
// precision, recall, matthews, pearson, spearman) in a second panel when there are any. Keys
// starting with "eval_", "dev_", "val", or "test_" are evaluation points (drawn with markers),
// the rest training curves (lines). So pre-training runs (loss, mlm_loss, nsp_loss,
// eval_mlm_accuracy, ...) and fine-tuning runs (train_loss, eval_accuracy, eval_f1, ...) plot alike.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bertlab::train {

struct MetricSeries {
  std::string key;
  std::vector<std::pair<double, double>> points;  // (step, value)
  bool eval = false;   // evaluation points, not a training curve
  bool score = false;  // an accuracy-like score (second panel), not a loss
};

// The series of a metrics.jsonl file, in the order keys first appear in it. Lines that are not JSON
// objects or have no numeric "step" are skipped; throws naming the file when it cannot be read
// or holds no series to plot.
std::vector<MetricSeries> read_metric_series(const std::string& metrics_path);
// The same from the file's text (`path` names it in messages); read_metric_series calls this.
std::vector<MetricSeries> parse_metric_series(const std::string& text, const std::string& path);

// The gnuplot script that draws `series` into `out_path` (.png, .svg or .pdf, by its extension).
std::string gnuplot_script(const std::vector<MetricSeries>& series, const std::string& out_path,
                           const std::string& title);

// Plots RUN_DIR/metrics.jsonl (or a metrics file given directly) into out_path ("" =
// RUN_DIR/loss.png). The image appears atomically (gnuplot writes a temporary file that is
// renamed). `gnuplot` names the program ("" = $BERTLAB_GNUPLOT or "gnuplot"); when it cannot
// be found the error says how to install it. Returns the image path.
std::string plot_run(const std::string& run, std::string out_path = "", std::string gnuplot = "");

}  // namespace bertlab::train
