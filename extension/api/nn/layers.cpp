#include "api/nn/layers.h"

#include "kernels/activation.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

namespace eiprop {
namespace api {

c10::optional<std::string> activation_of(const std::shared_ptr<torch::nn::Module>& module,
                                         std::string& mismatch) {
  if (module->as<torch::nn::Tanh>()) return std::string("tanh");
  if (module->as<torch::nn::Sigmoid>()) return std::string("sigmoid");
  if (module->as<torch::nn::ReLU>()) return std::string("relu");
  if (module->as<torch::nn::Identity>()) return std::string("identity");
  if (const auto* leaky = module->as<torch::nn::LeakyReLU>()) {
    if (leaky->options.negative_slope() == kernels::kLeakyReluSlope) return std::string("leaky_relu");
    mismatch = c10::str(" has negative_slope ", leaky->options.negative_slope(),
                        "; eiprop's leaky_relu has slope ", kernels::kLeakyReluSlope);
    return c10::nullopt;
  }
  if (const auto* softplus = module->as<torch::nn::Softplus>()) {
    if (softplus->options.beta() == kernels::kSoftplusBeta &&
        softplus->options.threshold() == kernels::kSoftplusThreshold) {
      return std::string("softplus");
    }
    mismatch = c10::str(" has beta ", softplus->options.beta(), " and threshold ",
                        softplus->options.threshold(), "; eiprop's softplus has beta ",
                        kernels::kSoftplusBeta, ", threshold ", kernels::kSoftplusThreshold);
    return c10::nullopt;
  }
  if (const auto* elu = module->as<torch::nn::ELU>()) {
    if (elu->options.alpha() == kernels::kEluAlpha) return std::string("elu");
    mismatch = c10::str(" has alpha ", elu->options.alpha(), "; eiprop's elu has alpha ",
                        kernels::kEluAlpha);
    return c10::nullopt;
  }
  mismatch = " is not supported; eiprop converts Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, "
             "Tanh, Sigmoid, ReLU, LeakyReLU(0.01), Softplus(1, 20), ELU(1) and Identity";
  return c10::nullopt;
}

}  // namespace api
}  // namespace eiprop
