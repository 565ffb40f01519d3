#include "ops/circuit_call.h"

#include "kernels/projection.h"
#include "ops/layered.h"
#include "ops/timescales.h"
#include "ops/validate.h"
#include "solvers/residual.h"

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

namespace {

// Whether projection k is a max_pool2d projection (the only kind with window winners).
bool pooled(const kernels::Circuit& circuit, int64_t k) {
  return circuit.projection(k).kind == kernels::ProjectionKind::max_pool2d;
}

// The backward's `winners`, checked against the circuit: one per projection, an empty tensor for
// every kind but max_pool2d, whose entry is int64 on the input's device, shaped like the
// postsynaptic rates, each value a flat index into the presynaptic plane (read in one
// synchronisation, before any credit is sent through them; not when `forward_own`, the forward's
// own winners, found by ATen's max_pool2d_with_indices). Indexed by projection; empty when not
// given.
std::vector<at::Tensor> checked_winners(const char* op, const OptionalTensors& given,
                                        const kernels::Circuit& circuit, int64_t batch,
                                        const at::Tensor& input, bool forward_own) {
  if (!given.has_value()) return {};
  const auto& winners = *given;
  const auto projections = static_cast<int64_t>(circuit.projections().size());
  TORCH_CHECK(static_cast<int64_t>(winners.size()) == projections, op, ": winners has ",
              winners.size(), " entries but the circuit has ", projections,
              " projections; give one per projection (the forward's winners)");
  std::vector<at::Tensor> extremes;
  std::vector<int64_t> planes;
  for (int64_t k = 0; k < projections; ++k) {
    const auto what = [&] {
      return c10::str("winners[", k, "] (projection ", k, ", ",
                      kernels::projection_kind_name(circuit.projection(k).kind), ")");
    };
    const auto& entry = winners[k];
    TORCH_CHECK(entry.defined(), op, ": ", what(), " is undefined");
    if (!pooled(circuit, k)) {
      TORCH_CHECK(entry.numel() == 0, op, ": ", what(), " has shape ", entry.sizes(),
                  "; only a max_pool2d projection has window winners, give an empty tensor");
      continue;
    }
    TORCH_CHECK(entry.scalar_type() == at::kLong, op, ": ", what(), " has dtype ",
                entry.scalar_type(), "; window winners are int64 indices");
    TORCH_CHECK(entry.device() == input.device(), op, ": ", what(), " is on ", entry.device(),
                " but input is on ", input.device());
    const auto& projection = circuit.projection(k);
    const auto expected = circuit.batch_shape(projection.post, batch);
    TORCH_CHECK(entry.sizes() == at::IntArrayRef(expected), op, ": ", what(), " has shape ",
                entry.sizes(), "; expected ", at::IntArrayRef(expected),
                " ([batch, shape of its postsynaptic population ", projection.post, "])");
    if (entry.numel() == 0 || forward_own) continue;
    const auto& pre_shape = circuit.shape(projection.pre);
    planes.push_back(pre_shape[1] * pre_shape[2]);
    const auto low_high = at::aminmax(entry);
    extremes.push_back(std::get<0>(low_high));
    extremes.push_back(std::get<1>(low_high));
  }
  if (!extremes.empty()) {
    const auto fetched = at::stack(extremes).cpu();
    const int64_t* value = fetched.data_ptr<int64_t>();
    size_t i = 0;
    for (int64_t k = 0; k < projections; ++k) {
      if (!pooled(circuit, k) || winners[k].numel() == 0) continue;
      const int64_t plane = planes[i / 2];
      TORCH_CHECK(value[i] >= 0 && value[i + 1] < plane, op, ": winners[", k, "] (projection ",
                  k, ", max_pool2d) holds indices from ", value[i], " to ", value[i + 1],
                  "; a window winner is a flat index into its presynaptic channel's ", plane,
                  " positions, 0..", plane - 1);
      i += 2;
    }
  }
  std::vector<at::Tensor> by_projection(winners.begin(), winners.end());
  for (int64_t k = 0; k < projections; ++k) {
    if (!pooled(circuit, k)) by_projection[k] = at::Tensor();
  }
  return by_projection;
}

}  // namespace

solvers::FiringEquilibrium forward_equilibrium(const CircuitCall& call, const at::Tensor& input) {
  const auto& circuit = call.graph.circuit;
  const bool exact_schedule =
      circuit.acyclic() && call.options.method != solvers::Method::euler;
  if (!exact_schedule) return equilibrium(call.op, circuit, input, call.options);
  auto options = call.options;
  options.scan_nonfinite = false;
  auto solved = solvers::relax_rates(circuit, input, options);
  if (!solvers::all_finite({input, solved.rates[call.output]})) {
    // Which population, in the order the signals flow (the input first).
    solved.stats.nonfinite_population = solvers::first_nonfinite_population(solved.rates, 0);
  }
  check_solved(call.op, "the firing rates", options, solved.stats, /*strict=*/true);
  return solved;
}

