#include "eiprop/nn/balanced_mlp.h"

#include "eiprop/nn/reference.h"
#include "eiprop/ops/layered.h"
#include "api/ops/strict.h"
#include "kernels/activation.h"
#include "util/enum_table.h"

#include <c10/util/irange.h>

namespace eiprop {
namespace {
constexpr const char* kModule = "eiprop::BalancedMLP";

constexpr util::EnumTable<Learning, 2> kLearnings{
    {{"credit", Learning::credit}, {"autograd", Learning::autograd}}};
}  // namespace

const char* learning_name(Learning learning) { return util::enum_name(kLearnings, learning); }

Learning parse_learning(const std::string& name) {
  const auto parsed = util::parse_enum(kLearnings, name);
  TORCH_CHECK(parsed.has_value(), "eiprop::parse_learning: learning is '", name,
              "', which is not a learning mode; expected one of ", util::enum_choices(kLearnings));
  return *parsed;
}

std::vector<std::string> BalancedMLPOptions::layer_activations() const {
  if (!activations_.empty()) return activations_;
  const size_t layers = widths_.size() < 2 ? 0 : widths_.size() - 1;
  std::vector<std::string> result(layers, activation_);
  if (!result.empty()) result.back() = output_activation_;
  return result;
}

BalancedMLPImpl::BalancedMLPImpl(BalancedMLPOptions options_) : options(std::move(options_)) {
  reset();
}

void BalancedMLPImpl::reset() {
  const auto& widths = options.widths();
  TORCH_CHECK(widths.size() >= 2, kModule,
              ": options.widths needs the input width and at least one layer, got ",
              widths.size(), " entries");
  for (size_t p = 0; p < widths.size(); ++p) {
    TORCH_CHECK(widths[p] > 0, kModule, ": options.widths[", p, "] must be positive, got ",
                widths[p]);
  }
  const auto activations = options.layer_activations();
  TORCH_CHECK(activations.size() + 1 == widths.size(), kModule, ": options.activations has ",
              activations.size(), " entries but the widths give ", widths.size() - 1,
              " layers");
  for (size_t l = 0; l < activations.size(); ++l) {
    TORCH_CHECK(kernels::parse_activation(activations[l]).has_value(), kModule,
                ": the activation of layer ", l, " is '", activations[l],
                "', which is not an activation; expected one of ", kernels::activation_choices());
  }
  api::require_strict(kModule, options.relaxation());
  // reset() runs at construction, on clones (whose children were cleared) and on demand.
  const auto registered = named_children();
  for (size_t l = 0; l < linear_.size(); ++l) {
    const auto name = "layer" + std::to_string(l);
    if (registered.contains(name)) unregister_module(name);
  }
  linear_.clear();
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    linear_.push_back(register_module(
        "layer" + std::to_string(l),
        torch::nn::Linear(torch::nn::LinearOptions(widths[l], widths[l + 1]).bias(options.bias()))));
  }
}

void BalancedMLPImpl::share_layer(int64_t l, torch::nn::Linear linear) {
  TORCH_CHECK(l >= 0 && l < layers(), kModule, ": share_layer: layer ", l, " does not exist");
  TORCH_CHECK(linear->weight.sizes() == linear_[l]->weight.sizes(), kModule,
              ": share_layer: layer ", l, " has weight shape ", linear_[l]->weight.sizes(),
              " but the shared Linear has ", linear->weight.sizes());
  linear_[l] = replace_module("layer" + std::to_string(l), std::move(linear));
}

std::vector<torch::Tensor> BalancedMLPImpl::weights() const {
  std::vector<torch::Tensor> result;
  for (const auto& linear : linear_) result.push_back(linear->weight);
  return result;
}

std::vector<c10::optional<torch::Tensor>> BalancedMLPImpl::biases() const {
  std::vector<c10::optional<torch::Tensor>> result;
  for (const auto& linear : linear_) {
    result.push_back(linear->bias.defined() ? c10::optional<torch::Tensor>(linear->bias)
                                            : c10::nullopt);
  }
  return result;
}

torch::Tensor BalancedMLPImpl::forward(const torch::Tensor& input) {
  if (options.learning() == Learning::credit) {
    return eiprop::circuit(input, weights(), biases(), activations(), options.relaxation());
  }
  return autograd_forward(input, weights(), biases(), activations());
}

void BalancedMLPImpl::reset_parameters() {
  for (auto& linear : linear_) linear->reset_parameters();
}

void BalancedMLPImpl::pretty_print(std::ostream& stream) const {
  stream << "eiprop::BalancedMLP(widths=[";
  const auto& widths = options.widths();
  for (size_t p = 0; p < widths.size(); ++p) stream << (p ? ", " : "") << widths[p];
  stream << "], activations=[";
  const auto activations = options.layer_activations();
  for (size_t l = 0; l < activations.size(); ++l) stream << (l ? ", " : "") << activations[l];
  stream << "], learning=" << learning_name(options.learning())
         << ", method=" << options.relaxation().method() << ")";
}

}  // namespace eiprop
