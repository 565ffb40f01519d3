// eiprop_bench_recurrent: on a recurrent circuit, the rule's learning step (firing relaxation,
// credit relaxation, plasticity) against backprop through the unrolled firing iterations, for a
// growing number of iterations, as Google Benchmark runs interleaved in random order in one
// process: time, memory held between the forward and backward stages, and the gap between the
// two gradients, then a table of them.
#include "support/command_line.h"
#include "support/device.h"
#include "support/interleaved.h"
#include "support/recurrent_comparison.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <stdexcept>

int main(int argc, char** argv) {
  using namespace eiprop::bench;
  CLI::App app{"eiprop_bench_recurrent: credit relaxation against backprop through the unrolled "
               "firing iterations on a recurrent circuit (input -> hidden <-> hidden -> output)"};
  RecurrentOptions options;
  std::vector<int64_t> iterations{10, 100, 1000};
  std::string device_name = "cpu", dtype_name = "float32", clock_name = "wall", json_path;
  int threads = 0;
  app.add_option("--iterations", iterations, "iteration counts")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--input", options.input, "input width")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--hidden", options.hidden, "recurrent hidden width")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--output", options.output, "output width")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--batch", options.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--radius", options.recurrent_radius,
                 "spectral radius of the hidden self-projection")
      ->capture_default_str();
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

  benchmark::AddCustomContext(
      "eiprop.circuit",
      fmt::format("{} -> {} (self, radius {}) -> {}, batch {}", options.input, options.hidden,
                  options.recurrent_radius, options.output, options.batch));
  benchmark::AddCustomContext("eiprop.device", options.device.str());
  benchmark::AddCustomContext("eiprop.dtype", dtype_name);
  benchmark::AddCustomContext("eiprop.clock", clock_name);
  benchmark::AddCustomContext("libtorch", TORCH_VERSION);
  benchmark::AddCustomContext("libtorch_threads", std::to_string(at::get_num_threads()));
  RecurrentComparison comparison(options, iterations);
  comparison.register_benchmarks();
  try {
    if (!run_interleaved([&](const Medians& medians) { return comparison.derive(medians); },
                         json_path)) {
      fmt::print(stderr, "eiprop_bench_recurrent: could not write {}\n", json_path);
      return 1;
    }
  } catch (const c10::Error& error) {
    fmt::print(stderr, "eiprop_bench_recurrent: {}\n", error.what_without_backtrace());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
