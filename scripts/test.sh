#!/usr/bin/env bash
# Set up, build, install the Python package (pip) and run the whole test suite with ctest.
#   scripts/test.sh [--torch pip|debian] [extra ctest arguments]
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
timed "set-up ($EIPROP_TORCH)" "$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
timed "build ($EIPROP_TORCH)" "$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
if [ "$EIPROP_TORCH" = pip ]; then
  # The Python package as a user installs it (its own build tree, build-python/); ctest checks
  # the installed package (python.package_installed).
  timed "python package" "$EIPROP_PYTHON" -m pip install -q --no-build-isolation --no-deps \
    "$EIPROP_ROOT"
fi
cd "$EIPROP_BUILD"
timed "tests ($EIPROP_TORCH)" \
  ctest --output-on-failure -j "${EIPROP_JOBS:-2}" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
