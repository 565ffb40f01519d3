#include "support/layered_comparison.h"

#include "support/device.h"
#include "support/gemm_throughput.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>

namespace eiprop {
namespace bench {
namespace {

struct Contestant {
  std::unique_ptr<TrainingStep> step;
  int64_t steps = 0;  // taken so far, warm-up included
  void run() {
    step->run();
    ++steps;
  }
};

constexpr const char* kRowFormat =
    "{:<16} {:<7} {:<8} {:>10} {:>11} {:>6} {:>8} {:>10} {:>9} {:>7} {:>10} {:>10}\n";

}  // namespace

struct LayeredComparison::Shape {
  // The steps keep references to their problem's batches. One problem per method (they hold the
  // same tensors; the method is an option of the problem).
  std::map<std::string, LayeredProblem> problems;
  std::unique_ptr<GemmSet> mm;
  Contestant autograd;
  std::map<std::string, Contestant> paths;  // by "<method>/<path>"
};

double target_ratio(const std::string& method) { return method == "jacobi" ? 1.15 : 1.0; }

LayeredComparison::LayeredComparison(ComparisonOptions options)
    : options_(std::move(options)), shapes_(options_.shapes.size()) {}

LayeredComparison::~LayeredComparison() = default;

// Google Benchmark cannot warm up by a number of steps (MinWarmUpTime is a duration, so the
// contestants would take different numbers of steps and their weights could not be compared):
// every contestant of a shape takes options_.warmup untimed steps when the shape is made.
LayeredComparison::Shape& LayeredComparison::shape(size_t index) {
  if (shapes_[index]) return *shapes_[index];
  auto made = std::make_unique<Shape>();
  const auto& layered = options_.shapes[index];
  made->mm = std::make_unique<GemmSet>(
      training_step_gemms(layered),
      torch::TensorOptions().dtype(options_.dtype).device(options_.device));
  ProblemOptions problem_options;
  problem_options.shape = layered;
  problem_options.dtype = options_.dtype;
  problem_options.device = options_.device;
  problem_options.lr = options_.lr;
  problem_options.seed = options_.seed;
  const LayeredProblem base(problem_options);
  for (const auto& method : options_.methods) {
    LayeredProblem& problem = made->problems.emplace(method, base).first->second;
    problem.options.method = method;
    for (const auto path : options_.paths) {
      made->paths[method + "/" + path_name(path)].step = make_training_step(path, problem);
    }
  }
  // Autograd's problem, under the empty key: it has no relaxation method.
  made->autograd.step = make_training_step(
      StepPath::autograd, made->problems.emplace("", base).first->second);
  for (int i = 0; i < options_.warmup; ++i) {
    made->mm->run();
    made->autograd.run();
    for (auto& entry : made->paths) entry.second.run();
  }
  synchronize(options_.device);
  shapes_[index] = std::move(made);
  return *shapes_[index];
}

void LayeredComparison::register_benchmarks() {
  const auto device = options_.device;
  const auto timed = [device](benchmark::State& state, const std::function<void()>& run) {
    synchronize(device);
    for (auto _ : state) {
      run();
      synchronize(device);
    }
  };
  const auto add = [&](const std::string& name, std::function<void(benchmark::State&)> body) {
    configure_contestant(benchmark::RegisterBenchmark(name.c_str(), std::move(body)),
                         options_.repetitions);
  };
  for (size_t s = 0; s < options_.shapes.size(); ++s) {
    const std::string shape_token = options_.shapes[s].token();
    add("step/" + shape_token + "/autograd", [this, s, timed](benchmark::State& state) {
      auto& contestant = shape(s).autograd;
      timed(state, [&] { contestant.run(); });
    });
    add("mm/" + shape_token, [this, s, timed](benchmark::State& state) {
      auto& mm = *shape(s).mm;
      timed(state, [&] { mm.run(); });
    });
    for (const auto& method : options_.methods) {
      for (const auto path : options_.paths) {
        const std::string key = method + "/" + path_name(path);
        add("step/" + shape_token + "/" + key, [this, s, key, timed](benchmark::State& state) {
          auto& contestant = shape(s).paths.at(key);
          timed(state, [&] { contestant.run(); });
        });
      }
    }
  }
}

Derived LayeredComparison::derive(const Medians& medians) const {
  Derived derived;
  derived.table = fmt::format(kRowFormat, "shape", "method", "path", "step ms", "autograd ms",
                              "ratio", "target", "GEMM GF/s", "mm GF/s", "% of mm", "autograd %",
                              "weight diff");
  const auto ms = [&](const Median& median) {
    return options_.cpu_clock ? median.cpu_ms : median.real_ms;
  };
  for (size_t s = 0; s < options_.shapes.size(); ++s) {
    const auto& layered = options_.shapes[s];
    const std::string shape_token = layered.token();
    const Median* autograd = medians.find("step/" + shape_token + "/autograd");
    const Median* mm = medians.find("mm/" + shape_token);
    if (!autograd) continue;
    const double flops = total_flops(training_step_gemms(layered));
    const double autograd_gflops = flops / ms(*autograd) * 1e-6;
    const double mm_gflops = mm ? flops / ms(*mm) * 1e-6 : std::nan("");
    for (const auto& method : options_.methods) {
      for (const auto path : options_.paths) {
        const std::string key = method + "/" + path_name(path);
        const Median* step = medians.find("step/" + shape_token + "/" + key);
        if (!step) continue;
        // Weights are comparable when both took the same steps on the same batches.
        double weight_difference = std::nan("");
        if (const auto& made = shapes_[s]) {
          const auto& contestant = made->paths.at(key);
          if (contestant.steps == made->autograd.steps) {
            weight_difference = bench::weight_difference(*contestant.step, *made->autograd.step);
          }
        }
        const double ratio = ms(*step) / ms(*autograd);
        const double target = target_ratio(method);
        const double step_gflops = flops / ms(*step) * 1e-6;
        benchmark::UserCounters counters{{"target", target},
                                         {"meets_target", ratio <= target ? 1.0 : 0.0},
                                         {"gemm_gflop", flops * 1e-9},
                                         {"step_gemm_gflops", step_gflops},
                                         {"autograd_gemm_gflops", autograd_gflops}};
        // Google Benchmark writes NaN as a bare NaN, which is not JSON: unknowns are left out.
        if (mm) counters["mm_gemm_gflops"] = mm_gflops;
        if (!std::isnan(weight_difference)) counters["weight_difference"] = weight_difference;
        derived.aggregates.push_back(
            ratio_aggregate(*step, *autograd, "ratio_to_autograd", counters));
        derived.table += fmt::format(
            kRowFormat, layered.name(), method, path_name(path),
            fmt::format("{:.3f}", ms(*step)), fmt::format("{:.3f}", ms(*autograd)),
            fmt::format("{:.3f}", ratio),
            fmt::format("{}{:.2f}", ratio <= target ? "<=" : "MISS>", target),
            fmt::format("{:.1f}", step_gflops), fmt::format("{:.1f}", mm_gflops),
            fmt::format("{:.0f}%", 100.0 * step_gflops / mm_gflops),
            fmt::format("{:.0f}%", 100.0 * autograd_gflops / mm_gflops),
            fmt::format("{:.1e}", weight_difference));
      }
    }
  }
  derived.table += fmt::format(
      "ratio = step ms / autograd ms ({} time, medians over the interleaved repetitions); GEMM "
      "GF/s = the step's matrix-product FLOPs / step time; mm GF/s = the same products by "
      "torch::mm alone; weight diff = relative difference from autograd's weights after all "
      "steps\n",
      options_.cpu_clock ? "process CPU" : "real");
  return derived;
}

}  // namespace bench
}  // namespace eiprop
