// eiprop_bench_table: the rule's training step against autograd's and against torch::mm on the
// step's matrix products, as Google Benchmark runs interleaved in random order in one process,
// then a table of the ratios of their medians against the targets.
//   eiprop_bench_table [--shapes 784,256,10:64 ...] [--repetitions N] [--json FILE] ...
//                      [Google Benchmark flags, e.g. --benchmark_filter=784]
#include "support/command_line.h"
#include "support/device.h"
#include "support/interleaved.h"
#include "support/layered_comparison.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <stdexcept>

int main(int argc, char** argv) {
  using namespace eiprop::bench;
  CLI::App app{"eiprop_bench_table: training step of the plasticity rule against autograd "
               "(forward + backward + SGD) on the same weights and batches, interleaved"};
  std::vector<std::string> shape_texts;
  std::vector<std::string> methods{"sweep", "jacobi"};
  std::vector<std::string> path_names{"rule", "module"};
  ComparisonOptions options;
  std::string device_name = "cpu";
  std::string dtype_name = "float32";
  std::string json_path;
  std::string clock_name = "wall";
  int threads = 0;
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
  app.add_option("--repetitions", options.repetitions,
                 "timed steps of each contestant (medians reported); Google Benchmark's "
                 "--benchmark_repetitions does not apply")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps of each contestant first")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", device_name, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--dtype", dtype_name, "float32 or float64")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "float64"}));
  app.add_option("--lr", options.lr, "SGD learning rate of every path")->capture_default_str();
  app.add_option("--seed", options.seed, "random seed of weights and batches")
      ->capture_default_str();
  app.add_option("--threads", threads, "LibTorch intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--clock", clock_name,
                 "the table's ratios from wall: real time; cpu: this process's CPU time (CPU "
                 "device only; for a machine shared with other work, with --threads 1). Google "
                 "Benchmark reports both")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "cpu"}));
  app.add_option("--json", json_path,
                 "also write Google Benchmark's JSON (every repetition, medians, machine context) "
                 "with the ratios (aggregates named ..._ratio_to_autograd) to this file");
  const int parsed = parse_command_line(app, argc, argv, interleaved_defaults());
  if (parsed >= 0) return parsed;

  try {
    if (!shape_texts.empty()) {
      options.shapes.clear();
      for (const auto& text : shape_texts) options.shapes.push_back(parse_shape(text));
    }
    options.methods = methods;
    options.paths.clear();
    for (const auto& name : path_names) options.paths.push_back(parse_path(name));
    options.device = parse_device(device_name);
    options.dtype = parse_dtype(dtype_name);
  } catch (const std::invalid_argument& error) {
    return usage_error(app, error.what());
  }
  options.cpu_clock = clock_name == "cpu";
  if (options.cpu_clock && !options.device.is_cpu()) {
    return usage_error(app, "--clock cpu times CPU work only; use --clock wall on " +
                                options.device.str());
  }
  if (threads > 0) torch::set_num_threads(threads);

  benchmark::AddCustomContext("eiprop.device", options.device.str());
  benchmark::AddCustomContext("eiprop.dtype", dtype_name);
  benchmark::AddCustomContext("eiprop.clock", clock_name);
  benchmark::AddCustomContext("libtorch", TORCH_VERSION);
  benchmark::AddCustomContext("libtorch_threads", std::to_string(at::get_num_threads()));
  LayeredComparison comparison(options);
  comparison.register_benchmarks();
  try {
    if (!run_interleaved([&](const Medians& medians) { return comparison.derive(medians); },
                         json_path)) {
      fmt::print(stderr, "eiprop_bench_table: could not write {}\n", json_path);
      return 1;
    }
  } catch (const c10::Error& error) {
    fmt::print(stderr, "eiprop_bench_table: {}\n", error.what_without_backtrace());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
