// The Autograd-key kernel of the operators autograd cannot differentiate: the equilibrium, credit
// relaxation, plasticity and E/I-current ops compute the rule's quantities, not a function with
// a registered derivative. With grad mode on, a tensor argument that requires grad is refused
// naming the op and the argument and pointing to eiprop::circuit / eiprop::graph_circuit, whose
// backward is credit relaxation; otherwise the call goes on below autograd unchanged. The
// learning steps write into their weights and biases in place: their version counters are bumped
// as an in-place ATen op's are, so autograd still catches a stale tensor saved for backward.
#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {

void bump_versions(const c10::IValue& value) {
  // (An inference tensor has no version counter.)
  if (value.isTensor() && value.toTensor().defined() && !value.toTensor().is_inference()) {
    value.toTensor().unsafeGetTensorImpl()->bump_version();
  }
  if (value.isList()) {
    for (const auto& element : value.toListRef()) bump_versions(element);
  }
}

bool requires_grad(const c10::IValue& value) {
  if (value.isTensor()) return value.toTensor().defined() && value.toTensor().requires_grad();
  if (value.isList()) {
    for (const auto& element : value.toListRef()) {
      if (requires_grad(element)) return true;
    }
  }
  return false;
}

void refuse_requires_grad(const c10::OperatorHandle& op, c10::DispatchKeySet keys,
                          torch::jit::Stack* stack) {
  const auto& schema = op.schema();
  const auto& arguments = schema.arguments();
  const auto values = torch::jit::last(*stack, arguments.size());
  if (c10::GradMode::is_enabled()) {
    for (size_t i = 0; i < arguments.size(); ++i) {
      TORCH_CHECK(!requires_grad(values[i]), schema.name(), ": ", arguments[i].name(),
                  " requires grad, but this operator is not differentiable. For gradients use "
                  "eiprop::circuit or eiprop::graph_circuit (their backward is credit "
                  "relaxation); to run the rule's steps on tensors that require grad, call it "
                  "under torch.no_grad() / torch::NoGradGuard or pass detached tensors");
    }
  }
  std::vector<c10::IValue> written;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const auto* alias = arguments[i].alias_info();
    if (alias != nullptr && alias->isWrite()) written.push_back(values[i]);
  }
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    op.redispatchBoxed(keys & c10::after_ADInplaceOrView_keyset, stack);
  }
  for (const auto& value : written) bump_versions(value);
}

}  // namespace
}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_IMPL(eiprop, Autograd, m) {
  for (const char* op : {"ei_equilibrium", "credit_relaxation", "plasticity", "ei_currents",
                         "graph_equilibrium", "graph_credit_relaxation", "graph_plasticity",
                         "_circuit_forward", "_graph_circuit_forward", "_circuit_backward",
                         "_graph_circuit_backward", "learning_step", "graph_learning_step"}) {
    m.impl(op, torch::CppFunction::makeFromBoxedFunction<&eiprop::ops::refuse_requires_grad>());
  }
}