CircuitStates circuit_states(const CircuitCall& call, const at::Tensor& input) {
  const auto& circuit = call.graph.circuit;
  auto solved = forward_equilibrium(call, input);
  // The winners at the final rates: kept by an exact schedule's one pass, found here after an
  // iterative solve; an empty tensor for every other kind.
  auto& winners = solved.winners;
  winners.resize(circuit.projections().size());
  for (size_t k = 0; k < winners.size(); ++k) {
    const auto& projection = circuit.projection(static_cast<int64_t>(k));
    if (!pooled(circuit, static_cast<int64_t>(k))) {
      winners[k] = at::empty({0}, input.options().dtype(at::kLong));
    } else if (!winners[k].defined()) {
      winners[k] = kernels::window_winners(projection, solved.rates[projection.pre]);
    }
  }
  return {populations_of(std::move(solved.rates)), populations_of(std::move(solved.drives)),
          std::move(winners)};
}

CircuitGradients circuit_gradients(const char* op, const char* backward_op,
                                   const at::Tensor& grad_output, const at::Tensor& input,
                                   at::TensorList weights, at::TensorList rates,
                                   at::TensorList drives, at::IntArrayRef pre, at::IntArrayRef post,
                                   const std::vector<std::string>& activations, int64_t output,
                                   c10::string_view method, int64_t max_iters, double tol,
                                   double dt, const c10::List<bool>& output_mask,
                                   const std::vector<std::string>& projections,
                                   const OptionalTensors& given_winners, bool states_checked) {
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
              "[batch, shape of the output population " + std::to_string(output) + "]");
  TORCH_CHECK(static_cast<int64_t>(output_mask.size()) == 1 + projection_count + populations,
              backward_op, ": output_mask has ", output_mask.size(), " entries but needs ",
              1 + projection_count + populations,
              ": one for the input, one per projection, one per population");
  const auto winners =
      checked_winners(backward_op, given_winners, graph.circuit, batch, input, states_checked);
  auto options = parse_graph_solver_options(backward_op, graph, Relaxed::credits, method,
                                            max_iters, tol, dt, input.scalar_type());
  // The drives are the forward's equilibrium, whose stability the forward judged.
  options.probe_stability = false;
  // States passed by hand may hold NaN or Inf, and a NaN drive can hide from the credits (relu's
  // gate reads NaN as active): an iterative solve, which reads its residual every iteration,
  // reads them first; an exact schedule reads them with its results, below. The forward's own
  // states (states_checked) are not read again: the forward read its input and output, and a
  // non-finite hidden rate that did not reach the output (an Inf behind a saturating activation)
  // reaches a gradient read below.
  const auto check_states = [&] {
    FiniteCheck(backward_op)
        .add("drives", drives, "population", kNonFiniteInput, 1)
        .add("rates", rates, "population", kNonFiniteInput, 1)
        .run();
  };
  const bool exact_schedule = graph.circuit.acyclic() && options.method != solvers::Method::euler;
  if (!exact_schedule && !states_checked) check_states();
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
                        output, grad_output, options, /*strict=*/true, input_wanted, winners);
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
  if (exact_schedule) {
    // What the backward returns, read in one synchronisation (ResultScan): the input credit and
    // each gradient whole, or a dense weight's by its bound B max|delta| max|r| where that reads
    // less. A non-finite credit reaches one of them or nothing returned (a credit an activation's
    // gate drops, as autograd drops it).
    ResultScan scan(credits.balance_credits, all_rates);
    if (!states_checked) {
      for (int64_t p = 1; p <= populations; ++p) {
        scan.whole(all_drives[p]);
        scan.rates(p);
      }
    }
    if (input_wanted) scan.whole(credits.credits[0]);
    for (int64_t k = 0; k < projection_count; ++k) {
      const auto& gradient = gradients.weight_updates[k];
      if (!gradient.defined()) continue;
      const auto& projection = graph.circuit.projection(k);
      const bool bounded =
          projection.kind == kernels::ProjectionKind::dense &&
          credits.balance_credits[projection.post].numel() + all_rates[projection.pre].numel() <
              gradient.numel();
      if (bounded) {
        scan.dense_product(projection.post, projection.pre, static_cast<double>(batch));
      } else {
        scan.whole(gradient);
      }
    }
    for (const auto& gradient : gradients.bias_updates) {
      if (gradient.defined()) scan.whole(gradient);
    }
    if (!scan.finite()) {
      // Which one, in the order the signals flow: a state (passed by hand, or the forward's
      // Inf behind a saturating activation), then the balance credits back from the output;
      // when all are finite, a gradient overflowed the dtype (or only the bound did: the
      // gradients are then read whole).
      if (!states_checked) check_states();
      const auto hidden = solvers::first_nonfinite_population(all_rates, 0);
      TORCH_CHECK(hidden < 0, op, ": the firing rates of population ", hidden,
                  " hold NaN or Inf (the output hid them behind a saturating activation), so the "
                  "gradients would too; check the weights and biases for overflow");
      auto& found = credits.stats.nonfinite_population;
      found = solvers::first_nonfinite_population(credits.balance_credits, 1, /*from_output=*/true);
      check_solved(op, "the credits (backward)", options, credits.stats, /*strict=*/true);
      std::vector<at::Tensor> returned(gradients.weight_updates);
      returned.insert(returned.end(), gradients.bias_updates.begin(),
                      gradients.bias_updates.end());
      if (input_wanted) returned.push_back(credits.credits[0]);
      TORCH_CHECK(solvers::first_nonfinite_population(returned, 0) < 0, op,
                  ": the gradients would hold NaN or Inf although every state and credit is "
                  "finite: they overflow ", input.scalar_type());
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
