// eiprop_bench (Google Benchmark): one training step of the plasticity rule (PlasticityRule, and
// BalancedMLP + loss.backward() + SGD) and of autograd (Linear/Tanh stack + backward + SGD) on
// layered circuits, and torch::mm on the step's matrix products.
//   eiprop_bench [--device cpu|cuda[:N]] [--dtype float32|float64] [--shapes 784,256,10:64 ...]
//                [Google Benchmark flags, e.g. --benchmark_filter=step --benchmark_min_time=0.1]
// For the rule/autograd ratio measured interleaved, use eiprop_bench_table.
#include "support/command_line.h"
#include "support/device.h"
#include "support/gemm_throughput.h"
#include "support/layered_shape.h"
#include "support/training_steps.h"

#include <CLI/CLI.hpp>
#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace eiprop::bench;

struct Settings {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  std::vector<LayeredShape> shapes = standard_shapes();
};

// Every iteration ends with the device's queued work done, so that real time covers it; reports
// the GEMM FLOPs per second of real time (UseRealTime below).
template <typename Run>
void timed_loop(benchmark::State& state, const torch::Device& device, double flops, Run&& run) {
  synchronize(device);
  for (auto _ : state) {
    run();
    synchronize(device);
  }
  state.counters["GEMM_FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

// Real time decides the iteration counts (CPU time misses CUDA kernels); cpu_time is the
// process's, so that it counts LibTorch's worker threads too.
void configure(benchmark::internal::Benchmark* benchmark) {
  benchmark->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
}

void register_step(const Settings& settings, const LayeredShape& shape, const std::string& method,
                   StepPath path) {
  const std::string name =
      path == StepPath::autograd
          ? fmt::format("step/{}/autograd", shape.token())
          : fmt::format("step/{}/{}/{}", shape.token(), method, path_name(path));
  auto* benchmark = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    ProblemOptions options;
    options.shape = shape;
    options.method = method;
    options.dtype = settings.dtype;
    options.device = settings.device;
    const LayeredProblem problem(options);
    auto step = make_training_step(path, problem);
    step->run();  // warm-up: allocator, GEMM workspaces
    timed_loop(state, settings.device, total_flops(training_step_gemms(shape)),
               [&] { step->run(); });
  });
  configure(benchmark);
}

void register_mm(const Settings& settings, const std::string& name, std::vector<Gemm> gemms) {
  auto* benchmark = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    GemmSet set(gemms, torch::TensorOptions().dtype(settings.dtype).device(settings.device));
    set.run();
    timed_loop(state, settings.device, set.flops(), [&] { set.run(); });
  });
  configure(benchmark);
}

void register_all(const Settings& settings) {
  for (const auto& shape : settings.shapes) {
    for (const std::string method : {"sweep", "jacobi"}) {
      register_step(settings, shape, method, StepPath::rule);
      register_step(settings, shape, method, StepPath::module);
    }
    register_step(settings, shape, "sweep", StepPath::autograd);
    const auto gemms = training_step_gemms(shape);
    register_mm(settings, fmt::format("mm/{}/step", shape.token()), gemms);
    // Each distinct product of the step on its own.
    std::set<std::tuple<int64_t, int64_t, int64_t, bool, bool>> seen;
    for (const auto& gemm : gemms) {
      if (!seen.insert({gemm.m, gemm.k, gemm.n, gemm.a_transposed, gemm.b_transposed}).second) {
        continue;
      }
      register_mm(settings,
                  fmt::format("mm/{}/{}x{}x{}{}{}", shape.token(), gemm.m, gemm.k, gemm.n,
                              gemm.a_transposed ? "/At" : "", gemm.b_transposed ? "/Bt" : ""),
                  {gemm});
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"eiprop_bench: Google Benchmark of one training step of the plasticity rule and "
               "of autograd on layered circuits, and of torch::mm on the step's matrix products"};
  CommonFlags flags;
  std::vector<std::string> shape_texts;
  add_device_flags(app, flags);
  app.add_option("--shapes", shape_texts,
                 "layered circuits as widths:batch, e.g. 784,256,10:64 (repeat the flag or "
                 "separate by spaces); default: 784,256,10:64 1024,1024,1024,1024,1024:256 "
                 "4096,4096,4096:1024")
      ->delimiter(' ');
  const int parsed = parse_command_line(app, argc, argv);
  if (parsed >= 0) return parsed;

  Settings settings;
  try {
    if (!shape_texts.empty()) {
      settings.shapes.clear();
      for (const auto& text : shape_texts) settings.shapes.push_back(parse_shape(text));
    }
  } catch (const std::invalid_argument& error) {
    return usage_error(app, error.what());
  }
  const int applied = apply_common_flags(app, flags, settings.device, settings.dtype);
  if (applied >= 0) return applied;
  register_all(settings);
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const c10::Error& error) {
    fmt::print(stderr, "eiprop_bench: {}\n", error.what_without_backtrace());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
