#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (CMake option
# EIPROP_SANITIZE: -fsanitize=address,undefined on eiprop's own code; LibTorch is not
# instrumented), in its own build tree.
#   scripts/sanitize.sh [--torch pip|debian] [--full] [extra ctest arguments]
# Default (CI): the libraries, the unit tests, the Python round trips and the fuzz corpus replay,
# with line-table debug information (-g1: stack traces name file and line) in build-asan/
# (build-debian-asan/ with --torch debian).
# --full: everything the normal build has (examples and benchmarks and their smoke tests too),
# with full debug information, in build-asan-full/; about twice the build time.
# Not run under the sanitizers: packaging.find_package_consumer, which builds a separate,
# uninstrumented project against the installed library (it tests installation, and an
# uninstrumented program cannot link an instrumented library).
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
full=0
ctest_args=()
for argument in ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}; do
  if [ "$argument" = --full ]; then full=1; else ctest_args+=("$argument"); fi
done
timed "set-up ($EIPROP_TORCH)" "$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"

if [ $full = 1 ]; then
  preset=asan-full
  build="$EIPROP_BUILD-asan-full"
else
  preset=asan
  build="$EIPROP_BUILD-asan"
fi
configure "$preset" "$build"
timed "build ($EIPROP_TORCH, sanitizers)" cmake --build "$build" -j "${EIPROP_JOBS:-2}"

# detect_leaks=0: LibTorch is not instrumented and keeps its operator registry, allocator
#   caches and thread pools alive until exit (as does the Python interpreter of the Python
#   tests); LeakSanitizer would report those, not eiprop's allocations.
# halt_on_error / -fno-sanitize-recover: the first finding fails the test.
# print_stacktrace=1: UBSan reports come with a stack.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
timed "tests ($EIPROP_TORCH, sanitizers)" \
  ctest --output-on-failure -j "${EIPROP_JOBS:-2}" -E '^packaging\.' --timeout 1500 \
  ${ctest_args[@]+"${ctest_args[@]}"}
