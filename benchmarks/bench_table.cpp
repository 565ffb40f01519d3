// eiprop_bench_table: the rule's training step against autograd's, interleaved in one process,
// as a table (and JSON): step times, their ratio against the targets, and the step's
// matrix-product throughput against torch::mm on the same shapes.
#include "support/layered_comparison.h"
#include "support/machine.h"
#include "support/report.h"
#include "support/timing.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <fstream>
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
                 "4096,4096,4096:1024");
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
  app.add_option("--repetitions", options.repetitions, "timed repetitions (medians reported)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps of each path first")
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
                 "wall: elapsed time; cpu: this process's CPU time (CPU device only; for a "
                 "machine shared with other work, with --threads 1)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wall", "cpu"}));
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

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
    options.clock = parse_clock(clock_name);
    if (options.clock == Clock::cpu && !options.device.is_cpu()) {
      throw std::invalid_argument("--clock cpu times CPU work only; use --clock wall on " +
                                  options.device.str());
    }
  } catch (const std::invalid_argument& error) {
    fmt::print(stderr, "eiprop_bench_table: {}\n", error.what());
    return 2;
  }
  if (threads > 0) torch::set_num_threads(threads);

  const auto machine = describe_machine(options.device);
  fmt::print("eiprop_bench_table: {}, {}; {} ({} hardware threads, {} LibTorch threads), "
             "LibTorch {}; {} clock, {} repetitions (medians), tanh hidden layers\n",
             machine.device, dtype_name, machine.cpu, machine.cores, machine.torch_threads,
             machine.torch, clock_name, options.repetitions);
  fmt::print("{}", table_header());
  std::fflush(stdout);
  std::vector<ComparisonRow> rows;
  try {
    rows = compare_layered(options, [](const ComparisonRow& row) {
      fmt::print("{}", table_row(row));
      std::fflush(stdout);
    });
  } catch (const c10::Error& error) {
    fmt::print(stderr, "eiprop_bench_table: {}\n", error.what_without_backtrace());
    return 1;
  }
  fmt::print("ratio = step ms / autograd ms; GEMM GF/s = the step's matrix-product FLOPs / step "
             "time; mm GF/s = the same products by torch::mm alone; weight diff = relative "
             "difference from autograd's weights after all steps\n");
  if (!json_path.empty()) {
    std::ofstream json(json_path);
    json << comparison_json(machine, dtype_name, clock_name, rows);
    if (!json) {
      fmt::print(stderr, "eiprop_bench_table: could not write {}\n", json_path);
      return 1;
    }
    fmt::print("wrote {}\n", json_path);
  }
  return 0;
}
