// eiprop_bench (Google Benchmark): one training step of the plasticity rule (PlasticityRule, and
// BalancedMLP + loss.backward() + SGD) and of autograd (Linear/Tanh stack + backward + SGD) on
// layered circuits, and torch::mm on the step's matrix products.
//   eiprop_bench [--device cpu|cuda[:N]] [--dtype float32|float64] [--shapes 784,256,10:64 ...]
//                [Google Benchmark flags, e.g. --benchmark_filter=step --benchmark_min_time=0.1]
// EIPROP_BENCH_DEVICE, EIPROP_BENCH_DTYPE and EIPROP_BENCH_SHAPES (space-separated) set the same.
// For the rule/autograd ratio measured interleaved, use eiprop_bench_table.
#include "support/gemm_throughput.h"
#include "support/layered_shape.h"
#include "support/timing.h"
#include "support/training_steps.h"

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace {

using namespace eiprop::bench;

struct Settings {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
  std::vector<LayeredShape> shapes = standard_shapes();
};

std::string token(const LayeredShape& shape) {
  std::string name = shape.name();
  for (char& c : name) c = c == ' ' ? '/' : c;
  return name;
}

// Times every iteration itself (synchronized on CUDA) and reports GFLOP/s of `flops` per run.
template <typename Run>
void timed_loop(benchmark::State& state, const torch::Device& device, double flops, Run&& run) {
  double seconds = 0.0;
  for (auto _ : state) {
    const double ms = time_ms(device, run);
    state.SetIterationTime(ms * 1e-3);
    seconds += ms * 1e-3;
  }
  state.counters["GEMM_GFLOP/s"] =
      seconds > 0 ? flops * static_cast<double>(state.iterations()) / seconds * 1e-9 : 0.0;
}

void register_step(const Settings& settings, const LayeredShape& shape, const std::string& method,
                   StepPath path) {
  const std::string name =
      path == StepPath::autograd
          ? fmt::format("step/{}/autograd", token(shape))
          : fmt::format("step/{}/{}/{}", token(shape), method, path_name(path));
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
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
  })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

void register_mm(const Settings& settings, const std::string& name, std::vector<Gemm> gemms) {
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    GemmSet set(gemms, torch::TensorOptions().dtype(settings.dtype).device(settings.device));
    set.run();
    timed_loop(state, settings.device, set.flops(), [&] { set.run(); });
  })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

void register_all(const Settings& settings) {
  for (const auto& shape : settings.shapes) {
    for (const std::string method : {"sweep", "jacobi"}) {
      register_step(settings, shape, method, StepPath::rule);
      register_step(settings, shape, method, StepPath::module);
    }
    register_step(settings, shape, "sweep", StepPath::autograd);
    const auto gemms = training_step_gemms(shape);
    register_mm(settings, fmt::format("mm/{}/step", token(shape)), gemms);
    // Each distinct product of the step on its own.
    std::set<std::tuple<int64_t, int64_t, int64_t, bool, bool>> seen;
    for (const auto& gemm : gemms) {
      if (!seen.insert({gemm.m, gemm.k, gemm.n, gemm.a_transposed, gemm.b_transposed}).second) {
        continue;
      }
      register_mm(settings,
                  fmt::format("mm/{}/{}x{}x{}{}{}", token(shape), gemm.m, gemm.k, gemm.n,
                              gemm.a_transposed ? "/At" : "", gemm.b_transposed ? "/Bt" : ""),
                  {gemm});
    }
  }
}

// Takes --device/--dtype/--shapes (and their environment variables) out of argv.
Settings parse_settings(int& argc, char** argv) {
  std::map<std::string, std::string> values;
  for (const auto& [flag, variable] :
       {std::pair<std::string, const char*>{"--device", "EIPROP_BENCH_DEVICE"},
        {"--dtype", "EIPROP_BENCH_DTYPE"},
        {"--shapes", "EIPROP_BENCH_SHAPES"}}) {
    if (const char* value = std::getenv(variable)) values[flag] = value;
  }
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto equals = arg.find('=');
    const std::string flag = arg.substr(0, equals);
    if (flag == "--device" || flag == "--dtype" || flag == "--shapes") {
      if (equals != std::string::npos) {
        values[flag] = arg.substr(equals + 1);
      } else if (i + 1 < argc) {
        values[flag] = argv[++i];
      } else {
        throw std::invalid_argument(flag + " needs a value");
      }
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  Settings settings;
  if (values.count("--device")) settings.device = parse_device(values["--device"]);
  if (values.count("--dtype")) settings.dtype = parse_dtype(values["--dtype"]);
  if (values.count("--shapes")) {
    settings.shapes.clear();
    std::stringstream texts(values["--shapes"]);
    for (std::string text; texts >> text;) settings.shapes.push_back(parse_shape(text));
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  try {
    settings = parse_settings(argc, argv);
  } catch (const std::invalid_argument& error) {
    fmt::print(stderr, "eiprop_bench: {}\n", error.what());
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("eiprop.device", settings.device.str());
  benchmark::AddCustomContext("eiprop.dtype",
                              settings.dtype == torch::kFloat32 ? "float32" : "float64");
  register_all(settings);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
