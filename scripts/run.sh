#!/usr/bin/env bash
# The main job: set up, build, then
#   1. layered_agreement: the three operators against autograd on a random circuit, per layer;
#   2. ab_autograd: the rule and autograd trained side by side on Fashion-MNIST (table + figure).
#   scripts/run.sh [--torch pip|debian] [ab_autograd flags, see --help]
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
"$EIPROP_ROOT/scripts/build.sh" --torch "$EIPROP_TORCH"
cd "$EIPROP_ROOT"
"$EIPROP_BUILD/examples/layered_agreement"
echo
"$EIPROP_BUILD/examples/ab_autograd" ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}
