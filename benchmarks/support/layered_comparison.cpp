#include "support/layered_comparison.h"

#include "support/gemm_throughput.h"

#include <functional>
#include <memory>

namespace eiprop {
namespace bench {

double target_ratio(const std::string& method) { return method == "jacobi" ? 1.15 : 1.0; }

std::vector<ComparisonRow> compare_layered(const ComparisonOptions& options,
                                           void (*progress)(const ComparisonRow&)) {
  std::vector<ComparisonRow> rows;
  const auto tensor = torch::TensorOptions().dtype(options.dtype).device(options.device);
  for (const auto& shape : options.shapes) {
    GemmSet mm(training_step_gemms(shape), tensor);
    for (const auto& method : options.methods) {
      ProblemOptions problem_options;
      problem_options.shape = shape;
      problem_options.method = method;
      problem_options.dtype = options.dtype;
      problem_options.device = options.device;
      problem_options.lr = options.lr;
      problem_options.seed = options.seed;
      const LayeredProblem problem(problem_options);

      // Contestants: autograd, the paths, and torch::mm; each with its own times.
      std::vector<std::function<void()>> runs;
      auto autograd = make_training_step(StepPath::autograd, problem);
      runs.push_back([&] { autograd->run(); });
      std::vector<std::unique_ptr<TrainingStep>> steps;
      for (auto path : options.paths) {
        steps.push_back(make_training_step(path, problem));
        runs.push_back([step = steps.back().get()] { step->run(); });
      }
      runs.push_back([&] { mm.run(); });

      for (int i = 0; i < options.warmup; ++i) {
        for (auto& run : runs) run();
      }
      std::vector<std::vector<double>> times(runs.size());
      for (int r = 0; r < options.repetitions; ++r) {
        for (size_t j = 0; j < runs.size(); ++j) {
          const size_t k = (j + r) % runs.size();
          times[k].push_back(time_ms(options.device, runs[k], options.clock));
        }
      }
      const double autograd_ms = median(times.front());
      const double mm_ms = median(times.back());
      for (size_t p = 0; p < options.paths.size(); ++p) {
        ComparisonRow row;
        row.shape = shape;
        row.method = method;
        row.path = options.paths[p];
        row.repetitions = options.repetitions;
        row.step_ms = median(times[1 + p]);
        row.autograd_ms = autograd_ms;
        row.mm_ms = mm_ms;
        row.gemm_flops = mm.flops();
        row.weight_difference = weight_difference(*steps[p], *autograd);
        if (progress) progress(row);
        rows.push_back(row);
      }
    }
  }
  return rows;
}

}  // namespace bench
}  // namespace eiprop
