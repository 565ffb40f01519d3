// eiprop::build_facts — what this library was compiled against, as ints only (no str/Tensor
// arguments, so that a caller whose libtorch disagrees in ABI can still read them safely):
//   [LibTorch major, minor, patch, _GLIBCXX_USE_CXX11_ABI, compiler (1 GCC, 2 Clang, 0 other),
//    compiler major, compiler minor, __cplusplus, CUDA version (1000 * major + 10 * minor; 0:
//    no CUDA code compiled in, the ops reach CUDA tensors through ATen)].
// The Python package compares them with the running torch when it is imported (python/eiprop).
#include "ops/signatures.h"

#include <torch/library.h>
#include <torch/version.h>

#ifndef EIPROP_CUDA_VERSION
#define EIPROP_CUDA_VERSION 0
#endif

// The import guard's test builds a copy of the library that claims another LibTorch minor
// version (tests/CMakeLists.txt); every other build records the real one.
#ifdef EIPROP_CLAIMED_TORCH_MINOR
#define EIPROP_TORCH_MINOR EIPROP_CLAIMED_TORCH_MINOR
#else
#define EIPROP_TORCH_MINOR TORCH_VERSION_MINOR
#endif

namespace eiprop {
namespace ops {

std::vector<int64_t> build_facts() {
#if defined(__clang__)
  const int64_t compiler = 2, major = __clang_major__, minor = __clang_minor__;
#elif defined(__GNUC__)
  const int64_t compiler = 1, major = __GNUC__, minor = __GNUC_MINOR__;
#else
  const int64_t compiler = 0, major = 0, minor = 0;
#endif
  return {TORCH_VERSION_MAJOR, EIPROP_TORCH_MINOR, TORCH_VERSION_PATCH, _GLIBCXX_USE_CXX11_ABI,
          compiler, major, minor, static_cast<int64_t>(__cplusplus), EIPROP_CUDA_VERSION};
}

}  // namespace ops
}  // namespace eiprop

// No tensor argument to dispatch on: one kernel for every dispatch key.
TORCH_LIBRARY_FRAGMENT(eiprop, m) {
  m.def("build_facts() -> int[]", TORCH_FN(eiprop::ops::build_facts));
}
