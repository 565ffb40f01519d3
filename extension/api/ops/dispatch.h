// How the typed C++ wrappers reach an operator: through the PyTorch dispatcher, exactly as
// TorchScript and torch.ops.eiprop do.
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>

namespace eiprop {
namespace api {

// The typed handle of `name` (overload ""); callers keep it in a function-local static.
template <typename Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

}  // namespace api
}  // namespace eiprop
