#include "ops/validate.h"

#include <cmath>
#include <limits>

namespace eiprop {
namespace ops {

std::string argument(const char* name, int64_t layer) {
  if (layer < 0) return name;
  const auto index = std::to_string(layer);
  return name + ("[" + index + "] (layer " + index + ")");
}

void check_same_dtype_device(const char* op, const std::string& what, const at::Tensor& tensor,
                             const at::Tensor& reference) {
  TORCH_CHECK(tensor.defined(), op, ": ", what, " is an undefined tensor");
  TORCH_CHECK(tensor.layout() == at::kStrided, op, ": ", what, " must be a dense (strided) "
              "tensor, got layout ", tensor.layout(), "; convert it with .to_dense()");
  const auto dtype = tensor.scalar_type();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble, op, ": ", what,
              " must be float32 or float64, got ", dtype);
  if (reference.defined()) {
    TORCH_CHECK(dtype == reference.scalar_type(), op, ": ", what, " has dtype ", dtype,
                " but the first tensor argument has ", reference.scalar_type(),
                "; all tensors of one call must share a dtype");
    TORCH_CHECK(tensor.device() == reference.device(), op, ": ", what, " is on ",
                tensor.device(), " but the first tensor argument is on ", reference.device(),
                "; all tensors of one call must be on one device");
  }
  TORCH_CHECK(!tensor.is_meta(), op, ": ", what, " is a meta tensor (a shape without values); "
              "the rule computes with values: give CPU or CUDA tensors");
}

void check_matrix(const char* op, const std::string& what, const at::Tensor& tensor,
                  const at::Tensor& reference) {
  check_same_dtype_device(op, what, tensor, reference);
  TORCH_CHECK(tensor.dim() == 2, op, ": ", what, " must be a 2-D tensor, got shape ",
              tensor.sizes());
}

void check_rates(const char* op, const std::string& what, const at::Tensor& tensor,
                 const at::Tensor& reference) {
  check_same_dtype_device(op, what, tensor, reference);
  TORCH_CHECK(tensor.dim() == 2 || tensor.dim() == 4, op, ": ", what,
              " must be a 2-D [B, N] or 4-D [B, C, H, W] tensor, got shape ", tensor.sizes());
}

void check_circuit_input(const char* op, const char* what, const at::Tensor& input,
                         const std::vector<std::string>& projections) {
  if (projections.empty()) {
    check_matrix(op, what, input, at::Tensor());
  } else {
    check_rates(op, what, input, at::Tensor());
  }
}

void check_vector(const char* op, const std::string& what, const at::Tensor& tensor,
                  const at::Tensor& reference) {
  check_same_dtype_device(op, what, tensor, reference);
  TORCH_CHECK(tensor.dim() == 1, op, ": ", what, " must be a 1-D tensor, got shape ",
              tensor.sizes());
}

void check_shape(const char* op, const std::string& what, const at::Tensor& tensor,
                 at::IntArrayRef expected, const std::string& why) {
  TORCH_CHECK(tensor.sizes() == expected, op, ": ", what, " has shape ", tensor.sizes(),
              " but ", expected, " was expected (", why, ")");
}

void check_count(const char* op, const char* list, size_t count, size_t expected,
                 const char* expected_from) {
  TORCH_CHECK(count == expected, op, ": ", list, " has ", count, " entries but ", expected_from,
              " has ", expected, "; give one per layer");
}

void check_finite(const char* op, const char* name, double value) {
  TORCH_CHECK(std::isfinite(value), op, ": ", name, " must be finite, got ", value);
}

std::vector<kernels::Activation> parse_activations(const char* op,
                                                   const std::vector<std::string>& activations) {
  std::vector<kernels::Activation> parsed;
  parsed.reserve(activations.size());
  for (size_t l = 0; l < activations.size(); ++l) {
    const auto activation = kernels::parse_activation(activations[l]);
    TORCH_CHECK(activation.has_value(), op, ": ", argument("activations", l), " is '",
                activations[l], "', which is not an activation; expected one of ",
                kernels::activation_choices());
    parsed.push_back(*activation);
  }
  return parsed;
}

solvers::SolverOptions parse_solver_options(const char* op, c10::string_view method,
                                            int64_t max_iters, double tol, double dt,
                                            c10::ScalarType dtype) {
  const std::string method_name(method.data(), method.size());
  const auto parsed = solvers::parse_method(method_name);
  TORCH_CHECK(parsed.has_value(), op, ": method is '", method_name,
              "', which is not a method; expected one of ", solvers::method_choices());
  TORCH_CHECK(max_iters >= 0, op, ": max_iters must be >= 0 (0 = the method's default), got ",
              max_iters);
  check_finite(op, "tol", tol);
  TORCH_CHECK(tol >= 0, op, ": tol must be >= 0 (0 = the dtype's default), got ", tol);
  check_finite(op, "dt", dt);
  TORCH_CHECK(dt > 0 && dt <= 1, op, ": dt must lie in (0, 1] (a fraction of the time constant), got ",
              dt);
  TORCH_CHECK(dt >= solvers::resolution(dtype), op, ": dt=", dt, " is below the resolution of ",
              dtype, " (", solvers::resolution(dtype),
              "): every step x + dt (T(x) - x) would be lost to round-off; use dt in [",
              solvers::resolution(dtype), ", 1]");
  solvers::SolverOptions options;
  options.method = *parsed;
  options.max_iters = max_iters;
  options.tol = tol;
  options.dt = dt;
  return solvers::resolve_defaults(options, dtype);
}

FiniteCheck& FiniteCheck::add(const char* name, const at::Tensor& tensor,
                              const std::string& problem) {
  if (tensor.defined() && tensor.numel() == 0) return *this;  // nothing to hold a NaN
  names_.emplace_back(name);
  problems_.push_back(problem);
  tensors_.push_back(tensor);
  return *this;
}

FiniteCheck& FiniteCheck::add(const char* list, at::TensorList tensors, const char* entry,
                              const std::string& problem, int64_t entry_offset) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    // (An empty tensor, a pooling projection's placeholder weight, holds nothing to check.)
    if (tensors[i].defined() && tensors[i].numel() == 0) continue;
    names_.push_back(c10::str(list, "[", i, "] (", entry, " ", i + entry_offset, ")"));
    problems_.push_back(problem);
    tensors_.push_back(tensors[i]);
  }
  return *this;
}

