// The rule against autograd on layered circuits, interleaved in one process: every repetition
// runs one step of each path and torch::mm on the step's matrix products, in rotating order, so
// that load on the machine affects all of them alike. Medians over the repetitions.
#pragma once

#include "support/layered_shape.h"
#include "support/timing.h"
#include "support/training_steps.h"

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
  Clock clock = Clock::wall;
  int repetitions = 15;
  int warmup = 2;
  double lr = 1e-3;
  uint64_t seed = 0;
};

// The targets: the step time of sweep at most 1.0x autograd's, of jacobi at most 1.15x.
double target_ratio(const std::string& method);

struct ComparisonRow {
  LayeredShape shape;
  std::string method;
  StepPath path;
  int repetitions = 0;
  double step_ms = 0;      // median step time of the path
  double autograd_ms = 0;  // median autograd step time, same repetitions
  double mm_ms = 0;        // median time of torch::mm on the step's products, same repetitions
  double gemm_flops = 0;   // the step's matrix-product FLOPs
  double weight_difference = 0;  // relative, path vs autograd, after all steps

  double ratio() const { return step_ms / autograd_ms; }
  bool meets_target() const { return ratio() <= target_ratio(method); }
  double step_gflops() const { return gemm_flops / step_ms * 1e-6; }
  double autograd_gflops() const { return gemm_flops / autograd_ms * 1e-6; }
  double mm_gflops() const { return gemm_flops / mm_ms * 1e-6; }
};

// Rows ordered by shape, method, path. `progress` (may be null) is called after each row.
std::vector<ComparisonRow> compare_layered(const ComparisonOptions& options,
                                           void (*progress)(const ComparisonRow&) = nullptr);

}  // namespace bench
}  // namespace eiprop
