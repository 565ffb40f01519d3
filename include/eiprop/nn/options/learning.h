// How a module (BalancedMLP, RecurrentCircuit) computes its gradients: the rule or autograd.
#pragma once

#include <string>

namespace eiprop {

// How a module's backward computes its gradients.
enum class Learning {
  credit,    // eiprop::circuit: E-I equilibrium forward, credit relaxation backward
  autograd,  // LibTorch autograd through the same network
};
const char* learning_name(Learning learning);
// "credit" or "autograd"; anything else raises, listing both.
Learning parse_learning(const std::string& name);

}  // namespace eiprop
