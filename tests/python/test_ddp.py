"""examples/python/ddp.py on 2 ranks (torchrun, Gloo on loopback) against 1 process.

Trains the same BalancedMLP for a few float64 steps as one plain process and as two DDP ranks
that split each global batch; the final parameters must agree to 1e-12 relative (max abs
difference over max abs of the single-process tensor, per parameter). Exits 77 (skipped) when
torch.distributed is unavailable or torch is older than 2.0.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile

import torch

if not torch.distributed.is_available():
    print("skipped: torch.distributed is not available in this torch build")
    sys.exit(77)
if int(torch.__version__.split(".")[0]) < 2:
    print(f"skipped: torch {torch.__version__} is older than 2.0")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = 1e-12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# torch's Gloo teardown can abort a rank at exit ("terminate called without an active
# exception": a C++ thread that still releases a tensor while the interpreter finalises), rarely
# and only under load; the training and its result are not affected. Such a launch is reported
# and run once more; any other failure, or the same abort twice, fails the test.
TEARDOWN_ABORT = "terminate called without an active exception"


def run(command, env, retry_teardown_abort=False):
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 and retry_teardown_abort and TEARDOWN_ABORT in result.stderr:
        sys.stderr.write(result.stdout + result.stderr)
        print(f"a rank aborted at teardown ({TEARDOWN_ABORT!r}); launching once more")
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}")
    print(result.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example",
                        default=os.path.join(HERE, "..", "..", "examples", "python", "ddp.py"))
    args = parser.parse_args()
    # PYTHONFAULTHANDLER: a rank that aborts prints every thread's Python stack.
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONFAULTHANDLER="1")
    flags = ["--steps", "5", "--batch", "32", "--widths", "8,16,12,4", "--dtype", "float64",
             "--lr", "0.5", "--seed", "3"]

    with tempfile.TemporaryDirectory() as tmp:
        single, ranks = os.path.join(tmp, "single.pt"), os.path.join(tmp, "ranks.pt")
        run([sys.executable, args.example, *flags, "--out", single], env)
        run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
             "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
             args.example, *flags, "--out", ranks], env, retry_teardown_abort=True)
        expected, actual = torch.load(single), torch.load(ranks)

    assert expected.keys() == actual.keys(), (expected.keys(), actual.keys())
    worst = 0.0
    for name, tensor in expected.items():
        assert actual[name].dtype == torch.float64, (name, actual[name].dtype)
        gap = (actual[name] - tensor).abs().max().item()
        worst = max(worst, gap / tensor.abs().max().item())
    print(f"worst relative difference, 2 ranks vs 1 process: {worst:.3g} "
          f"(tolerance {TOLERANCE:g})")
    if worst > TOLERANCE:
        print("FAILED")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
