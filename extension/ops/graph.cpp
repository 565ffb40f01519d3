#include "ops/graph.h"

#include <map>
#include <utility>

#include "ops/projections.h"
#include "ops/validate.h"

namespace eiprop {
namespace ops {
namespace {

// (Concatenated, not streamed: every call names its projections.)
std::string projection(int64_t k, int64_t pre, int64_t post) {
  const auto index = std::to_string(k);
  return "weights[" + index + "] (projection " + index + ": population " + std::to_string(pre) +
         " -> " + std::to_string(post) + ")";
}

// Shapes of the populations as the arguments fix them; the first argument that fixes a shape is
// remembered so a disagreement names both.
class Shapes {
 public:
  Shapes(const char* op, int64_t populations)
      : op_(op), shape_(populations + 1), source_(populations + 1) {}

  bool known(int64_t p) const { return !source_[p].empty(); }
  const std::vector<int64_t>& shape(int64_t p) const { return shape_[p]; }

  void fix(int64_t p, std::vector<int64_t> shape, const std::string& source) {
    if (!known(p)) {
      shape_[p] = std::move(shape);
      source_[p] = source;
      return;
    }
    if (shape_[p] == shape) return;
    if (shape.size() == 1 && shape_[p].size() == 1) {
      TORCH_CHECK(false, op_, ": ", source, " gives ", population(p), " ", shape[0],
                  " neurons but ", source_[p], " gives it ", shape_[p][0]);
    }
    TORCH_CHECK(false, op_, ": ", source, " gives ", population(p), " the shape ",
                shape_text(shape), " but ", source_[p], " gives it ", shape_text(shape_[p]),
                shape.size() != shape_[p].size()
                    ? " (between a [C, H, W] population and a dense one goes a flatten)"
                    : "");
  }

  std::vector<std::vector<int64_t>> shapes() const { return shape_; }

