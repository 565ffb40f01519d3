#!/usr/bin/env bash
# The community study (docs/community.md): set up, build, then train circuits by the plasticity
# rule and by autograd-SGD over a grid of learning rates and seeds and measure their modularity.
#   scripts/community.sh [--torch pip|debian] [community flags, see --help]
# Writes out/community/{runs.csv,summary.csv,summary.json,*.png}.
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
"$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
cd "$EIPROP_ROOT"
"$EIPROP_BUILD/examples/community" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
