#!/usr/bin/env bash
# Set up, build, install the Python package (pip) and run the whole test suite with ctest.
#   scripts/test.sh [--torch pip|debian] [extra ctest arguments]
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
timed "set-up ($EIPROP_TORCH)" "$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
timed "build ($EIPROP_TORCH)" "$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
if [ "$EIPROP_TORCH" = pip ]; then
  # The Python package, from the library just built (its tests run in ctest).
  timed "python package" "$EIPROP_PYTHON" -m pip install -q --no-build-isolation --no-deps \
    -C build-dir="$EIPROP_BUILD" "$EIPROP_ROOT"
fi
cd "$EIPROP_BUILD"
timed "tests ($EIPROP_TORCH)" \
  ctest --output-on-failure -j "${EIPROP_JOBS:-2}" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
