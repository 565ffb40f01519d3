// eiprop::graph_plasticity — the Hebbian updates of every projection and population bias of a
// circuit graph (docs/theory.md §4): dW_k = lr/B delta_{post[k]}^T r_{pre[k]}, db_p = lr/B sum
// delta_p.
#include "ops/graph.h"
#include "ops/timescales.h"
#include "ops/validate.h"

#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {
constexpr const char* kOp = "eiprop::graph_plasticity";
}

std::tuple<std::vector<at::Tensor>, std::vector<at::Tensor>> graph_plasticity(
    const at::Tensor& input, at::TensorList rates, at::TensorList drives, at::TensorList credits,
    at::IntArrayRef pre, at::IntArrayRef post, std::vector<std::string> activations, double lr) {
  check_matrix(kOp, "input", input, at::Tensor());
  const auto populations = static_cast<int64_t>(activations.size());
  TORCH_CHECK(populations > 0, kOp,
              ": activations is empty; a circuit needs at least one population besides the "
              "input (activations[p-1] belongs to population p)");
  const auto population_activations = parse_activations(kOp, activations);
  check_graph_structure(kOp, populations, pre, post);
  check_finite(kOp, "lr", lr);
  const int64_t batch = input.size(0);
  TORCH_CHECK(batch > 0, kOp, ": input has an empty batch; updates are batch averages");
  TORCH_CHECK(static_cast<int64_t>(rates.size()) == populations, kOp, ": rates has ",
              rates.size(), " entries but activations has ", populations,
              "; give one per population 1..P");
  std::vector<int64_t> widths{input.size(1)};
  for (int64_t p = 1; p <= populations; ++p) {
    const auto what = c10::str("rates[", p - 1, "] (population ", p, ")");
    check_matrix(kOp, what, rates[p - 1], input);
    widths.push_back(rates[p - 1].size(1));
  }
  check_population_tensors(kOp, "rates", rates, widths, batch, input);
  check_population_tensors(kOp, "drives", drives, widths, batch, input);
  check_population_tensors(kOp, "credits", credits, widths, batch, input);

  auto updates = checked_plasticity(kOp, kGraphNaming, input, rates, drives, credits, pre, post,
                                    population_activations, lr);
  return {std::move(updates.weight_updates), std::move(updates.bias_updates)};
}

}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def(
      "graph_plasticity(Tensor input, Tensor[] rates, Tensor[] drives, Tensor[] credits, "
      "int[] pre, int[] post, str[] activations, float lr) "
      "-> (Tensor[] weight_updates, Tensor[] bias_updates)");
}

TORCH_LIBRARY_IMPL(eiprop, CompositeExplicitAutograd, m) {
  m.impl("graph_plasticity", TORCH_FN(eiprop::ops::graph_plasticity));
}
