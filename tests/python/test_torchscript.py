"""The eiprop ops from Python and TorchScript.

Loads the eiprop shared library, checks each op from eager Python against PyTorch autograd,
scripts a module that calls all four ops, checks the scripted module equals eager, and saves it
for the C++ side (tests/test_jit_load.cpp) to load with torch::jit::load.
"""
import argparse
import sys
from typing import List, Optional

import torch
from torch import Tensor


class RuleStep(torch.nn.Module):
    """One learning step of the rule on a layered circuit, as TorchScript."""

    def __init__(self, activations: List[str], method: str, lr: float):
        super().__init__()
        self.activations = activations
        self.method = method
        self.lr = lr

    def forward(self, input: Tensor, weights: List[Tensor], biases: List[Optional[Tensor]],
                target: Tensor):
        rates, drives, iterations, residual = torch.ops.eiprop.ei_equilibrium(
            input, weights, biases, self.activations, self.method)
        credits, input_credit, _, _ = torch.ops.eiprop.credit_relaxation(
            target - rates[-1], drives, weights, self.activations, self.method)
        weight_updates, bias_updates = torch.ops.eiprop.plasticity(
            input, rates, drives, credits, self.activations, self.lr)
        excitatory, inhibitory = torch.ops.eiprop.ei_currents(input, weights[0])
        return weight_updates, bias_updates, input_credit, excitatory, inhibitory


def relative_error(actual: Tensor, expected: Tensor) -> float:
    scale = expected.abs().max().item()
    gap = (actual - expected).abs().max().item()
    return 0.0 if gap == 0 else gap / scale


def circuit(seed: int):
    gen = torch.Generator().manual_seed(seed)
    widths = [6, 8, 5, 3]
    batch = 7
    x = torch.randn(batch, widths[0], generator=gen, dtype=torch.float64)
    y = torch.randn(batch, widths[-1], generator=gen, dtype=torch.float64)
    weights = [torch.randn(widths[l + 1], widths[l], generator=gen, dtype=torch.float64)
               / widths[l] ** 0.5 for l in range(len(widths) - 1)]
    biases: List[Optional[Tensor]] = [
        0.1 * torch.randn(widths[l + 1], generator=gen, dtype=torch.float64)
        for l in range(len(widths) - 1)]
    biases[1] = None
    return x, y, weights, biases


def autograd_updates(x, y, weights, biases, activations, lr):
    x = x.clone().requires_grad_(True)
    ws = [w.clone().requires_grad_(True) for w in weights]
    bs = [None if b is None else b.clone().requires_grad_(True) for b in biases]
    rate = x
    functions = {"tanh": torch.tanh, "identity": lambda u: u, "elu": torch.nn.functional.elu}
    for w, b, activation in zip(ws, bs, activations):
        rate = functions[activation](rate @ w.t() + (0 if b is None else b))
    loss = (y - rate).pow(2).sum() / (2 * x.shape[0])
    loss.backward()
    return ([-lr * w.grad for w in ws], [None if b is None else -lr * b.grad for b in bs],
            -x.shape[0] * x.grad)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", required=True, help="path of the eiprop shared library")
    parser.add_argument("--out", required=True, help="where to save the scripted module")
    args = parser.parse_args()
    torch.ops.load_library(args.library)

    activations = ["tanh", "elu", "identity"]
    lr = 0.1
    x, y, weights, biases = circuit(0)
    step = RuleStep(activations, "jacobi", lr)
    scripted = torch.jit.script(step)
    failures = []

    def check(name: str, error: float, tol: float = 1e-10):
        status = "ok" if error <= tol else "FAILED"
        print(f"{name}: relative error {error:.2e} ({status})")
        if error > tol:
            failures.append(name)

    eager = step(x, weights, biases, y)
    traced = scripted(x, weights, biases, y)
    expected_w, expected_b, expected_input = autograd_updates(x, y, weights, biases,
                                                              activations, lr)
    for l in range(len(weights)):
        check(f"weight update {l} vs autograd", relative_error(eager[0][l], expected_w[l]))
        check(f"scripted weight update {l} vs eager", relative_error(traced[0][l], eager[0][l]), 0)
        if expected_b[l] is not None:
            check(f"bias update {l} vs autograd", relative_error(eager[1][l], expected_b[l]))
    check("input credit vs autograd", relative_error(eager[2], expected_input))
    check("E - I vs drive", relative_error(eager[3] - eager[4], x @ weights[0].t()))

    try:
        torch.ops.eiprop.ei_equilibrium(x, weights, biases, ["tanh", "swish", "identity"])
        failures.append("unknown activation accepted")
    except RuntimeError as error:
        check("error names op, argument and layer",
              0.0 if all(s in str(error) for s in
                         ("eiprop::ei_equilibrium", "activations[1] (layer 1)", "swish")) else 1.0)

    scripted.save(args.out)
    loaded = torch.jit.load(args.out)
    reloaded = loaded(x, weights, biases, y)
    check("reloaded module vs eager", relative_error(reloaded[2], eager[2]), 0)
    print(f"saved {args.out}")
    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
