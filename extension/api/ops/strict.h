// RelaxationOptions::strict is honoured or refused, never ignored: the callers that return rates
// only (the differentiable circuits, the modules, PlasticityRule) have no converged flag to
// return, so they refuse strict(false).
#pragma once

#include "eiprop/ops/layered.h"

#include <c10/util/Exception.h>

namespace eiprop {
namespace api {

inline void require_strict(const char* where, const RelaxationOptions& options) {
  TORCH_CHECK(options.strict(), where, ": RelaxationOptions::strict(false) is not available "
              "here: this call returns rates only and has no converged flag to return, so a solve "
              "that does not converge always raises. For flagged results call "
              "eiprop::ei_equilibrium / eiprop::graph_equilibrium with strict(false)");
}

}  // namespace api
}  // namespace eiprop