 private:
  const char* op_;
  std::vector<std::vector<int64_t>> shape_;
  std::vector<std::string> source_;
};

}  // namespace

std::string population(int64_t p) {
  return p == 0 ? std::string("the input population 0") : c10::str("population ", p);
}

void check_graph_structure(const char* op, int64_t populations, at::IntArrayRef pre,
                           at::IntArrayRef post) {
  TORCH_CHECK(!pre.empty(), op, ": pre is empty; a circuit needs at least one projection");
  TORCH_CHECK(post.size() == pre.size(), op, ": post has ", post.size(), " entries but pre has ",
              pre.size(), "; give one per projection");
  std::map<std::pair<int64_t, int64_t>, size_t> seen;
  std::vector<bool> receives(populations + 1, false);
  bool input_sends = false;
  for (size_t k = 0; k < pre.size(); ++k) {
    TORCH_CHECK(pre[k] >= 0 && pre[k] <= populations, op, ": pre[", k, "] (projection ", k,
                ") is ", pre[k], " but the populations are 0..", populations,
                " (0 is the input; P = the number of activations)");
    TORCH_CHECK(post[k] >= 1 && post[k] <= populations, op, ": post[", k, "] (projection ", k,
                ") is ", post[k], " but a projection must end in a population 1..", populations,
                " (the input population 0 is clamped)");
    const auto duplicate = seen.emplace(std::make_pair(pre[k], post[k]), k);
    TORCH_CHECK(duplicate.second, op, ": projections ", duplicate.first->second, " and ", k,
                " both run from population ", pre[k], " to ", post[k],
                "; merge them into one weight (projections into a population add)");
    receives[post[k]] = true;
    input_sends = input_sends || pre[k] == 0;
  }
  TORCH_CHECK(input_sends, op, ": no projection leaves the input population 0 (pre has no 0); "
              "the circuit would ignore its input");
  for (int64_t p = 1; p <= populations; ++p) {
    TORCH_CHECK(receives[p], op, ": ", population(p), " receives no projection (post has no ", p,
                "); every population 1..", populations, " needs at least one incoming projection");
  }
}

ProjectionName graph_projection_names(at::IntArrayRef pre, at::IntArrayRef post) {
  return [pre = pre.vec(), post = post.vec()](size_t k) {
    return projection(static_cast<int64_t>(k), pre[k], post[k]);
  };
}

GraphCircuit parse_graph(const char* op, const std::vector<int64_t>& input_shape,
                         const at::Tensor& reference, at::TensorList weights,
                         const OptionalTensorList& biases, at::IntArrayRef pre,
                         at::IntArrayRef post, const std::vector<std::string>& activations,
                         const std::vector<std::string>& projections, const GivenShapes& given,
                         const ProjectionName& name) {
  const auto populations = static_cast<int64_t>(activations.size());
  TORCH_CHECK(populations > 0, op,
              ": activations is empty; a circuit needs at least one population besides the "
              "input (activations[p-1] belongs to population p)");
  TORCH_CHECK(!weights.empty(), op, ": weights is empty; a circuit needs at least one projection");
  TORCH_CHECK(pre.size() == weights.size(), op, ": pre has ", pre.size(),
              " entries but weights has ", weights.size(), "; give one per projection");
  TORCH_CHECK(biases.empty() || static_cast<int64_t>(biases.size()) == populations, op,
              ": biases has ", biases.size(), " entries but activations has ", populations,
              "; give one per population 1..P (None for no bias)");
  auto parsed_activations = parse_activations(op, activations);

  check_graph_structure(op, populations, pre, post);
  const ProjectionName name_of = name ? name : graph_projection_names(pre, post);
  const auto specs = parse_projections(op, projections, weights.size(), "weights", name_of);
  // Each projection's name, made once (the checks below name them again and again).
  std::vector<std::string> what;
  what.reserve(weights.size());
  for (size_t k = 0; k < weights.size(); ++k) what.push_back(name_of(k));
  Shapes shapes(op, populations);
  if (!input_shape.empty()) shapes.fix(0, input_shape, "input");
  std::vector<kernels::Projection> circuit_projections;
  for (size_t k = 0; k < weights.size(); ++k) {
    check_projection_weight(op, what[k], specs[k], weights[k], reference);
    if (specs[k].kind == kernels::ProjectionKind::dense) {
      shapes.fix(post[k], {weights[k].size(0)}, what[k] + " (its rows)");
      shapes.fix(pre[k], {weights[k].size(1)}, what[k] + " (its columns)");
    }
    circuit_projections.push_back(
        kernels::Projection{pre[k], post[k], weights[k], specs[k].kind, specs[k].geometry});
  }
  // The spatial projections carry their presynaptic shape on; the caller's tensors fix what the
  // weights leave open (drives, when the input is not given), and the biases what remains. A
  // projection carries once: its presynaptic shape, once fixed, stays.
  std::vector<bool> carried(weights.size(), false);
  const auto carry_on = [&] {
    for (int64_t pass = 0; pass <= populations; ++pass) {
      for (size_t k = 0; k < weights.size(); ++k) {
        if (specs[k].kind == kernels::ProjectionKind::dense || carried[k] ||
            !shapes.known(pre[k])) {
          continue;
        }
        shapes.fix(post[k],
                   postsynaptic_shape(op, what[k], specs[k], weights[k], shapes.shape(pre[k])),
                   what[k]);
        carried[k] = true;
      }
    }
  };
  carry_on();
  for (const auto& [p, shape] : given) {
    if (!shapes.known(p)) shapes.fix(p, shape.first, shape.second);
  }
  carry_on();

  std::vector<c10::optional<at::Tensor>> population_biases(populations);
  for (int64_t p = 1; p <= static_cast<int64_t>(biases.size()); ++p) {
    c10::optional<at::Tensor> bias = biases.get(p - 1);
    if (bias.has_value() && !bias->defined()) bias = c10::nullopt;
    if (bias.has_value()) {
      const auto bias_name =
          "biases[" + std::to_string(p - 1) + "] (population " + std::to_string(p) + ")";
      check_vector(op, bias_name, *bias, reference);
      if (shapes.known(p) && shapes.shape(p).size() == 3) {
        TORCH_CHECK(bias->size(0) == shapes.shape(p)[0], op, ": ", bias_name, " has ",
                    bias->size(0), " entries but ", population(p), " has the shape ",
                    shape_text(shapes.shape(p)),
                    "; a [C, H, W] population takes one bias per "
                    "channel");
      } else {
        shapes.fix(p, {bias->size(0)}, bias_name);
      }
    }
    population_biases[p - 1] = std::move(bias);
  }
  carry_on();
  for (int64_t p = 1; p <= populations; ++p) {
    TORCH_CHECK(shapes.known(p), op, ": nothing fixes the shape of ", population(p),
                "; its incoming projections are spatial and their presynaptic shapes are open");
  }
  // A convolution whose presynaptic shape stayed open (a credit relaxation's input) still fixes
  // its postsynaptic channels.
  for (size_t k = 0; k < weights.size(); ++k) {
    if (specs[k].kind != kernels::ProjectionKind::conv2d || shapes.known(pre[k])) continue;
    const auto& shape = shapes.shape(post[k]);
    TORCH_CHECK(shape.size() == 3 && shape[0] == weights[k].size(0), op, ": ", what[k],
                " has shape ", weights[k].sizes(), " (", weights[k].size(0),
                " output channels) but ", population(post[k]), " has the shape ",
                shape_text(shape));
  }
  auto population_shapes = shapes.shapes();
  return {
      kernels::Circuit(populations, std::move(circuit_projections), std::move(population_biases),
                       std::move(parsed_activations), population_shapes),
      population_shapes};
}

solvers::SolverOptions parse_graph_solver_options(const char* op, const GraphCircuit& graph,
                                                  Relaxed relaxed, c10::string_view method,
                                                  int64_t max_iters, double tol, double dt,
                                                  c10::ScalarType dtype) {
  const auto options = parse_solver_options(op, method, max_iters, tol, dt, dtype);
  TORCH_CHECK(options.method != solvers::Method::sweep || graph.circuit.acyclic(), op,
              ": method 'sweep' needs an acyclic circuit, but this one has a cycle (a recurrent "
              "or self-projection); use 'jacobi', 'euler' or 'anderson'");
  const auto& waves = relaxed == Relaxed::rates ? graph.circuit.firing_waves()
                                                : graph.circuit.credit_waves();
  check_wavefront_fits(op, relaxed == Relaxed::rates ? "the firing rates" : "the credits",
                       options, graph.circuit.acyclic(), static_cast<int64_t>(waves.size()));
  return options;
}

void check_input_credit_shape(const char* op, const GraphCircuit& graph, bool input_credit) {
  TORCH_CHECK(!input_credit || !graph.shapes[0].empty(), op,
              ": input_credit=True needs the input population's shape, but "
              "only spatial "
              "projections leave it, and the drives do not fix the input they "
              "came from; pass "
              "input_credit=False, or use circuit / graph_circuit, whose "
              "backward has the input");
}

void check_output_population(const char* op, int64_t output, int64_t populations) {
  TORCH_CHECK(output >= 1 && output <= populations, op, ": output is ", output,
              " but the output population must be one of 1..", populations,
              " (the population whose imbalance drives credit)");
}

void check_population_tensors(const char* op, const char* list, at::TensorList tensors,
                              const std::vector<std::vector<int64_t>>& shapes, int64_t batch,
                              const at::Tensor& reference) {
  const auto populations = static_cast<int64_t>(shapes.size()) - 1;
  TORCH_CHECK(static_cast<int64_t>(tensors.size()) == populations, op, ": ", list, " has ",
              tensors.size(), " entries but the circuit has ", populations,
              " populations; give one per population 1..P");
  for (int64_t p = 1; p <= populations; ++p) {
    const auto number = std::to_string(p);
    const auto what = list + ("[" + std::to_string(p - 1) + "] (population " + number + ")");
    std::vector<int64_t> expected{batch};
    expected.insert(expected.end(), shapes[p].begin(), shapes[p].end());
    if (shapes[p].size() == 1) {
      check_matrix(op, what, tensors[p - 1], reference);
      check_shape(op, what, tensors[p - 1], expected, "[batch, width of population " + number + "]");
    } else {
      check_rates(op, what, tensors[p - 1], reference);
      check_shape(op, what, tensors[p - 1], expected, "[batch, shape of population " + number + "]");
    }
  }
}

std::vector<int64_t> sample_shape(const at::Tensor& rates) { return rates.sizes().slice(1).vec(); }

}  // namespace ops
}  // namespace eiprop
