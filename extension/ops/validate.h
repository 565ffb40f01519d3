// Checks made once at an operator boundary. Every failure is a TORCH_CHECK error that names the
// op, the argument and the layer, and says what was expected and what was given.
#pragma once

#include "kernels/activation.h"
#include "kernels/circuit.h"
#include "solvers/options.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace eiprop {
namespace ops {

// "weights[2] (layer 2)"; "input" when layer < 0.
std::string argument(const char* name, int64_t layer = -1);

// A 2-D float32/float64 tensor. `reference` (when defined) fixes the dtype and device that all
// tensors of one call share.
void check_matrix(const char* op, const std::string& what, const at::Tensor& tensor,
                  const at::Tensor& reference);
// A population's rates (or drives, credits): [B, N] or, behind spatial projections, [B, C, H, W].
void check_rates(const char* op, const std::string& what, const at::Tensor& tensor,
                 const at::Tensor& reference);
// A circuit's input: [B, N_0], or also [B, C, H, W] when the call gives `projections` (ops that
// predate them keep their 2-D check and its message).
void check_circuit_input(const char* op, const char* what, const at::Tensor& input,
                         const std::vector<std::string>& projections);
void check_vector(const char* op, const std::string& what, const at::Tensor& tensor,
                  const at::Tensor& reference);
void check_same_dtype_device(const char* op, const std::string& what, const at::Tensor& tensor,
                             const at::Tensor& reference);
void check_shape(const char* op, const std::string& what, const at::Tensor& tensor,
                 at::IntArrayRef expected, const std::string& why);
void check_count(const char* op, const char* list, size_t count, size_t expected,
                 const char* expected_from);
void check_finite(const char* op, const char* name, double value);

std::vector<kernels::Activation> parse_activations(const char* op,
                                                   const std::vector<std::string>& activations);

solvers::SolverOptions parse_solver_options(const char* op, c10::string_view method,
                                            int64_t max_iters, double tol, double dt,
                                            c10::ScalarType dtype);

// Checks an op's tensors for NaN and Inf with one device synchronisation for all of them (a second,
// only when one may hold any), then raises for the first one (in the order added) that does:
//   "<op>: <list>[i] (<entry> i + entry_offset) <problem>"   ("<op>: <name>
//   <problem>" for one).
// Inputs go first, so a result is blamed only when every input is finite.
class FiniteCheck {
 public:
  explicit FiniteCheck(const char* op) : op_(op) {}
  FiniteCheck& add(const char* name, const at::Tensor& tensor, const std::string& problem);
  FiniteCheck& add(const char* list, at::TensorList tensors, const char* entry,
                   const std::string& problem, int64_t entry_offset = 0);
  void run() const;

 private:
  const char* op_;
  std::vector<std::string> names_;
  std::vector<std::string> problems_;
  std::vector<at::Tensor> tensors_;
};

// What FiniteCheck says of an input, and of an update list computed from finite inputs.
constexpr const char* kNonFiniteInput = "holds NaN or Inf; refused";
std::string overflowing_updates(double lr, c10::ScalarType dtype);

// lr / batch must be representable in the tensors' dtype (1e300 is finite in double, not in
// float32).
void check_update_scale(const char* op, double scale, c10::ScalarType dtype);

// A layered chain's weights: at least one, each [N_{l+1}, N_l] with N_0 = input_width.
void check_layered_weights(const char* op, at::TensorList weights, int64_t input_width,
                           const at::Tensor& reference);

// On an acyclic circuit jacobi and anderson take the exact wavefront, one synchronous update per
// wave (`depth` of them): a max_iters below the depth is refused instead of being exceeded.
void check_wavefront_fits(const char* op, const char* what, const solvers::SolverOptions& options,
                          bool acyclic, int64_t depth);

// Raises when a solve produced non-finite values (naming the population), and, when strict, when
// it diverged or ran out of iterations. Non-strict callers report the stats' converged flag.
void check_solved(const char* op, const char* what, const solvers::SolverOptions& options,
                  const solvers::SolverStats& stats, bool strict);
// check_solved with strict = true.
void check_converged(const char* op, const char* what, const solvers::SolverOptions& options,
                     const solvers::SolverStats& stats);

}  // namespace ops
}  // namespace eiprop
