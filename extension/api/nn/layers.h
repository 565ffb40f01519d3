// How the converters and SequentialCircuit read LibTorch layers: which supported activation an
// activation module is.
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>

namespace eiprop {
namespace api {

// The eiprop activation name of a LibTorch activation module ("identity" for Identity), or
// nullopt with the reason in `mismatch` when the rule does not take it.
c10::optional<std::string> activation_of(const std::shared_ptr<torch::nn::Module>& module,
                                         std::string& mismatch);

}  // namespace api
}  // namespace eiprop
