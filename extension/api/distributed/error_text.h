// The message of an exception caught from c10d or Gloo, without LibTorch's C++ backtrace, for
// the distributed errors that quote it.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

namespace eiprop {
namespace detail {

inline std::string error_text(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    return c10_error->what_without_backtrace();
  }
  return error.what();
}

}  // namespace detail
}  // namespace eiprop
