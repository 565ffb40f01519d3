// The Autograd-key kernel of the operators autograd cannot differentiate: the equilibrium, credit
// relaxation, plasticity and E/I-current ops compute the rule's quantities, not a function with
// a registered derivative. With grad mode on, a tensor argument that requires grad is refused
// naming the op and the argument and pointing to eiprop::circuit / eiprop::graph_circuit, whose
// backward is credit relaxation; otherwise the call goes on below autograd unchanged.
#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>

namespace eiprop {
namespace ops {
namespace {

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
  if (c10::GradMode::is_enabled()) {
    const auto& arguments = schema.arguments();
    const auto values = torch::jit::last(*stack, arguments.size());
    for (size_t i = 0; i < arguments.size(); ++i) {
      TORCH_CHECK(!requires_grad(values[i]), schema.name(), ": ", arguments[i].name(),
                  " requires grad, but this operator is not differentiable. For gradients use "
                  "eiprop::circuit or eiprop::graph_circuit (their backward is credit "
                  "relaxation); to run the rule's steps on tensors that require grad, call it "
                  "under torch.no_grad() / torch::NoGradGuard or pass detached tensors");
    }
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  op.redispatchBoxed(keys & c10::after_ADInplaceOrView_keyset, stack);
}

}  // namespace
}  // namespace ops
}  // namespace eiprop

TORCH_LIBRARY_IMPL(eiprop, Autograd, m) {
  for (const char* op : {"ei_equilibrium", "credit_relaxation", "plasticity", "ei_currents",
                         "graph_equilibrium", "graph_credit_relaxation", "graph_plasticity",
                         "_circuit_forward", "_graph_circuit_forward", "_circuit_backward",
                         "_graph_circuit_backward"}) {
    m.impl(op, torch::CppFunction::makeFromBoxedFunction<&eiprop::ops::refuse_requires_grad>());
  }
}
