// eiprop::graph_plasticity — the Hebbian updates of every projection and population bias of a
// circuit graph (docs/theory.md §4): dW_k = lr/B delta_{post[k]}^T r_{pre[k]}, db_p = lr/B sum
// delta_p.
#include "kernels/synapses.h"
#include "ops/graph.h"
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

  const double scale = lr / static_cast<double>(batch);
  check_update_scale(kOp, scale, input.scalar_type());
  std::vector<at::Tensor> balance_credits;
  std::vector<at::Tensor> bias_updates;
  for (int64_t p = 1; p <= populations; ++p) {
    balance_credits.push_back(kernels::balance_credit(population_activations[p - 1],
                                                      drives[p - 1], rates[p - 1],
                                                      credits[p - 1]));
    bias_updates.push_back(kernels::bias_plasticity(balance_credits.back(), scale));
  }
  std::vector<at::Tensor> weight_updates;
  for (size_t k = 0; k < pre.size(); ++k) {
    const at::Tensor& presynaptic_rate = pre[k] == 0 ? input : rates[pre[k] - 1];
    weight_updates.push_back(
        kernels::weight_plasticity(balance_credits[post[k] - 1], presynaptic_rate, scale));
  }
  // Every input, also the entries the rule does not read, then the updates.
  const auto overflow = overflowing_updates(lr, input.scalar_type());
  FiniteCheck(kOp)
      .add("input", input, kNonFiniteInput)
      .add("rates", rates, "population", kNonFiniteInput, /*entry_offset=*/1)
      .add("drives", drives, "population", kNonFiniteInput, /*entry_offset=*/1)
      .add("credits", credits, "population", kNonFiniteInput, /*entry_offset=*/1)
      .add("weight_updates", weight_updates, "projection", overflow)
      .add("bias_updates", bias_updates, "population", overflow, /*entry_offset=*/1)
      .run();
  return {std::move(weight_updates), std::move(bias_updates)};
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
