#include "eiprop/nn/convert.h"

#include "kernels/activation.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

namespace eiprop {
namespace {

constexpr const char* kConvert = "eiprop::convert";

// The eiprop activation name of a LibTorch activation module; empty for Identity; throws for
// anything unsupported.
c10::optional<std::string> activation_of(const std::string& name,
                                         const std::shared_ptr<torch::nn::Module>& module) {
  const auto where = c10::str("layer '", name, "' (", module->name(), ")");
  if (module->as<torch::nn::Tanh>()) return std::string("tanh");
  if (module->as<torch::nn::Sigmoid>()) return std::string("sigmoid");
  if (module->as<torch::nn::ReLU>()) return std::string("relu");
  if (const auto* leaky = module->as<torch::nn::LeakyReLU>()) {
    TORCH_CHECK(leaky->options.negative_slope() == kernels::kLeakyReluSlope, kConvert, ": ",
                where, " has negative_slope ", leaky->options.negative_slope(),
                "; eiprop's leaky_relu has slope ", kernels::kLeakyReluSlope);
    return std::string("leaky_relu");
  }
  if (const auto* softplus = module->as<torch::nn::Softplus>()) {
    TORCH_CHECK(softplus->options.beta() == kernels::kSoftplusBeta &&
                    softplus->options.threshold() == kernels::kSoftplusThreshold,
                kConvert, ": ", where, " has beta ", softplus->options.beta(), " and threshold ",
                softplus->options.threshold(), "; eiprop's softplus has beta ",
                kernels::kSoftplusBeta, ", threshold ", kernels::kSoftplusThreshold);
    return std::string("softplus");
  }
  if (const auto* elu = module->as<torch::nn::ELU>()) {
    TORCH_CHECK(elu->options.alpha() == kernels::kEluAlpha, kConvert, ": ", where, " has alpha ",
                elu->options.alpha(), "; eiprop's elu has alpha ", kernels::kEluAlpha);
    return std::string("elu");
  }
  if (module->as<torch::nn::Identity>()) return std::string();
  TORCH_CHECK(false, kConvert, ": ", where,
              " is not supported; eiprop converts Linear, Tanh, Sigmoid, ReLU, LeakyReLU(0.01), "
              "Softplus(1, 20), ELU(1) and Identity");
}

}  // namespace

BalancedMLP convert(const torch::nn::Sequential& sequential,
                    const RelaxationOptions& relaxation) {
  std::vector<torch::nn::Linear> linears;
  std::vector<std::string> activations;
  bool activation_open = false;  // the last Linear still has no activation
  for (const auto& child : sequential->named_children()) {
    if (const auto* linear = child.value()->as<torch::nn::Linear>()) {
      if (!linears.empty()) {
        TORCH_CHECK(linear->options.in_features() == linears.back()->options.out_features(),
                    kConvert, ": layer '", child.key(), "' (Linear) takes ",
                    linear->options.in_features(), " inputs but the previous Linear gives ",
                    linears.back()->options.out_features());
      }
      if (activation_open) activations.back() = "identity";
      linears.emplace_back(std::dynamic_pointer_cast<torch::nn::LinearImpl>(child.value()));
      activations.push_back("identity");
      activation_open = true;
      continue;
    }
    const auto activation = activation_of(child.key(), child.value());
    if (activation->empty()) continue;  // Identity
    TORCH_CHECK(activation_open, kConvert, ": layer '", child.key(), "' (", child.value()->name(),
                ") follows no Linear layer; eiprop needs Linear -> activation pairs");
    activations.back() = *activation;
    activation_open = false;
  }
  TORCH_CHECK(!linears.empty(), kConvert, ": the Sequential holds no Linear layer");

  std::vector<int64_t> widths{linears.front()->options.in_features()};
  bool bias = true;
  for (const auto& linear : linears) {
    widths.push_back(linear->options.out_features());
    bias = bias && linear->options.bias();
  }
  BalancedMLP module(
      BalancedMLPOptions(widths).activations(activations).bias(bias).relaxation(relaxation));
  for (size_t l = 0; l < linears.size(); ++l) module->share_layer(l, linears[l]);
  return module;
}

}  // namespace eiprop
