#include "kernels/activation.h"

#include "util/enum_table.h"

namespace eiprop {
namespace kernels {
namespace {

constexpr util::EnumTable<Activation, 7> kActivations{{{"identity", Activation::identity},
                                                       {"tanh", Activation::tanh},
                                                       {"sigmoid", Activation::sigmoid},
                                                       {"relu", Activation::relu},
                                                       {"leaky_relu", Activation::leaky_relu},
                                                       {"softplus", Activation::softplus},
                                                       {"elu", Activation::elu}}};

}  // namespace

c10::optional<Activation> parse_activation(const std::string& name) {
  return util::parse_enum(kActivations, name);
}

const char* activation_name(Activation activation) {
  return util::enum_name(kActivations, activation);
}

std::string activation_choices() { return util::enum_choices(kActivations); }

at::Tensor rate(Activation activation, const at::Tensor& drive) {
  switch (activation) {
    case Activation::identity: return drive.clone();
    case Activation::tanh: return at::tanh(drive);
    case Activation::sigmoid: return at::sigmoid(drive);
    case Activation::relu: return at::relu(drive);
    case Activation::leaky_relu: return at::leaky_relu(drive, kLeakyReluSlope);
    case Activation::softplus: return at::softplus(drive, kSoftplusBeta, kSoftplusThreshold);
    case Activation::elu: return at::elu(drive, kEluAlpha, 1.0, 1.0);
  }
  TORCH_INTERNAL_ASSERT(false, "eiprop: unhandled activation");
}

at::Tensor balance_credit(Activation activation, const at::Tensor& drive, const at::Tensor& rate,
                          const at::Tensor& credit) {
  switch (activation) {
    case Activation::identity: return credit;
    case Activation::tanh:
      return at::tanh_backward(credit, rate.defined() ? rate : at::tanh(drive));
    case Activation::sigmoid:
      return at::sigmoid_backward(credit, rate.defined() ? rate : at::sigmoid(drive));
    case Activation::relu: return at::threshold_backward(credit, drive, 0);
    case Activation::leaky_relu:
      return at::leaky_relu_backward(credit, drive, kLeakyReluSlope, /*self_is_result=*/false);
    case Activation::softplus:
      return at::softplus_backward(credit, drive, kSoftplusBeta, kSoftplusThreshold);
    case Activation::elu:
      return at::elu_backward(credit, kEluAlpha, 1.0, 1.0, /*is_result=*/false, drive);
  }
  TORCH_INTERNAL_ASSERT(false, "eiprop: unhandled activation");
}

}  // namespace kernels
}  // namespace eiprop
