#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer: builds eiprop (library,
# tests, examples) with -fsanitize=address,undefined (CMake option EIPROP_SANITIZE) into its own
# tree, build-asan/ (build-debian-asan/ with --torch debian), and runs ctest there.
#   scripts/sanitize.sh [--torch pip|debian] [extra ctest arguments]
# Not run under the sanitizers: packaging.find_package_consumer, which builds a separate,
# uninstrumented project against the installed library (it tests installation, and an
# uninstrumented program cannot link an instrumented library).
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"

build="$EIPROP_BUILD-asan"
# RelWithDebInfo puts the build directory into the debug info, which ccache hashes by default;
# ignoring it lets a fresh clone (CI) reuse the compile results of another clone.
export CCACHE_NOHASHDIR=1
prefix=$(torch_prefix)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$EIPROP_ROOT" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_PREFIX_PATH="$prefix" -DEIPROP_PYTHON="$EIPROP_PYTHON" -DEIPROP_SANITIZE=ON
fi
start=$(date +%s)
cmake --build "$build" -j "${EIPROP_JOBS:-2}"
built=$(date +%s)

# detect_leaks=0: LibTorch is not instrumented and keeps its operator registry, allocator
#   caches and thread pools alive until exit (as does the Python interpreter of the Python
#   tests); LeakSanitizer would report those, not eiprop's allocations.
# halt_on_error / -fno-sanitize-recover: the first finding fails the test.
# print_stacktrace=1: UBSan reports come with a stack.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
ctest --output-on-failure -j "${EIPROP_JOBS:-2}" -E '^packaging\.' --timeout 1500 \
  ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
echo "sanitize: build ${EIPROP_TORCH} $((built - start)) s, tests $(( $(date +%s) - built )) s"
