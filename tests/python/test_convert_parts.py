"""eiprop.convert_parts on a model the rule covers only in part.

A residual MLP with BatchNorm and Dropout (p = 0.5, seeded) inside nested Sequentials: every
maximal run of Linear layers and supported activations becomes a BalancedMLP sharing the
model's parameters, the rest stays with autograd, and the report names both. Trained 3 SGD steps
in float64 side by side with an unconverted copy on the same batches (the same dropout masks),
the converted model's parameters equal the copy's to 1e-12 relative: the circuits' credit
relaxation computes exact gradients and the input credit autograd needs for the layers before
them. Also: a model with nothing to convert, and the layers that break a run.
"""
import copy
import sys

import torch

import eiprop
from eiprop.nn import BalancedMLP

TOLERANCE = 1e-12


class Residual(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.Tanh(),
                                        torch.nn.Linear(width, width))
        self.norm = torch.nn.BatchNorm1d(width)

    def forward(self, x):
        return self.norm(x + self.body(x))


def model():
    return torch.nn.Sequential(
        torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
        torch.nn.BatchNorm1d(16), torch.nn.Dropout(0.5),
        Residual(16),
        torch.nn.Linear(16, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 3))


def check_equal_training():
    torch.manual_seed(0)
    reference = model().double()
    converted = copy.deepcopy(reference)
    first_linears = (converted[0], converted[2])
    conversion = eiprop.convert_parts(converted)
    print(conversion)
    assert conversion.model is converted
    assert [str(run) for run in conversion.circuits] == [
        "0-3 (Linear, Tanh, Linear, ReLU) -> circuit 0",
        "6.body.0-2 (Linear, Tanh, Linear) -> circuit 6.body.0",
        "7-9 (Linear, Sigmoid, Linear) -> circuit 7",
    ], conversion.circuits
    assert conversion.autograd == ["4 (BatchNorm1d)", "5 (Dropout)", "6.norm (BatchNorm1d)"], \
        conversion.autograd
    # The Sequential holds each circuit under its run's first name ("0", "6", "7" remain).
    assert list(converted._modules) == ["0", "4", "5", "6", "7"], list(converted._modules)
    circuit = converted._modules["0"]
    assert isinstance(circuit, BalancedMLP)
    assert isinstance(converted._modules["6"].body._modules["0"], BalancedMLP)
    assert all(m.learning == "credit" for m in converted.modules() if isinstance(m, BalancedMLP))
    # The circuit's layers are the model's own Linear modules (the same parameter objects).
    assert (circuit.layer0, circuit.layer1) == first_linears
    assert sum(p.numel() for p in converted.parameters()) == \
        sum(p.numel() for p in reference.parameters())

    optimisers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (reference, converted)]
    generator = torch.Generator().manual_seed(1)
    for step in range(3):
        x = torch.randn(32, 12, dtype=torch.float64, generator=generator)
        y = torch.randint(0, 3, (32,), generator=generator)
        for m, optimiser in zip((reference, converted), optimisers):
            torch.manual_seed(100 + step)  # the same dropout mask in both
            loss = torch.nn.functional.cross_entropy(m(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    worst = 0.0
    for (name, expected), actual in zip(reference.named_parameters(), converted.parameters()):
        assert expected.shape == actual.shape, name
        worst = max(worst, ((actual - expected).abs().max() / expected.abs().max()).item())
    print(f"worst relative parameter difference after 3 steps: {worst:.3g} "
          f"(tolerance {TOLERANCE:g})")
    assert worst <= TOLERANCE, worst
    # Buffers (BatchNorm's running statistics) moved alike.
    for (name, expected), actual in zip(reference.named_buffers(), converted.buffers()):
        assert torch.allclose(actual.double(), expected.double(), rtol=1e-12, atol=0), name


def check_runs_and_nothing_to_convert():
    # A bias change, widths that do not chain, two activations in a row and a leading
    # activation each break a run where the model has it.
    m = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(4, 5), torch.nn.Linear(5, 6, bias=False),
                            torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    conversion = eiprop.convert_parts(m)
    assert [run.layers for run in conversion.circuits] == [["1"], ["2", "3"], ["5"]], \
        conversion.circuits
    assert conversion.autograd == ["0 (Tanh)", "4 (Tanh)"], conversion.autograd
    assert m(torch.randn(3, 4)).shape == (3, 2)

    plain = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten())
    conversion = eiprop.convert_parts(plain)
    assert conversion.circuits == [] and len(conversion.autograd) == 2, conversion
    assert "0 circuit(s)" in str(conversion)


def main():
    check_equal_training()
    check_runs_and_nothing_to_convert()
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
