#include "solvers/options.h"

#include "util/enum_table.h"

#include <limits>

namespace eiprop {
namespace solvers {
namespace {

constexpr util::EnumTable<Method, 4> kMethods{{{"sweep", Method::sweep},
                                               {"jacobi", Method::jacobi},
                                               {"euler", Method::euler},
                                               {"anderson", Method::anderson}}};

}  // namespace

c10::optional<Method> parse_method(const std::string& name) {
  return util::parse_enum(kMethods, name);
}

const char* method_name(Method method) { return util::enum_name(kMethods, method); }

std::string method_choices() { return util::enum_choices(kMethods); }

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
