// eiprop::graph_plasticity — the Hebbian updates of every projection and population bias of a
// circuit graph (docs/theory.md §4): dW_k = lr/B delta_{post[k]}^T r_{pre[k]}, db_p = lr/B sum
// delta_p.
#include <torch/library.h>

#include "ops/graph.h"
#include "ops/projections.h"
#include "ops/timescales.h"
#include "ops/validate.h"

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_plasticity";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>> graph_plasticity(
    const at::Tensor& input, at::TensorList rates, at::TensorList drives, at::TensorList credits,
    at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations, double lr,
    const OptionalStrings& projection_list) {
  const auto projections = projection_list.value_or(std::vector<std::string>{});
  check_circuit_input(kOp, "input", input, projections);
  const auto populations = static_cast<int64_t>(activations.size());
  TORCH_CHECK(populations > 0, kOp,
              ": activations is empty; a circuit needs at least one population besides the "
              "input (activations[p-1] belongs to population p)");
  const auto population_activations = parse_activations(kOp, activations);
  check_graph_structure(kOp, populations, pre, post);
  check_finite(kOp, "lr", lr);
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, kOp, ": input has an empty batch; updates are batch averages");
  TORCH_CHECK(static_cast<int64_t>(rates.size()) == populations, kOp, ": rates has ", rates.size(),
              " entries but activations has ", populations, "; give one per population 1..P");
  std::vector<std::vector<int64_t>> shapes{sample_shape(input)};
  for (int64_t p = 1; p <= populations; ++p) {
    const auto what = c10::str("rates[", p - 1, "] (population ", p, ")");
    check_circuit_input(kOp, what.c_str(), rates[p - 1], projections);
    shapes.push_back(sample_shape(rates[p - 1]));
  }
  check_population_tensors(kOp, "rates", rates, shapes, batch, input);
  check_population_tensors(kOp, "drives", drives, shapes, batch, input);
  check_population_tensors(kOp, "credits", credits, shapes, batch, input);
  const auto names = [&](size_t k) {
    return c10::str("projection ", k, ": population ", pre[k], " -> ", post[k]);
  };
  const auto circuit_projections = projections_between(
      kOp, parse_projections(kOp, projections, pre.size(), "pre", names), pre, post, shapes,
      names, input);

  auto updates = checked_plasticity(kOp, kGraphNaming, input, rates, drives, credits,
                                    circuit_projections, population_activations, lr);
  return {std::move(updates.weight_updates), std::move(updates.bias_updates)};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_plasticity(Tensor input, Tensor[] rates, Tensor[] drives, Tensor[] credits, "
      "int[] pre, int[] post, str[] activations, float lr, str[]? projections=None) "
      "-> (Tensor[] weight_updates, Tensor[] bias_updates)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_plasticity", TORCH_FN(eiprop::ops::graph_plasticity));
}
