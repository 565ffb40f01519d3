// How the typed C++ wrappers reach an operator: through the PyTorch dispatcher, exactly as
// TorchScript and torch.ops.eiprop do.
#pragma once

#include "eiprop/ops/relaxation.h"
#include "ops/signatures.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace eiprop {
namespace api {

// The typed handle of `name` (overload ""); callers keep it in a function-local static.
template <typename Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

// The learning-step ops' tuple as the typed result.
inline LearningStep learning_step_result(ops::LearningStepResult result) {
  return {std::move(std::get<0>(result)), std::get<1>(result), std::get<2>(result),
          std::get<3>(result), std::get<4>(result)};
}

}  // namespace api
}  // namespace eiprop
