#!/usr/bin/env bash
# The community study (docs/community.md): set up, build, then train layered circuits by the
# plasticity rule on a modular two-task problem and its entangled control, under three schedules
# per learning rate and 20 seeds, with a positive control, a sensitivity curve and the
# simulator's learning-rate x timescale-separation grid, and test the learning-rate trend of
# their modularity against a strength-preserving null. Fashion-MNIST is opt-in
# (--tasks modular,entangled,fashion).
#   scripts/community.sh [--torch pip|debian] [--supplements DIR] [community flags, see --help]
# Writes out/community/{runs.csv,summary.csv,endpoints.csv,sensitivity.csv,*.png}.
# --supplements DIR: then also the doc's supplementary runs, each into a folder of DIR: the
# modular task at equal distance 3 and 30 (distance_3, distance_30), and a small positive control
# with the strength null's default and ten times its annealing (null_sweeps_300,
# null_sweeps_3000).
source "$(dirname "$0")/common.sh"
SUPPLEMENTS=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --supplements) SUPPLEMENTS="$2"; shift 2 ;;
    --supplements=*) SUPPLEMENTS="${1#--supplements=}"; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
parse_torch_flag ${ARGS[@]+"${ARGS[@]}"}
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
"$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
cd "$EIPROP_ROOT"
COMMUNITY="$EIPROP_BUILD/examples/community"
"$COMMUNITY" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
if [ -n "$SUPPLEMENTS" ]; then
  DISTANCE=(--tasks modular --schedules equal_distance --control-seeds 0 --simulator-seeds 0)
  "$COMMUNITY" "${DISTANCE[@]}" --distance 3 --out "$SUPPLEMENTS/distance_3"
  "$COMMUNITY" "${DISTANCE[@]}" --distance 30 --lrs 0.0316,0.1,0.316,1 \
    --out "$SUPPLEMENTS/distance_30"
  CONTROL=(--tasks modular --schedules equal_distance --lrs 0.1 --seeds 1 --control-seeds 6
           --null-samples 10 --simulator-seeds 0)
  "$COMMUNITY" "${CONTROL[@]}" --out "$SUPPLEMENTS/null_sweeps_300"
  "$COMMUNITY" "${CONTROL[@]}" --null-sweeps 3000 --out "$SUPPLEMENTS/null_sweeps_3000"
fi
