// The learning-step operators' shared body (ops/learning_step.cpp, ops/graph_learning_step.cpp):
// after each op has parsed its circuit in its own words, the loss, then the step in place.
#pragma once

#include "ops/circuit_call.h"
#include "ops/signatures.h"

namespace eiprop {
namespace ops {

LearningStepResult apply_learning_step(const CircuitCall& call, const at::Tensor& input,
                                       const at::Tensor& target, at::TensorList weights,
                                       const OptionalTensorList& biases, double lr,
                                       c10::string_view loss);

}  // namespace ops
}  // namespace eiprop
