#include "eiprop/nn/sequential_circuit.h"

#include "eiprop/ops/layered.h"
#include "eiprop/ops/projections.h"
#include "api/nn/layers.h"
#include "api/ops/strict.h"

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

namespace eiprop {
namespace {
constexpr const char* kModule = "eiprop::SequentialCircuit";

// A projection's learnable synapses: Linear and Conv2d hold a weight and perhaps a bias.
const torch::nn::LinearImpl* linear_of(const std::shared_ptr<torch::nn::Module>& layer) {
  return layer->as<torch::nn::Linear>();
}
const torch::nn::Conv2dImpl* conv_of(const std::shared_ptr<torch::nn::Module>& layer) {
  return layer->as<torch::nn::Conv2d>();
}

}  // namespace

SequentialCircuitImpl::SequentialCircuitImpl(torch::nn::Sequential layers,
                                             RelaxationOptions relaxation, Learning learning)
    : layers_(std::move(layers)), relaxation_(std::move(relaxation)), learning_(learning) {
  api::require_strict(kModule, relaxation_);
  const auto named = layers_->named_children();
  at::Tensor first_weight;     // of the first Linear or Conv2d
  bool open_projection = false;  // the last projection still has no activation
  for (size_t i = 0; i < named.size(); ++i) {
    const auto& layer = named[i].value();
    const auto where = c10::str(kModule, ": layer '", named[i].key(), "' (", layer->name(), ")");
    std::string mismatch;
    if (const auto kind = projection::of_module(*layer, mismatch)) {
      projections_.push_back(*kind);
      activations_.push_back("identity");
      projection_layers_.push_back(i);
      open_projection = true;
      if (!first_weight.defined() && linear_of(layer)) first_weight = linear_of(layer)->weight;
      if (!first_weight.defined() && conv_of(layer)) first_weight = conv_of(layer)->weight;
      continue;
    }
    TORCH_CHECK(mismatch.empty(), where, mismatch);
    const auto activation = api::activation_of(layer, mismatch);
    TORCH_CHECK(activation.has_value(), where, mismatch);
    if (*activation == "identity") continue;
    TORCH_CHECK(!projections_.empty(), where,
                " comes before any projection layer; the input population is clamped");
    TORCH_CHECK(open_projection, where,
                " does not directly follow a projection layer; each projection takes at most "
                "one activation");
    activations_.back() = *activation;
    open_projection = false;
  }
  TORCH_CHECK(first_weight.defined(), kModule,
              ": the layers hold no Linear or Conv2d; a circuit needs synapses to learn");
  register_module("layers", layers_);
  // On the layers' device, in their dtype; it moves with the module.
  placeholder_ = register_buffer("placeholder", torch::empty({0}, first_weight.options()));
}

std::vector<torch::Tensor> SequentialCircuitImpl::weights() const {
  std::vector<torch::Tensor> weights;
  for (const auto i : projection_layers_) {
    const auto layer = layers_->ptr(i);
    if (const auto* linear = linear_of(layer)) {
      weights.push_back(linear->weight);
    } else if (const auto* conv = conv_of(layer)) {
      weights.push_back(conv->weight);
    } else {
      weights.push_back(placeholder_);
    }
  }
  return weights;
}

std::vector<c10::optional<torch::Tensor>> SequentialCircuitImpl::biases() const {
  std::vector<c10::optional<torch::Tensor>> biases;
  for (const auto i : projection_layers_) {
    const auto layer = layers_->ptr(i);
    torch::Tensor bias;
    if (const auto* linear = linear_of(layer)) bias = linear->bias;
    if (const auto* conv = conv_of(layer)) bias = conv->bias;
    biases.push_back(bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt);
  }
  return biases;
}

torch::Tensor SequentialCircuitImpl::forward(const torch::Tensor& input) {
  if (learning_ == Learning::autograd) return layers_->forward(input);
  return circuit(input, weights(), biases(), activations_, relaxation_, projections_);
}

void SequentialCircuitImpl::pretty_print(std::ostream& stream) const {
  stream << "eiprop::SequentialCircuit(projections=" << projections_.size()
         << ", learning=" << learning_name(learning_) << ", method=" << relaxation_.method()
         << ")";
}

}  // namespace eiprop
