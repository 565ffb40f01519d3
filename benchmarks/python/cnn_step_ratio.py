"""The CNN's training step from Python, the rule against autograd, interleaved in one process.

The LeNet-style CNN of examples/python/cnn_ab.py (conv 5x5 -> ReLU -> max-pool 2, twice, then
dense layers; Fashion-MNIST-sized input [B, 1, 28, 28], float32, cross-entropy), one SGD step
with lr from the same initial weights on the same batches:

  autograd        the torch.nn layers + backward() + torch.optim.SGD (the reference)
  circuit         eiprop.convert of those layers (an eiprop.nn.SequentialCircuit, credit
                  learning) + backward() + torch.optim.SGD
  learning_step   torch.ops.eiprop.learning_step on the circuit's weights: the rule in place

Every repetition runs every contestant once, in a fresh random order, after --warmup untimed
steps of each; the table shows medians and the ratio of medians to autograd's, and each path's
relative weight difference from autograd's after all steps and the minor page faults it took per
step (`faults`, autograd's in brackets; --heap kept removes them for every contestant). Target:
<= 1.05x autograd.
"""
import argparse
import copy
import os
import sys

import torch
import torch.nn.functional as F

import eiprop
from step_ratio import interleaved, start_timing, timing_arguments, write_json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                                os.pardir, "examples", "python"))
from cnn_ab import lenet  # noqa: E402  (the example's network, not a copy of it)

TARGET = 1.05


def contestants(lr, seed, method):
    torch.manual_seed(seed)
    reference = lenet((8, 16), 64)
    circuit = eiprop.convert(copy.deepcopy(reference), method=method)
    in_place = eiprop.convert(copy.deepcopy(reference), method=method)
    optimisers = {name: torch.optim.SGD(model.parameters(), lr=lr)
                  for name, model in (("autograd", reference), ("circuit", circuit))}

    def sgd_step(name, model):
        def step(x, y):
            optimisers[name].zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimisers[name].step()
        return step

    def learning_step(x, y):
        with torch.no_grad():
            torch.ops.eiprop.learning_step(x, y, in_place.weights, in_place.biases,
                                           in_place.activations, lr, "cross_entropy", method,
                                           0, 0.0, 1.0, in_place.projections)

    return ({"autograd": sgd_step("autograd", reference), "circuit": sgd_step("circuit", circuit),
             "learning_step": learning_step},
            {"autograd": reference, "circuit": circuit, "learning_step": in_place})


def relative_difference(model, reference):
    worst = 0.0
    for a, b in zip(model.parameters(), reference.parameters()):
        worst = max(worst, ((a - b).abs().max() / b.abs().max()).item())
    return worst


def measure(batch, args, clock):
    generator = torch.Generator().manual_seed(args.seed)
    batches = [(torch.rand(batch, 1, 28, 28, generator=generator),
                torch.randint(0, 10, (batch,), generator=generator)) for _ in range(4)]
    steps, models = contestants(args.lr, args.seed, args.method)
    medians, samples, faults = interleaved(steps, batches, args, clock)
    return [{"batch": batch, "method": args.method, "path": key, "step_ms": medians[key] * 1e3,
             "autograd_ms": medians["autograd"] * 1e3,
             "ratio": medians[key] / medians["autograd"], "target": TARGET,
             "meets_target": medians[key] / medians["autograd"] <= TARGET,
             "weight_difference": relative_difference(models[key], models["autograd"]),
             "page_faults_per_step": faults[key],
             "autograd_page_faults_per_step": faults["autograd"],
             "repetitions": len(samples[key])}
            for key in steps if key != "autograd"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="64,256", help="batch sizes, comma-separated")
    parser.add_argument("--method", default="sweep")
    timing_arguments(parser)
    args = parser.parse_args(argv)
    clock = start_timing(parser, args)
    rows = []
    print(f"{'batch':>6}  {'method':<8}{'path':<15}{'step ms':>9}{'autograd ms':>12}{'ratio':>7}"
          f"{'target':>9}{'weight diff':>12}  faults")
    for batch in (int(b) for b in args.batches.split(",")):
        for row in measure(batch, args, clock):
            rows.append(row)
            target = ("" if row["meets_target"] else "MISS") + f"<={row['target']:.2f}"
            print(f"{row['batch']:>6}  {row['method']:<8}{row['path']:<15}{row['step_ms']:>9.3f}"
                  f"{row['autograd_ms']:>12.3f}{row['ratio']:>7.3f}{target:>9}"
                  f"{row['weight_difference']:>12.1e}  {row['page_faults_per_step']:.0f} "
                  f"({row['autograd_page_faults_per_step']:.0f})", flush=True)
    write_json(args, rows, dtype="float32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
