#!/usr/bin/env bash
# Configures and builds eiprop (library, tests, examples) against the chosen LibTorch.
#   scripts/build.sh [--torch pip|debian] [extra CMake arguments]
# Build trees: build/ (pip) and build-debian/ (debian). The ops library is <build>/libeiprop.so.
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"

prefix=$(torch_prefix)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$EIPROP_BUILD/CMakeCache.txt" ]; then
  cmake -S "$EIPROP_ROOT" -B "$EIPROP_BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DEIPROP_PYTHON="$EIPROP_PYTHON" \
    ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
fi
cmake --build "$EIPROP_BUILD" -j "${EIPROP_JOBS:-2}"
