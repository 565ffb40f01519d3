#!/usr/bin/env bash
# Downloads (does not install) the Debian packages that scripts/gpu-check.sh unpacks on a GPU
# machine without network access: GoogleTest, fmt, CLI11, Google Benchmark, zlib. Into .debs/ (ignored
# by git).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.debs"
cd "$root/.debs"
apt-get download libgtest-dev libgmock-dev libfmt-dev libfmt9 libcli11-dev
apt-get download libbenchmark-dev libbenchmark1debian
apt-get download zlib1g-dev zlib1g
ls -1 "$root/.debs"
