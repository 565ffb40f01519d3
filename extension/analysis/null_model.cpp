#include "eiprop/analysis/null_model.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>

#include <cmath>

namespace eiprop {
namespace analysis {

CircuitConnectivity shuffle_within_projections(const CircuitConnectivity& circuit,
                                               at::Generator generator) {
  check_connectivity("eiprop::analysis::shuffle_within_projections", circuit);
  CircuitConnectivity shuffled = circuit;
  for (size_t k = 0; k < circuit.weights.size(); ++k) {
    const auto weight = circuit.weights[k].detach().to(at::kCPU).contiguous();
    const auto order = at::randperm(weight.numel(), generator, at::kLong);
    shuffled.weights[k] = weight.view(-1).index_select(0, order).view(weight.sizes());
  }
  return shuffled;
}

NullModularity null_modularity(const CircuitConnectivity& circuit, CommunityMethod method,
                               int64_t samples, uint64_t seed, double resolution) {
  TORCH_CHECK(samples >= 1, "eiprop::analysis::null_modularity: samples must be >= 1, got ",
              samples);
  NullModularity null;
  for (int64_t s = 0; s < samples; ++s) {
    const uint64_t sample_seed = seed + static_cast<uint64_t>(s);
    const auto shuffled =
        shuffle_within_projections(circuit, at::make_generator<at::CPUGeneratorImpl>(sample_seed));
    null.samples.push_back(
        detect_communities(weighted_graph(shuffled), method, sample_seed, resolution).modularity);
  }
  double sum = 0.0;
  for (const double q : null.samples) sum += q;
  null.mean = sum / static_cast<double>(samples);
  double squares = 0.0;
  for (const double q : null.samples) squares += (q - null.mean) * (q - null.mean);
  null.sd = samples > 1 ? std::sqrt(squares / static_cast<double>(samples - 1)) : 0.0;
  return null;
}

}  // namespace analysis
}  // namespace eiprop
