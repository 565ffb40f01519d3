#include "ops/graph.h"

#include "ops/validate.h"

#include <map>
#include <utility>

namespace eiprop {
namespace ops {
namespace {

std::string projection(int64_t k, int64_t pre, int64_t post) {
  return c10::str("weights[", k, "] (projection ", k, ": population ", pre, " -> ", post, ")");
}

// Widths of the populations as the arguments fix them; the first argument that fixes a width is
// remembered so a disagreement names both.
class Widths {
 public:
  Widths(const char* op, int64_t populations) : op_(op), width_(populations + 1, -1),
                                                source_(populations + 1) {}

  void fix(int64_t p, int64_t width, const std::string& source) {
    if (width_[p] < 0) {
      width_[p] = width;
      source_[p] = source;
      return;
    }
    TORCH_CHECK(width_[p] == width, op_, ": ", source, " gives ", population(p), " ", width,
                " neurons but ", source_[p], " gives it ", width_[p]);
  }

  std::vector<int64_t> widths() const { return width_; }

 private:
  const char* op_;
  std::vector<int64_t> width_;
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

GraphCircuit parse_graph(const char* op, int64_t input_width, const at::Tensor& reference,
                         at::TensorList weights, const OptionalTensorList& biases,
                         at::IntArrayRef pre, at::IntArrayRef post,
                         const std::vector<std::string>& activations) {
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
  Widths widths(op, populations);
  if (input_width >= 0) widths.fix(0, input_width, "input");
  std::vector<kernels::Projection> projections;
  for (size_t k = 0; k < weights.size(); ++k) {
    const auto what = projection(k, pre[k], post[k]);
    check_matrix(op, what, weights[k], reference);
    widths.fix(post[k], weights[k].size(0), c10::str(what, " (its rows)"));
    widths.fix(pre[k], weights[k].size(1), c10::str(what, " (its columns)"));
    projections.push_back(kernels::Projection{pre[k], post[k], weights[k]});
  }

  std::vector<c10::optional<at::Tensor>> population_biases(populations);
  for (int64_t p = 1; p <= static_cast<int64_t>(biases.size()); ++p) {
    c10::optional<at::Tensor> bias = biases.get(p - 1);
    if (bias.has_value() && !bias->defined()) bias = c10::nullopt;
    if (bias.has_value()) {
      const auto what = c10::str("biases[", p - 1, "] (population ", p, ")");
      check_vector(op, what, *bias, reference);
      widths.fix(p, bias->size(0), what);
    }
    population_biases[p - 1] = std::move(bias);
  }
  return {kernels::Circuit(populations, std::move(projections), std::move(population_biases),
                           std::move(parsed_activations)),
          widths.widths()};
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

void check_output_population(const char* op, int64_t output, int64_t populations) {
  TORCH_CHECK(output >= 1 && output <= populations, op, ": output is ", output,
              " but the output population must be one of 1..", populations,
              " (the population whose imbalance drives credit)");
}

void check_population_tensors(const char* op, const char* list, at::TensorList tensors,
                              const std::vector<int64_t>& widths, int64_t batch,
                              const at::Tensor& reference) {
  const auto populations = static_cast<int64_t>(widths.size()) - 1;
  TORCH_CHECK(static_cast<int64_t>(tensors.size()) == populations, op, ": ", list, " has ",
              tensors.size(), " entries but the circuit has ", populations,
              " populations; give one per population 1..P");
  for (int64_t p = 1; p <= populations; ++p) {
    const auto what = c10::str(list, "[", p - 1, "] (population ", p, ")");
    check_matrix(op, what, tensors[p - 1], reference);
    check_shape(op, what, tensors[p - 1], {batch, widths[p]},
                c10::str("[batch, width of population ", p, "]"));
  }
}

}  // namespace ops
}  // namespace eiprop
