#include "ops/circuit_call.h"

#include "ops/layered.h"
#include "ops/timescales.h"
#include "ops/validate.h"

#include <algorithm>

namespace eiprop {
namespace ops {

CircuitCall parse_circuit(const char* op, const at::Tensor& input, at::TensorList weights,
                          const OptionalTensorList& biases,
                          const std::vector<std::string>& activations, c10::string_view method,
                          int64_t max_iters, double tol, double dt,
                          const std::vector<std::string>& projections) {
  auto graph = parse_layered(op, input, weights, biases, activations, projections);
  auto options = parse_graph_solver_options(op, graph, Relaxed::rates, method, max_iters, tol, dt,
                                            input.scalar_type());
  const auto layers = static_cast<int64_t>(weights.size());
  return {op, std::move(graph), options, layers};
}

CircuitCall parse_graph_circuit(const char* op, const at::Tensor& input, at::TensorList weights,
                                const OptionalTensorList& biases, at::IntArrayRef pre,
                                at::IntArrayRef post, const std::vector<std::string>& activations,
                                int64_t output, c10::string_view method, int64_t max_iters,
                                double tol, double dt,
                                const std::vector<std::string>& projections) {
  check_circuit_input(op, "input", input, projections);
  auto graph = parse_graph(op, sample_shape(input), input, weights, biases, pre, post, activations,
                           projections);
  check_output_population(op, output, graph.circuit.populations());
  auto options = parse_graph_solver_options(op, graph, Relaxed::rates, method, max_iters, tol, dt,
                                            input.scalar_type());
  return {op, std::move(graph), options, output};
}

CircuitStates circuit_states(const CircuitCall& call, const at::Tensor& input) {
  auto solved = equilibrium(call.op, call.graph.circuit, input, call.options);
  return {populations_of(std::move(solved.rates)), populations_of(std::move(solved.drives))};
}

CircuitGradients circuit_gradients(const char* op, const char* backward_op,
                                   const at::Tensor& grad_output, const at::Tensor& input,
                                   at::TensorList weights, at::TensorList rates,
                                   at::TensorList drives, at::IntArrayRef pre, at::IntArrayRef post,
                                   const std::vector<std::string>& activations, int64_t output,
                                   c10::string_view method, int64_t max_iters, double tol,
                                   double dt, const c10::List<bool>& output_mask,
                                   const std::vector<std::string>& projections) {
  // The saved states must be this graph's: the same checks as the graph operators'.
  check_circuit_input(backward_op, "input", input, projections);
  const auto graph = parse_graph(backward_op, sample_shape(input), input, weights,
                                 OptionalTensorList(), pre, post, activations, projections);
  const int64_t populations = graph.circuit.populations();
  const int64_t projection_count = static_cast<int64_t>(weights.size());
  check_output_population(backward_op, output, populations);
  const int64_t batch = input.size(0);
  check_population_tensors(backward_op, "rates", rates, graph.shapes, batch, input);
  check_population_tensors(backward_op, "drives", drives, graph.shapes, batch, input);
  check_rates(backward_op, "grad_output", grad_output, input);
  check_shape(backward_op, "grad_output", grad_output, graph.circuit.batch_shape(output, batch),
              c10::str("[batch, shape of the output population ", output, "]"));
  TORCH_CHECK(static_cast<int64_t>(output_mask.size()) == 1 + projection_count + populations,
              backward_op, ": output_mask has ", output_mask.size(), " entries but needs ",
              1 + projection_count + populations,
              ": one for the input, one per projection, one per population");
  auto options = parse_graph_solver_options(backward_op, graph, Relaxed::credits, method,
                                            max_iters, tol, dt, input.scalar_type());
  // The drives are the forward's equilibrium, whose stability the forward judged.
  options.probe_stability = false;
  // Saved states from the forward are finite (it refuses what is not); states passed by hand may
  // not be, and a NaN drive can hide from the credits (relu's gate reads NaN as active). An
  // exact schedule reads them together with the credits after the solve (one synchronisation
  // per backward); an iterative solve, which reads its residual every iteration, first.
  const auto check_states = [&] {
    FiniteCheck(backward_op)
        .add("drives", drives, "population", kNonFiniteInput, 1)
        .add("rates", rates, "population", kNonFiniteInput, 1)
        .run();
  };
  const bool exact_schedule = graph.circuit.acyclic() && options.method != solvers::Method::euler;
  if (!exact_schedule) check_states();
  options.scan_nonfinite = !exact_schedule;

  std::vector<at::Tensor> all_rates{input}, all_drives{at::Tensor()};
  all_rates.insert(all_rates.end(), rates.begin(), rates.end());
  all_drives.insert(all_drives.end(), drives.begin(), drives.end());

  // Credit is linear in the output imbalance e = -B dLoss/dr_o, and the gradients are minus
  // the plasticity per unit rate: relaxing the credit of e = grad_output (dLoss/dr_o, without
  // the minus sign) gives the gradients directly, with no negation pass over any tensor.
  // IEEE negation is exact, so the results are bitwise those of relaxing -grad_output.
  const bool input_wanted = output_mask.get(0);
  auto credits = credit(op, "the credits (backward)", graph.circuit, all_drives, all_rates,
                        output, grad_output, options, /*strict=*/true, input_wanted);
  if (exact_schedule) {
    std::vector<at::Tensor> states(drives.begin(), drives.end());
    states.insert(states.end(), rates.begin(), rates.end());
    check_finite_step(op, "the credits (backward)", options, std::move(states), credits,
                      check_states);
  }
  std::vector<bool> weight_wanted(projection_count), bias_wanted(populations);
  for (int64_t k = 0; k < projection_count; ++k) weight_wanted[k] = output_mask.get(1 + k);
  for (int64_t p = 0; p < populations; ++p) {
    bias_wanted[p] = output_mask.get(1 + projection_count + p);
  }
  auto gradients = plasticity_updates(graph.circuit.projections(), credits.balance_credits,
                                      all_rates, /*scale=*/1.0, weight_wanted, bias_wanted);
  // A fixed projection's gradient is as empty as its placeholder weight, and like it.
  for (int64_t k = 0; k < projection_count; ++k) {
    if (weight_wanted[k] && !graph.circuit.projection(k).plastic()) {
      gradients.weight_updates[k] = at::zeros_like(weights[k]);
    }
  }
  // Only the gradients asked for (a Tensor[] holds no undefined entries).
  const auto asked_for = [](std::vector<at::Tensor> all) {
    all.erase(std::remove_if(all.begin(), all.end(),
                             [](const at::Tensor& tensor) { return !tensor.defined(); }),
              all.end());
    return all;
  };
  return {input_wanted ? credits.credits[0] : at::Tensor(),
          asked_for(std::move(gradients.weight_updates)),
          asked_for(std::move(gradients.bias_updates))};
}

}  // namespace ops
}  // namespace eiprop
