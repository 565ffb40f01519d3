"""TorchScript, Python side of the round trip: a torch.nn.Module whose forward is
torch.ops.eiprop.circuit is scripted, trained a few SGD steps with .backward(), and saved.

The saved module carries its training batch and the parameters that three more Python steps
reach, so tests/test_jit_train.cpp can continue the training in C++ and compare.
"""
import argparse
import sys

import torch
import torch.nn.functional as F
from typing import List, Optional

from torch import Tensor


class ScriptedCircuit(torch.nn.Module):
    def __init__(self, activations, method: str, lr: float):
        super().__init__()
        gen = torch.Generator().manual_seed(7)
        self.w0 = torch.nn.Parameter(torch.randn(8, 6, generator=gen, dtype=torch.float64) / 6 ** 0.5)
        self.b0 = torch.nn.Parameter(0.1 * torch.randn(8, generator=gen, dtype=torch.float64))
        self.w1 = torch.nn.Parameter(torch.randn(3, 8, generator=gen, dtype=torch.float64) / 8 ** 0.5)
        self.b1 = torch.nn.Parameter(0.1 * torch.randn(3, generator=gen, dtype=torch.float64))
        self.activations = activations
        self.method = method
        self.lr = lr
        self.register_buffer("x", torch.randn(16, 6, generator=gen, dtype=torch.float64))
        self.register_buffer("y", torch.randint(0, 3, (16,), generator=gen))

    def forward(self, x: Tensor) -> Tensor:
        biases: List[Optional[Tensor]] = [self.b0, self.b1]
        return torch.ops.eiprop.circuit(x, [self.w0, self.w1], biases, self.activations,
                                        self.method)


def train(module, steps: int):
    optimizer = torch.optim.SGD(list(module.parameters()), lr=module.lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(module(module.x), module.y).backward()
        optimizer.step()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--library", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.ops.load_library(args.library)

    module = torch.jit.script(ScriptedCircuit(["tanh", "identity"], "jacobi", 0.2))
    train(module, 3)
    module.save(args.out)
    # Python's own continuation, from the saved file, as the C++ side will do.
    continued = torch.jit.load(args.out)
    train(continued, 3)
    expected = dict(continued.named_parameters())
    expected = {name: value.detach().clone() for name, value in expected.items()}
    torch.jit.save(torch.jit.script(Expected(expected)), args.out + ".expected")
    print(f"saved {args.out} after 3 steps; expected parameters after 6 steps in {args.out}.expected")
    return 0


class Expected(torch.nn.Module):
    """Holds the parameters Python reaches after three more steps, as buffers."""

    def __init__(self, tensors):
        super().__init__()
        for name, value in tensors.items():
            self.register_buffer(name, value)

    def forward(self, x: Tensor) -> Tensor:
        return x


if __name__ == "__main__":
    sys.exit(main())
