// RecurrentCircuit: a circuit graph (recurrent or not, docs/theory.md §1) as a torch::nn::Module.
// Its forward is the output population's rates at the E-I equilibrium; with Learning::credit its
// backward is credit relaxation (the exact implicit gradient at the equilibrium), with
// Learning::autograd LibTorch backpropagates through the unrolled firing iterations.
#pragma once

#include "eiprop/nn/options/recurrent_circuit.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace eiprop {

class RecurrentCircuitImpl : public torch::nn::Cloneable<RecurrentCircuitImpl> {
 public:
  explicit RecurrentCircuitImpl(RecurrentCircuitOptions options);

  // Registers the parameters: weight_<pre>_<post> per projection, [N_post, N_pre], and bias_<p>
  // per population; then reset_parameters().
  void reset() override;
  // Draws every parameter uniformly in +-1/sqrt(fan-in of the postsynaptic population), the
  // bound torch::nn::Linear uses for its single input, with torch::nn::init.
  void reset_parameters();
  void pretty_print(std::ostream& stream) const override;

  // The output population's equilibrium rates, [B, N_output].
  torch::Tensor forward(const torch::Tensor& input);

  void set_learning(Learning learning) { options.learning(learning); }
  Learning learning() const { return options.learning(); }
  const Graph& graph() const { return options.graph(); }

  std::vector<torch::Tensor> weights() const { return weights_; }  // per projection
  std::vector<c10::optional<torch::Tensor>> biases() const;        // per population 1..P

  RecurrentCircuitOptions options;

 private:
  std::vector<torch::Tensor> weights_;
  std::vector<torch::Tensor> biases_;
};

TORCH_MODULE(RecurrentCircuit);

}  // namespace eiprop