void FiniteCheck::run() const {
  if (tensors_.empty()) return;
  // One read per tensor: a sum is finite only if every entry is. A non-finite sum (or a float32
  // sum that overflowed) is confirmed entry by entry, in the order added.
  std::vector<at::Tensor> sums;
  for (const auto& tensor : tensors_) sums.push_back(tensor.sum().to(at::kDouble));
  const auto fetched = at::stack(sums).cpu();
  const double* sum = fetched.data_ptr<double>();
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (std::isfinite(sum[i])) continue;
    TORCH_CHECK(at::isfinite(tensors_[i]).all().item<bool>(), op_, ": ", names_[i], " ",
                problems_[i]);
  }
}

std::string overflowing_updates(double lr, c10::ScalarType dtype) {
  return c10::str("would hold NaN or Inf although every input is finite: the updates overflow ",
                  dtype, "; refused (lower lr, now ", lr, ")");
}

void check_update_scale(const char* op, double scale, c10::ScalarType dtype) {
  const double largest = dtype == at::kFloat
                             ? static_cast<double>(std::numeric_limits<float>::max())
                             : std::numeric_limits<double>::max();
  TORCH_CHECK(std::abs(scale) <= largest, op, ": lr / batch = ", scale,
              " overflows the dtype ", dtype, "; use a smaller lr");
}

void check_layered_weights(const char* op, at::TensorList weights, int64_t input_width,
                           const at::Tensor& reference) {
  TORCH_CHECK(!weights.empty(), op, ": weights is empty; a layered circuit needs at least one layer");
  int64_t width = input_width;
  for (size_t l = 0; l < weights.size(); ++l) {
    const auto what = argument("weights", l);
    check_matrix(op, what, weights[l], reference);
    TORCH_CHECK(weights[l].size(1) == width, op, ": ", what, " has shape ", weights[l].sizes(),
                " but its presynaptic population has ", width,
                " neurons; expected [N_out, ", width, "] (Linear layout)");
    width = weights[l].size(0);
  }
}

void check_wavefront_fits(const char* op, const char* what, const solvers::SolverOptions& options,
                          bool acyclic, int64_t depth) {
  const bool wavefront = options.method == solvers::Method::jacobi ||
                         options.method == solvers::Method::anderson;
  TORCH_CHECK(!acyclic || !wavefront || options.max_iters >= depth, op, ": max_iters=",
              options.max_iters, " is below the circuit's depth ", depth, ": on this acyclic circuit "
              "method '", solvers::method_name(options.method), "' computes ", what,
              " exactly in ", depth, " synchronous updates (one per wave); give max_iters >= ",
              depth, " or 0 (the default)");
}

void check_solved(const char* op, const char* what, const solvers::SolverOptions& options,
                  const solvers::SolverStats& stats, bool strict) {
  TORCH_CHECK(stats.nonfinite_population != 0, op, ": the input (population 0) holds NaN or Inf "
              "values; refused before they reach ", what);
  TORCH_CHECK(stats.nonfinite_population < 0, op, ": ", what, " of population ",
              stats.nonfinite_population, " are not finite (NaN or Inf) after ", stats.iterations,
              " iteration(s) of method '", solvers::method_name(options.method),
              "'; check the input, weights, biases and output error for NaN/Inf, and that the "
              "equilibrium is stable");
  if (!strict) return;
  TORCH_CHECK(!stats.stalled_at_roundoff, op, ": ", what, " cannot reach tol=", options.tol,
              ": method '", solvers::method_name(options.method), "' stopped at iteration ",
              stats.iterations, " because ", stats.divergence,
              ". The tolerance is below what the dtype resolves; raise tol (0 = the dtype's "
              "default) or use float64");
  TORCH_CHECK(!stats.diverged, op, ": ", what, " diverged: method '",
              solvers::method_name(options.method), "' stopped at iteration ", stats.iterations,
              " because ", stats.divergence, " (residual ", stats.residual,
              "; estimated contraction factor ", stats.contraction,
              ", >= 1 means the equilibrium is unstable or the iteration oscillates). Scale down "
              "the recurrent weights, lower dt, or use method 'anderson'");
  TORCH_CHECK(stats.converged, op, ": ", what, " did not converge: method '",
              solvers::method_name(options.method), "' stopped at max_iters=", options.max_iters,
              " with residual ", stats.residual, " > tol=", options.tol,
              " (estimated contraction factor ", stats.contraction,
              "; raise max_iters or dt, use method 'anderson', or check that the equilibrium is "
              "stable)");
}

void check_converged(const char* op, const char* what, const solvers::SolverOptions& options,
                     const solvers::SolverStats& stats) {
  check_solved(op, what, options, stats, /*strict=*/true);
}

}  // namespace ops
}  // namespace eiprop
