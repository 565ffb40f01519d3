#!/usr/bin/env bash
# Configures and builds eiprop (library, tests, examples) against the chosen LibTorch.
#   scripts/build.sh [--torch pip|debian] [extra CMake arguments]
# Build trees: build/ (pip) and build-debian/ (debian). The ops library is <build>/libeiprop.so.
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"

preset=default
[ "$EIPROP_TORCH" = debian ] && preset=debian
configure "$preset" "$EIPROP_BUILD" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
cmake --build "$EIPROP_BUILD" -j "${EIPROP_JOBS:-2}"
