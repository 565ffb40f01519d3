#include "ops/layered.h"

#include "ops/validate.h"

#include <numeric>

namespace eiprop {
namespace ops {
namespace {

// N_0..N_L of a chain whose weights passed check_layered_weights.
std::vector<std::vector<int64_t>> chain_widths(at::TensorList weights) {
  std::vector<std::vector<int64_t>> shapes{{weights[0].size(1)}};
  for (const auto& weight : weights) shapes.push_back({weight.size(0)});
  return shapes;
}

// A chain's projection l is its layer l.
ProjectionName layer_names() {
  return [](size_t l) { return argument("weights", static_cast<int64_t>(l)); };
}

}  // namespace

std::vector<int64_t> chain_pre(int64_t layers) {
  std::vector<int64_t> pre(layers);
  std::iota(pre.begin(), pre.end(), 0);
  return pre;
}

std::vector<int64_t> chain_post(int64_t layers) {
  std::vector<int64_t> post(layers);
  std::iota(post.begin(), post.end(), 1);
  return post;
}

GraphCircuit parse_layered(const char* op, const at::Tensor& input, at::TensorList weights,
                           const OptionalTensorList& biases,
                           const std::vector<std::string>& activations,
                           const std::vector<std::string>& projections) {
  if (!projections.empty()) {
    check_rates(op, "input", input, at::Tensor());
    TORCH_CHECK(!weights.empty(), op,
                ": weights is empty; a layered circuit needs at least one layer");
    check_count(op, "biases", biases.size(), weights.size(), "weights");
    check_count(op, "activations", activations.size(), weights.size(), "weights");
    const auto layers = static_cast<int64_t>(weights.size());
    return parse_graph(op, sample_shape(input), input, weights, biases, chain_pre(layers),
                       chain_post(layers), activations, projections, {}, layer_names());
  }
  check_matrix(op, "input", input, at::Tensor());
  check_layered_weights(op, weights, input.size(1), input);
  check_count(op, "biases", biases.size(), weights.size(), "weights");
  check_count(op, "activations", activations.size(), weights.size(), "weights");
  std::vector<c10::optional<at::Tensor>> layer_biases;
  layer_biases.reserve(biases.size());
  for (size_t l = 0; l < biases.size(); ++l) {
    c10::optional<at::Tensor> bias = biases.get(l);
    if (bias.has_value() && !bias->defined()) bias = c10::nullopt;
    if (bias.has_value()) {
      const auto what = argument("biases", l);
      check_vector(op, what, *bias, input);
      check_shape(op, what, *bias, {weights[l].size(0)},
                  c10::str("the width of weights[", l, "]'s postsynaptic population"));
    }
    layer_biases.push_back(std::move(bias));
  }
  auto layer_activations = parse_activations(op, activations);
  return {kernels::Circuit::layered(weights.vec(), std::move(layer_biases),
                                    std::move(layer_activations)),
          chain_widths(weights)};
}

GraphCircuit parse_layered_credit(const char* op, const at::Tensor& output_error,
                                  at::TensorList drives, at::TensorList weights,
                                  const std::vector<std::string>& activations,
                                  const std::vector<std::string>& projections) {
  if (!projections.empty()) {
    check_rates(op, "output_error", output_error, at::Tensor());
    TORCH_CHECK(!weights.empty(), op,
                ": weights is empty; a layered circuit needs at least one layer");
    check_count(op, "drives", drives.size(), weights.size(), "weights");
    check_count(op, "activations", activations.size(), weights.size(), "weights");
    GivenShapes given;
    for (size_t l = 0; l < drives.size(); ++l) {
      check_rates(op, argument("drives", l), drives[l], output_error);
      given[static_cast<int64_t>(l) + 1] = {sample_shape(drives[l]), argument("drives", l)};
    }
    const auto layers = static_cast<int64_t>(weights.size());
    auto graph = parse_graph(op, {}, output_error, weights, OptionalTensorList(), chain_pre(layers),
                             chain_post(layers), activations, projections, given, layer_names());
    const int64_t batch = output_error.size(0);
    check_population_tensors(op, "drives", drives, graph.shapes, batch, output_error);
    std::vector<int64_t> expected{batch};
    expected.insert(expected.end(), graph.shapes[layers].begin(), graph.shapes[layers].end());
    check_shape(op, "output_error", output_error, expected, "[batch, shape of the output layer]");
    return graph;
  }
  check_matrix(op, "output_error", output_error, at::Tensor());
  TORCH_CHECK(!weights.empty(), op,
              ": weights is empty; a layered circuit needs at least one layer");
  check_matrix(op, argument("weights", 0), weights[0], output_error);
  check_layered_weights(op, weights, weights[0].size(1), output_error);
  check_count(op, "drives", drives.size(), weights.size(), "weights");
  check_count(op, "activations", activations.size(), weights.size(), "weights");
  const int64_t batch = output_error.size(0);
  for (size_t l = 0; l < drives.size(); ++l) {
    const auto what = argument("drives", l);
    check_matrix(op, what, drives[l], output_error);
    check_shape(op, what, drives[l], {batch, weights[l].size(0)},
                c10::str("[batch of output_error, rows of weights[", l, "]]"));
  }
  const auto layers = static_cast<int64_t>(weights.size());
  check_shape(op, "output_error", output_error, {batch, weights[layers - 1].size(0)},
              "[batch, width of the output layer]");
  auto layer_activations = parse_activations(op, activations);
  return {kernels::Circuit::layered(weights.vec(),
                                    std::vector<c10::optional<at::Tensor>>(layers),
                                    std::move(layer_activations)),
          chain_widths(weights)};
}

}  // namespace ops
}  // namespace eiprop
