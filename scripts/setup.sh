#!/usr/bin/env bash
# Installs what is missing: Debian packages (compiler, CMake, GoogleTest, Google Benchmark, fmt,
# CLI11, OpenBLAS, zlib, gnuplot, Fashion-MNIST) and LibTorch: PyPI's torch 2.11 and
# scikit-build-core in the project's .venv (default), or Debian's libtorch-dev 1.13 with
# --torch debian.
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"

packages=(build-essential cmake ninja-build ccache git python3 python3-venv
          libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libcli11-dev libopenblas0-pthread
          zlib1g-dev gnuplot-nox dataset-fashion-mnist)
# scripts/fuzz.sh: clang and its libFuzzer/sanitizer runtimes.
packages+=(clang libclang-rt-14-dev)
# Community analysis (eiprop_analysis): igraph, found through pkg-config.
packages+=(libigraph-dev pkg-config)
if [ "$EIPROP_TORCH" = debian ]; then
  packages+=(libtorch-dev python3-torch)
fi
# Gloo's headers, for data-parallel training on c10d (neither LibTorch ships them).
packages+=(libgloo-dev)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

if [ "$EIPROP_TORCH" = pip ]; then
  venv="$EIPROP_ROOT/.venv"
  if ! "$venv/bin/python" -c 'import torch, sys; sys.exit(not torch.__version__.startswith("2.11"))' \
      2>/dev/null; then
    echo "setup: installing PyPI torch 2.11 into $venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q 'torch==2.11.*'
  fi
  # The Python package's build backend (pip install --no-build-isolation uses the venv's own).
  if ! "$venv/bin/python" -c 'import scikit_build_core' 2>/dev/null; then
    echo "setup: installing scikit-build-core into $venv"
    "$venv/bin/python" -m pip install -q 'scikit-build-core>=0.10'
  fi
fi
echo "setup: ready ($EIPROP_TORCH LibTorch)"
