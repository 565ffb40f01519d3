#!/usr/bin/env bash
# The main job: set up, build, and run the layered-agreement example (rule vs autograd, per layer).
#   scripts/run.sh [--torch pip|debian] [example flags, see --help]
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
"$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
"$EIPROP_BUILD/examples/layered_agreement" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
