#include "solvers/options.h"

#include <limits>

namespace eiprop {
namespace solvers {

c10::optional<Method> parse_method(const std::string& name) {
  if (name == "sweep") return Method::sweep;
  if (name == "jacobi") return Method::jacobi;
  if (name == "euler") return Method::euler;
  if (name == "anderson") return Method::anderson;
  return c10::nullopt;
}

const char* method_name(Method method) {
  switch (method) {
    case Method::sweep: return "sweep";
    case Method::jacobi: return "jacobi";
    case Method::euler: return "euler";
    case Method::anderson: return "anderson";
  }
  return "?";
}

const char* method_choices() { return "sweep, jacobi, euler, anderson"; }

double resolution(c10::ScalarType dtype) {
  return dtype == c10::ScalarType::Double ? std::numeric_limits<double>::epsilon()
                                          : static_cast<double>(std::numeric_limits<float>::epsilon());
}

SolverOptions resolve_defaults(SolverOptions options, c10::ScalarType dtype) {
  if (options.max_iters == 0) options.max_iters = kDefaultMaxIters;
  if (options.tol == 0.0) {
    options.tol = dtype == c10::ScalarType::Double ? kDefaultTolFloat64 : kDefaultTolFloat32;
  }
  return options;
}

}  // namespace solvers
}  // namespace eiprop
