// eiprop_bench_table: the rule's training step against autograd's and against torch::mm on the
// step's matrix products, as Google Benchmark runs interleaved in random order in one process,
// then a table of the ratios of their medians against the targets.
//   eiprop_bench_table [--shapes 784,256,10:64 ...] [--repetitions N] [--json FILE] ...
//                      [Google Benchmark flags, e.g. --benchmark_filter=784]
#include "support/command_line.h"
#include "support/interleaved.h"
#include "support/layered_comparison.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <stdexcept>

int main(int argc, char** argv) {
  using namespace eiprop::bench;
  CLI::App app{"eiprop_bench_table: training step of the plasticity rule against autograd "
               "(forward + backward + SGD) on the same weights and batches, interleaved"};
  std::vector<std::string> shape_texts;
  std::vector<std::string> methods{"sweep", "jacobi"};
  std::vector<std::string> path_names{"rule", "module"};
  ComparisonOptions options;
  CommonFlags flags;
  flags.repetitions = options.repetitions;
  flags.warmup = options.warmup;
  app.add_option("--shapes", shape_texts,
                 "layered circuits as widths:batch, e.g. 784,256,10:64 (repeat the flag or "
                 "separate by spaces); default: 784,256,10:64 1024,1024,1024,1024,1024:256 "
                 "4096,4096,4096:1024")
      ->delimiter(' ');
  app.add_option("--methods", methods, "relaxation methods")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::IsMember({"sweep", "jacobi", "euler"}));
  app.add_option("--paths", path_names,
                 "rule (eiprop::PlasticityRule) and/or module (BalancedMLP + loss.backward() + "
                 "SGD); each is compared with autograd")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::IsMember({"rule", "module"}));
  app.add_option("--lr", options.lr, "SGD learning rate of every path")->capture_default_str();
  app.add_option("--seed", options.seed, "random seed of weights and batches")
      ->capture_default_str();
  add_comparison_flags(app, flags);
  const int parsed = parse_command_line(app, argc, argv, interleaved_defaults());
  if (parsed >= 0) return parsed;

  try {
    if (!shape_texts.empty()) {
      options.shapes.clear();
      for (const auto& text : shape_texts) options.shapes.push_back(parse_shape(text));
    }
    options.paths.clear();
    for (const auto& name : path_names) options.paths.push_back(parse_path(name));
  } catch (const std::invalid_argument& error) {
    return usage_error(app, error.what());
  }
  const int applied = apply_common_flags(app, flags, options.device, options.dtype);
  if (applied >= 0) return applied;
  options.methods = methods;
  options.repetitions = flags.repetitions;
  options.warmup = flags.warmup;
  options.cpu_clock = flags.clock == "cpu";

  LayeredComparison comparison(options);
  comparison.register_benchmarks();
  try {
    if (!run_interleaved([&](const Medians& medians) { return comparison.derive(medians); },
                         flags.json)) {
      fmt::print(stderr, "eiprop_bench_table: could not write {}\n", flags.json);
      return 1;
    }
  } catch (const c10::Error& error) {
    fmt::print(stderr, "eiprop_bench_table: {}\n", error.what_without_backtrace());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
