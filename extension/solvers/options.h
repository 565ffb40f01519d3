// What every relaxation solver takes and reports (one uniform signature, torchdeq-style).
#pragma once

#include <c10/core/ScalarType.h>
#include <c10/util/Optional.h>

#include <string>

namespace eiprop {
namespace solvers {

enum class Method { sweep, jacobi, euler };

c10::optional<Method> parse_method(const std::string& name);
const char* method_name(Method method);
const char* method_choices();  // "sweep, jacobi, euler"

struct SolverOptions {
  Method method = Method::sweep;
  int64_t max_iters = 0;  // 0: the method's default (kDefaultMaxIters for euler)
  double tol = 0.0;       // 0: the default for the dtype (kDefaultTol*)
  double dt = 1.0;        // euler step in units of the time constant, in (0, 1]
};

constexpr int64_t kDefaultMaxIters = 10000;
constexpr double kDefaultTolFloat64 = 1e-12;
constexpr double kDefaultTolFloat32 = 1e-6;

// Replaces 0 by the documented defaults for this dtype.
SolverOptions resolve_defaults(SolverOptions options, c10::ScalarType dtype);

struct SolverStats {
  int64_t iterations = 0;  // synchronous updates (sweep: 1 pass)
  double residual = 0.0;   // relative_residual (solvers/residual.h) at the last iteration
  bool converged = true;
};

}  // namespace solvers
}  // namespace eiprop
