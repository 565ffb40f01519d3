#include "reference.h"

namespace eiprop {
namespace testing {

const std::vector<std::string> kActivations = {"identity", "tanh",     "sigmoid", "relu",
                                               "leaky_relu", "softplus", "elu"};
const std::vector<std::string> kMethods = {"sweep", "jacobi", "euler"};

LayeredCircuit make_circuit(const std::vector<int64_t>& widths, int64_t batch,
                            const std::vector<std::string>& activations, bool with_bias,
                            at::ScalarType dtype, uint64_t seed, at::Device device) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto options = at::TensorOptions().dtype(at::kDouble);
  auto normal = [&](at::IntArrayRef shape, double std) {
    return at::normal(0.0, std, shape, generator, options).to(device, dtype);
  };
  LayeredCircuit circuit;
  circuit.input = normal({batch, widths.front()}, 1.0);
  circuit.target = normal({batch, widths.back()}, 1.0);
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    circuit.weights.push_back(
        normal({widths[l + 1], widths[l]}, 1.0 / std::sqrt(static_cast<double>(widths[l]))));
    circuit.biases.push_back(with_bias ? c10::optional<at::Tensor>(normal({widths[l + 1]}, 0.1))
                                       : c10::nullopt);
  }
  circuit.activations = activations;
  return circuit;
}

AutogradGradients autograd_gradients(const LayeredCircuit& circuit) {
  return eiprop::autograd_gradients(circuit.input, circuit.weights, circuit.biases,
                                    circuit.activations, circuit.target);
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

void expect_error(const std::function<void()>& call, const std::vector<std::string>& fragments) {
  try {
    call();
  } catch (const c10::Error& error) {
    const std::string message = error.what_without_backtrace();
    for (const auto& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message lacks '" << fragment << "': " << message;
    }
    return;
  }
  ADD_FAILURE() << "expected a c10::Error";
}

}  // namespace testing
}  // namespace eiprop
