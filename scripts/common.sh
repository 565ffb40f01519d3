# Shared by the project's scripts: argument parsing and where things live.
# Usage inside a script: source "$(dirname "$0")/common.sh"; parse_torch_flag "$@"
set -euo pipefail

EIPROP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EIPROP_TORCH=pip          # pip: PyPI's torch 2.11 in .venv; debian: Debian's libtorch-dev 1.13
EIPROP_ARGS=()
# (ccache's settings, shared by every build, are in cmake/precompiled.cmake.)

parse_torch_flag() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --torch) EIPROP_TORCH="$2"; shift 2 ;;
      --torch=*) EIPROP_TORCH="${1#--torch=}"; shift ;;
      *) EIPROP_ARGS+=("$1"); shift ;;
    esac
  done
  case "$EIPROP_TORCH" in
    pip|debian) ;;
    *) echo "unknown --torch '$EIPROP_TORCH' (pip or debian)" >&2; exit 2 ;;
  esac
  if [ "$EIPROP_TORCH" = pip ]; then
    EIPROP_BUILD="$EIPROP_ROOT/build"
    EIPROP_PYTHON="$EIPROP_ROOT/.venv/bin/python"
  else
    EIPROP_BUILD="$EIPROP_ROOT/build-debian"
    EIPROP_PYTHON=/usr/bin/python3
  fi
}

# CMAKE_PREFIX_PATH for the chosen LibTorch (after parse_torch_flag). PyPI's torch needs both its
# cmake prefix and its package directory, so that Debian's libtorch-dev (if installed) is not
# picked instead.
torch_prefix() {
  if [ "$EIPROP_TORCH" = pip ]; then
    "$EIPROP_PYTHON" -c \
      'import os, torch; print(torch.utils.cmake_prefix_path + ";" + os.path.dirname(torch.__file__))'
  else
    echo /usr
  fi
}

# Configures BUILD_DIR from a preset of CMakePresets.json (the one definition of every build),
# once: the preset reads the chosen LibTorch and Python from the environment.
#   configure PRESET BUILD_DIR [CMake arguments...]
configure() {
  local preset=$1 build=$2
  shift 2
  [ -f "$build/CMakeCache.txt" ] && return 0
  EIPROP_TORCH_PREFIX=$(torch_prefix) EIPROP_PYTHON="$EIPROP_PYTHON" \
    cmake -S "$EIPROP_ROOT" --preset "$preset" -B "$build" "$@"
}

# Runs a command and prints how long it took, so that every phase of a CI log is timed:
#   timed LABEL COMMAND [ARGUMENTS...]
timed() {
  local label=$1 start status=0
  shift
  start=$(date +%s)
  "$@" || status=$?
  echo "time: $label $(( $(date +%s) - start )) s$([ $status -eq 0 ] || echo " (failed, exit $status)")"
  return $status
}
