// bert/cli/cmd_plot.cpp — `bertlab plot RUN_DIR [--out FILE.png|.svg|.pdf]`: the loss curves (and
// accuracy-like scores) of a run's metrics.jsonl, drawn by gnuplot (bert/train/plot.h). Works for
// pre-training and fine-tuning runs alike: every numeric "loss"-like key is drawn against "step".
#include <cstdio>

#include "bert/cli/commands.h"
#include "bert/train/plot.h"

namespace bertlab::cli {

void add_plot_command(CLI::App& app) {
  struct Opts {
    std::string run, out;
  };
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("plot", "plot a run's loss curves (metrics.jsonl) to PNG/SVG with gnuplot");
  c->add_option("run", o->run, "run folder (with metrics.jsonl) or a metrics .jsonl file")->required();
  c->add_option("--out", o->out, "image to write: .png, .svg or .pdf (default: RUN_DIR/loss.png)");
  c->callback([o] {
    const std::string path = train::plot_run(o->run, o->out);
    std::printf("wrote %s\n", path.c_str());
  });
}

}  // namespace bertlab::cli
