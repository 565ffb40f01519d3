#!/usr/bin/env bash
# The community study (docs/community.md): set up, build, then train layered circuits by the
# plasticity rule on a modular two-task problem and its entangled control, under three schedules
# per learning rate and 20 seeds, with a positive control, a sensitivity curve and the
# simulator's lr x presentation-time grid, and test the learning-rate trend of their modularity
# against a strength-preserving null. Fashion-MNIST is opt-in (--tasks modular,entangled,fashion).
#   scripts/community.sh [--torch pip|debian] [community flags, see --help]
# Writes out/community/{runs.csv,summary.csv,endpoints.csv,sensitivity.csv,*.png}.
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
"$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
cd "$EIPROP_ROOT"
"$EIPROP_BUILD/examples/community" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
