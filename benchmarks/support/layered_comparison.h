// The rule against autograd on layered circuits, interleaved in one process (see interleaved.h):
// per shape, autograd's step and torch::mm on the step's matrix products; per shape, method and
// path, the path's step. Each is a Google Benchmark, one step per repetition; the table holds,
// per shape, method and path, the ratio of the medians to autograd's.
#pragma once

#include "support/interleaved.h"
#include "support/layered_shape.h"
#include "support/training_steps.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <memory>
#include <string>
#include <vector>

namespace eiprop {
namespace bench {

struct ComparisonOptions {
  std::vector<LayeredShape> shapes = standard_shapes();
  std::vector<std::string> methods{"sweep", "jacobi"};
  std::vector<StepPath> paths{StepPath::rule, StepPath::module};  // compared with autograd
  torch::Dtype dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  bool cpu_clock = false;  // the table's ratios from process CPU time instead of real time
  int repetitions = 15;
  int warmup = 2;
  double lr = 1e-3;
  uint64_t seed = 0;
};

// The targets: the step time of sweep at most 1.0x autograd's, of jacobi at most 1.15x.
double target_ratio(const std::string& method);

class LayeredComparison {
 public:
  explicit LayeredComparison(ComparisonOptions options);
  ~LayeredComparison();
  // Benchmarks named step/<shape>/autograd, mm/<shape> and step/<shape>/<method>/<path>, where
  // <shape> is e.g. 784-256-10/B=64.
  void register_benchmarks();
  // Per shape, method and path: the aggregate <path's benchmark>_ratio_to_autograd (step time
  // over autograd's; counters: target, weight_difference, GEMM throughputs) and the table.
  Derived derive(const Medians& medians) const;

 private:
  struct Shape;
  Shape& shape(size_t index);

  ComparisonOptions options_;
  std::vector<std::unique_ptr<Shape>> shapes_;  // made when one of its contestants first runs
};

}  // namespace bench
}  // namespace eiprop
