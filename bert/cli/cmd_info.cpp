// bert/cli/cmd_info.cpp — `bertlab info`: a model's shape and parameter counts, built from a
// preset name, a config.json or a model folder (the real module tree is built, without
// initialising its memory, and its parameters counted).
//
//   bertlab info --config bert-base --task classify --num-labels 2 --freeze-encoder --json
//   {"config": "bert-base", "model": "BertForSequenceClassification", "total": 109484546, "trainable": 1538}
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bert/train/distributed.h"
#include "bert/cli/commands.h"
#include "bert/cli/common.h"
#include "bert/distilbert/model.h"
#include "bert/heads.h"
#include "cuda/cuda.h"
#include "ops/cpu/cpu_features.h"
#include "ops/cpu/gemm_bf16.h"

namespace bertlab::cli {

void add_info_command(CLI::App& app) {
  struct Opts {
    std::string config = "bert-base";
    std::string task = "base";
    int64_t num_labels = 0;
    bool freeze = false;
    CommonFlags common;
  };
  auto o = std::make_shared<Opts>();
  auto* c = app.add_subcommand("info", "print a model's configuration and parameter counts");
  c->add_option("--config", o->config, "preset (bert-tiny ... bert-large[-cased], distilbert-base-[un]cased, distilbert-tiny), a config.json, or a model folder")
      ->capture_default_str();
  c->add_option("--task", o->task, "head: base (the bare encoder), pretrain, mlm, classify, ner, qa")
      ->check(one_of({"base", "pretrain", "mlm", "nsp", "classify", "ner", "qa"}))
      ->capture_default_str();
  c->add_option("--num-labels", o->num_labels, "labels of a classify/ner head (default: from the config, else 2)")
      ->check(in_range<long>(1, 1 << 20));
  c->add_flag("--freeze-encoder", o->freeze, "freeze the encoder (bert.*): only the head trains");
  add_common_flags(c, o->common, kJson, "print one JSON object with keys total and trainable");
  c->callback([o] {
    nn::SkipInitGuard no_init;
    std::shared_ptr<nn::Module> model;
    std::string name;
    bert::BertConfig config;
    if (o->task == "base") {
      // the bare encoder of the config's family: a head model's encoder module alone
      if (is_distilbert_spec(o->config)) {
        auto m = std::dynamic_pointer_cast<bert::DistilBertPreTrainedModel>(new_model(bert::Task::MaskedLM, o->config, o->num_labels));
        config = m->config;
        model = m->distilbert;
        name = "DistilBertModel";
      } else {
        config = resolve_config(o->config);
        if (o->num_labels > 0) config.set_num_labels(o->num_labels);
        model = std::make_shared<bert::BertModel>(config);
        name = "BertModel";
      }
      if (o->freeze) model->freeze("");
    } else {
      auto m = new_model(task_from_cli(o->task), o->config, o->num_labels);
      config = m->config;
      name = m->class_name();
      if (o->freeze) m->freeze(m->encoder_name() + ".");
      model = m;
    }
    const int64_t total = model->num_parameters(), trainable = model->num_parameters(true);
    if (o->common.json) {
      nlohmann::json j = {{"config", o->config}, {"model", name}, {"total", total}, {"trainable", trainable},
                          {"bf16_gemm", cpu::bf16_gemm_name(cpu::bf16_gemm_kernel())},
                          {"mpi", dist::built_with_mpi()}, {"nccl", cuda::nccl_built()},
                          {"world_size", dist::world_size()}};
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    std::printf("model        %s (%s)\n", name.c_str(), o->config.c_str());
    std::printf("layers       %lld, hidden %lld, heads %lld, FFN %lld, vocab %lld, positions %lld\n",
                (long long)config.num_hidden_layers, (long long)config.hidden_size,
                (long long)config.num_attention_heads, (long long)config.intermediate_size,
                (long long)config.vocab_size, (long long)config.max_position_embeddings);
    std::printf("parameters   %s total, %s trainable\n", with_commas(total).c_str(), with_commas(trainable).c_str());
    // what --dtype bfloat16 runs on here (ops/cpu/gemm_bf16.h)
    std::printf("cpu          %s\n", cpu::cpu_features_str().c_str());
    std::printf("bf16 gemm    %s (BERTLAB_BF16_GEMM to force one)\n", cpu::bf16_gemm_name(cpu::bf16_gemm_kernel()));
    // data parallel (bert/train/distributed.h)
    if (!dist::built_with_mpi())
      std::printf("mpi          not built (install libopenmpi-dev and rebuild for mpirun -np N)\n");
    else
      std::printf("mpi          built; this process is rank %d of %d\n", dist::rank(), dist::world_size());
    std::printf("nccl         %s\n", cuda::nccl_built() ? "built (mpirun -np N ... --device cuda: one GPU per rank)"
                                                        : "not built (data parallel on GPUs needs it)");
  });
}

}  // namespace bertlab::cli
