#include "eiprop/nn/recurrent_circuit.h"

#include "eiprop/nn/reference.h"
#include "kernels/activation.h"
#include "api/ops/strict.h"
#include "ops/graph.h"
#include "ops/validate.h"

#include <torch/nn/init.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>

namespace eiprop {
namespace {
constexpr const char* kModule = "eiprop::RecurrentCircuit";
}

RecurrentCircuitImpl::RecurrentCircuitImpl(RecurrentCircuitOptions options_)
    : options(std::move(options_)) {
  reset();
}

void RecurrentCircuitImpl::reset() {
  const auto& widths = options.widths();
  const auto& graph = options.graph();
  const int64_t populations = graph.populations();
  TORCH_CHECK(populations > 0, kModule,
              ": options.graph.activations is empty; a circuit needs at least one population "
              "besides the input");
  TORCH_CHECK(static_cast<int64_t>(widths.size()) == populations + 1, kModule,
              ": options.widths has ", widths.size(), " entries but the graph has ", populations,
              " populations; give N_0 (input) .. N_P");
  for (size_t p = 0; p < widths.size(); ++p) {
    TORCH_CHECK(widths[p] > 0, kModule, ": options.widths[", p, "] must be positive, got ",
                widths[p]);
  }
  for (int64_t p = 1; p <= populations; ++p) {
    TORCH_CHECK(kernels::parse_activation(graph.activations[p - 1]).has_value(), kModule,
                ": the activation of population ", p, " is '", graph.activations[p - 1],
                "', which is not an activation; expected one of ", kernels::activation_choices());
  }
  ops::check_graph_structure(kModule, populations, graph.pre, graph.post);
  ops::check_output_population(kModule, graph.output, populations);
  const auto& relaxation = options.relaxation();
  api::require_strict(kModule, relaxation);
  ops::parse_solver_options(kModule, relaxation.method(), relaxation.max_iters(), relaxation.tol(),
                            relaxation.dt(), at::kFloat);

  torch::NoGradGuard no_grad;
  weights_.clear();
  for (int64_t k = 0; k < graph.projections(); ++k) {
    const int64_t pre = graph.pre[k], post = graph.post[k];
    weights_.push_back(
        register_parameter("weight_" + std::to_string(pre) + "_" + std::to_string(post),
                           torch::empty({widths[post], widths[pre]})));
  }
  biases_.clear();
  if (options.bias()) {
    for (int64_t p = 1; p <= populations; ++p) {
      biases_.push_back(register_parameter("bias_" + std::to_string(p), torch::empty({widths[p]})));
    }
  }
  reset_parameters();
}

void RecurrentCircuitImpl::reset_parameters() {
  const auto& graph = options.graph();
  const auto& widths = options.widths();
  std::vector<int64_t> fan_in(graph.populations() + 1, 0);
  for (int64_t k = 0; k < graph.projections(); ++k) fan_in[graph.post[k]] += widths[graph.pre[k]];
  const auto bound = [&](int64_t p) { return 1.0 / std::sqrt(static_cast<double>(fan_in[p])); };
  for (int64_t k = 0; k < graph.projections(); ++k) {
    const auto b = bound(graph.post[k]);
    torch::nn::init::uniform_(weights_[k], -b, b);
  }
  for (size_t p = 1; p <= biases_.size(); ++p) {
    const auto b = bound(static_cast<int64_t>(p));
    torch::nn::init::uniform_(biases_[p - 1], -b, b);
  }
}

std::vector<c10::optional<torch::Tensor>> RecurrentCircuitImpl::biases() const {
  std::vector<c10::optional<torch::Tensor>> result;
  for (const auto& bias : biases_) result.emplace_back(bias);
  if (result.empty()) result.resize(options.graph().populations());
  return result;
}

torch::Tensor RecurrentCircuitImpl::forward(const torch::Tensor& input) {
  const auto& graph = options.graph();
  if (options.learning() == Learning::credit) {
    return graph_circuit(input, weights_, biases(), graph, options.relaxation());
  }
  return autograd_equilibrium(input, weights_, biases(), graph, options.relaxation())
      .rates[graph.output - 1];
}

void RecurrentCircuitImpl::pretty_print(std::ostream& stream) const {
  const auto& graph = options.graph();
  const auto& widths = options.widths();
  stream << "eiprop::RecurrentCircuit(widths=[";
  for (size_t p = 0; p < widths.size(); ++p) stream << (p ? ", " : "") << widths[p];
  stream << "], projections=[";
  for (int64_t k = 0; k < graph.projections(); ++k) {
    stream << (k ? ", " : "") << graph.pre[k] << "->" << graph.post[k];
  }
  stream << "], activations=[";
  for (int64_t p = 0; p < graph.populations(); ++p) {
    stream << (p ? ", " : "") << graph.activations[p];
  }
  stream << "], output=" << graph.output << ", learning=" << learning_name(options.learning())
         << ", method=" << options.relaxation().method() << ")";
}

}  // namespace eiprop
