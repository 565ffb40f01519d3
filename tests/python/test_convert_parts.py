"""eiprop.convert_parts on a model the rule covers only in part.

A residual MLP with BatchNorm and Dropout (p = 0.5, seeded) inside nested Sequentials: every
maximal run of Linear layers and supported activations becomes a BalancedMLP sharing the
model's parameters, the rest stays with autograd, and the report names both. Trained 3 SGD steps
in float64 side by side with an unconverted copy on the same batches (the same dropout masks),
the converted model's parameters equal the copy's to 1e-12 relative: the circuits' credit
relaxation computes exact gradients and the input credit autograd needs for the layers before
them. Also: the layers that break a run, a model with nothing to convert, and what conversion
must not change (a module in two slots, hooks, parametrizations, a Sequential subclass that
indexes its children, a failure half-way, a second call).
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
    # activation each break a run where the model has it; Identity passes inside a run.
    m = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(4, 5), torch.nn.Linear(5, 6, bias=False),
                            torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Linear(6, 2),
                            torch.nn.Identity(), torch.nn.Sigmoid(), torch.nn.Linear(3, 2))
    conversion = eiprop.convert_parts(m)
    assert [run.layers for run in conversion.circuits] == \
        [["1"], ["2", "3"], ["5", "6", "7"], ["8"]], conversion.circuits
    assert conversion.autograd == ["0 (Tanh)", "4 (Tanh)"], conversion.autograd

    # A convolution that pads by reflection is not a circuit's projection; a lone Flatten has no
    # synapses to learn.
    plain = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"),
                                torch.nn.Flatten())
    conversion = eiprop.convert_parts(plain)
    assert conversion.circuits == [] and len(conversion.autograd) == 2, conversion
    assert "0 circuit(s)" in str(conversion)


def same_output(build, converted_runs):
    """Converting keeps what the model computes (float64, eval mode); returns the report."""
    torch.manual_seed(3)
    model = build().double().eval()
    x = torch.randn(5, 4, dtype=torch.float64)
    expected = model(x)
    conversion = eiprop.convert_parts(model)
    assert [run.layers for run in conversion.circuits] == converted_runs, conversion.circuits
    actual = model(x)
    assert (actual - expected).abs().max().item() <= 1e-12 * expected.abs().max().item(), \
        (actual, expected)
    return conversion


def check_what_must_not_change():
    # A module in two slots (a shared activation, tied layers) keeps both slots.
    act, tied = torch.nn.ReLU(), torch.nn.Linear(4, 4)
    same_output(lambda: torch.nn.Sequential(torch.nn.Linear(4, 4), act, torch.nn.Linear(4, 4), act),
                [["0", "1", "2", "3"]])
    same_output(lambda: torch.nn.Sequential(tied, torch.nn.Tanh(), tied), [["0", "1", "2"]])

    # A Linear with a forward hook or a parametrization stays with autograd (the circuit would
    # read its weight and skip them).
    def hooked():
        first = torch.nn.Linear(4, 4)
        first.register_forward_hook(lambda module, inputs, output: output * 2)
        return torch.nn.Sequential(first, torch.nn.Tanh(), torch.nn.Linear(4, 2))
    conversion = same_output(hooked, [["2"]])
    assert conversion.autograd == ["0 (Linear)", "1 (Tanh)"], conversion.autograd

    def normalised():
        first = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 4))
        return torch.nn.Sequential(first, torch.nn.Tanh(), torch.nn.Linear(4, 2))
    same_output(normalised, [["2"]])

    # A Sequential subclass with its own forward may index its children: left as it is.
    class Indexing(torch.nn.Sequential):
        def forward(self, x):
            return self[2](self[1](self[0](x)))
    conversion = same_output(lambda: torch.nn.Sequential(
        Indexing(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))), [])
    assert len(conversion.autograd) == 3, conversion.autograd

    # Lazy parameters stay with autograd (their widths are unknown before the first call).
    lazy = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.LazyLinear(3))
    conversion = eiprop.convert_parts(lazy)
    assert [run.layers for run in conversion.circuits] == [["0", "1"]], conversion.circuits
    assert conversion.autograd == ["2 (LazyLinear)"], conversion.autograd

    # A failure leaves the model as it was: every circuit is built before anything changes (the
    # second Sequential's Linear has no outputs, which a circuit refuses).
    broken = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh()),
                                 torch.nn.Sequential(torch.nn.Linear(4, 0)))
    try:
        eiprop.convert_parts(broken)
    except ValueError as error:
        assert "widths" in str(error), error
    else:
        raise AssertionError("a Linear with no outputs was converted")
    assert isinstance(broken[0][0], torch.nn.Linear) and len(broken[0]) == 2, broken

    # A second call converts nothing more and does not look inside the circuits.
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.BatchNorm1d(4))
    eiprop.convert_parts(model)
    again = eiprop.convert_parts(model)
    assert again.circuits == [] and again.autograd == ["2 (BatchNorm1d)"], again


def main():
    check_equal_training()
    check_runs_and_nothing_to_convert()
    check_what_must_not_change()
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
