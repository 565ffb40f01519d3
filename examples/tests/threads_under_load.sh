#!/usr/bin/env bash
# The main job's programs size their intra-op threads to the cores that are free when they start:
# with a busy loop holding a core they take fewer threads than the machine has cores (at least
# one); --threads N takes N.
#   threads_under_load.sh LAYERED_AGREEMENT
set -uo pipefail
program=$1
cores=$(nproc)
run() { "$program" --widths 8,6,3 --batch 4 --repeats 1 "$@" | head -1; }

requested=$(run --threads 3)
echo "$requested"
grep -q '3 intra-op thread(s) (as requested (--threads))' <<<"$requested" || {
  echo "FAIL: --threads 3 was not taken"; exit 1; }

# A busy loop on one core (bounded: it ends by itself after 60 s).
timeout 60 sh -c 'while :; do :; done' &
spinner=$!
sleep 0.5
loaded=$(run)
kill "$spinner" 2>/dev/null
wait "$spinner" 2>/dev/null
echo "$loaded"
threads=$(sed -n 's/.* \([0-9][0-9]*\) intra-op thread(s) (.*busy at start).*/\1/p' <<<"$loaded")
[ -n "$threads" ] || { echo "FAIL: no automatic thread choice in the header"; exit 1; }
limit=$(( cores > 1 ? cores - 1 : 1 ))
if [ "$threads" -lt 1 ] || [ "$threads" -gt "$limit" ]; then
  echo "FAIL: $threads threads with one of $cores cores busy (expected 1..$limit)"; exit 1
fi
echo "threads under load: $threads of $cores cores with one busy: ok"
