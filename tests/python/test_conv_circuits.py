"""Convolutional circuits from Python: conv2d, pooling and flatten projections.

- Random chains of Conv2d (kernel 1-5, stride 1-2, padding 0-2, dilation 1-2, groups 1 / 2 /
  depthwise), MaxPool2d, AvgPool2d (padded, ceil_mode, count_include_pad off), Flatten and
  Linear with every activation, as an eiprop.nn.SequentialCircuit: the output and the gradients
  of the input and of every parameter equal autograd's through the same layers, for every method,
  float64 <= 1e-10 relative and float32 <= 1e-4.
- eiprop.convert of a LeNet-style Sequential, and eiprop::learning_step on its layers: the
  weights after one step equal autograd's SGD step.
- eiprop.convert_parts of a residual CNN with BatchNorm2d: 3 SGD steps equal the unconverted
  model's to 1e-12 relative; the report names the circuits and the layers left to autograd.
- torch.compile(fullgraph=True) of a convolutional circuit's training step equals eager.
- Bad input: each refusal names the op (or the converter), the argument and the layer.
"""
import copy
import itertools
import random
import sys

import torch

import eiprop
from eiprop import projections
from eiprop.nn import SequentialCircuit

METHODS = ("sweep", "jacobi", "euler", "anderson")
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}
ACTIVATION_MODULES = {
    "identity": torch.nn.Identity, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
    "relu": torch.nn.ReLU, "leaky_relu": torch.nn.LeakyReLU, "softplus": torch.nn.Softplus,
    "elu": torch.nn.ELU,
}


def random_chain(rng: random.Random, dtype, activations, kernels):
    """(input shape, layers): conv and pooling stages on a random input, then flatten and dense;
    the activations and kernel sizes are drawn in turn from `activations` and `kernels`
    (iterators that cycle, so that the chains together use each one)."""
    channels, size = rng.choice([1, 2, 4]), rng.randint(9, 13)
    input_shape = (channels, size, size)
    layers = []
    for _ in range(rng.randint(1, 3)):
        groups = rng.choice([1, 2, channels])  # channels: depthwise
        if channels % groups:
            groups = 1
        out = rng.choice([1, 2]) * groups
        kernel, dilation = next(kernels), rng.randint(1, 2)
        padding, stride = rng.randint(0, 2), rng.randint(1, 2)
        while size + 2 * padding - dilation * (kernel - 1) < 3:
            kernel = max(1, kernel - 1)
            dilation = 1
        layers.append(torch.nn.Conv2d(channels, out, kernel, stride=stride, padding=padding,
                                      dilation=dilation, groups=groups, dtype=dtype))
        size = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        channels = out
        layers.append(ACTIVATION_MODULES[next(activations)]())
        if size >= 4 and rng.random() < 0.7:
            if rng.random() < 0.5:
                layers.append(torch.nn.MaxPool2d(2, stride=rng.randint(1, 2),
                                                 padding=rng.randint(0, 1),
                                                 dilation=rng.randint(1, 2) if size >= 6 else 1,
                                                 ceil_mode=rng.random() < 0.5))
            else:
                layers.append(torch.nn.AvgPool2d(3, stride=2, padding=1,
                                                 ceil_mode=rng.random() < 0.5,
                                                 count_include_pad=rng.random() < 0.5))
            with torch.no_grad():
                size = layers[-1](torch.zeros(1, 1, size, size, dtype=dtype)).shape[-1]
            if rng.random() < 0.5:
                layers.append(ACTIVATION_MODULES[next(activations)]())
    layers.append(torch.nn.Flatten())
    layers.append(torch.nn.Linear(channels * size * size, 5, dtype=dtype))
    layers.append(ACTIVATION_MODULES[next(activations)]())
    return input_shape, layers


def relative(actual: torch.Tensor, expected: torch.Tensor) -> float:
    scale = expected.abs().max().item()
    return (actual - expected).abs().max().item() / (scale if scale > 0 else 1.0)


def check_equivalence():
    rng = random.Random(7)
    activations = itertools.cycle(ACTIVATION_MODULES)
    kernels = itertools.cycle(range(1, 6))
    used, convs = set(), []
    worst = {}
    for chain in range(4):
        for dtype in (torch.float64, torch.float32):
            torch.manual_seed(chain)
            shape, layers = random_chain(rng, dtype, activations, kernels)
            used.update(type(layer) for layer in layers)
            convs += [m for m in layers if isinstance(m, torch.nn.Conv2d)]
            x = torch.randn(3, *shape, dtype=dtype)
            for method in METHODS:
                circuit = SequentialCircuit(layers, method=method)
                grads = {}
                for learning in ("credit", "autograd"):
                    circuit.set_learning(learning)
                    circuit.zero_grad()
                    xr = x.clone().requires_grad_()
                    out = circuit(xr)
                    out.backward(torch.linspace(-1, 1, out.numel(), dtype=dtype).view_as(out))
                    grads[learning] = [out.detach(), xr.grad] + [
                        p.grad.clone() for p in circuit.parameters()]
                error = max(relative(a, b) for a, b in zip(grads["credit"], grads["autograd"]))
                key = (method, str(dtype).split(".")[-1])
                worst[key] = max(worst.get(key, 0.0), error)
                assert error <= TOLERANCE[dtype], (chain, method, dtype, error, layers)
    assert {ACTIVATION_MODULES[name] for name in ACTIVATION_MODULES} <= used, used
    for kind in (torch.nn.MaxPool2d, torch.nn.AvgPool2d):
        assert kind in used, kind
    settings = {(m.kernel_size[0], m.stride[0], m.padding[0], m.dilation[0],
                 "depthwise" if m.groups == m.in_channels > 1 else m.groups) for m in convs}
    print(f"{len(convs)} convolutions; (kernel, stride, padding, dilation, groups): "
          f"{sorted(settings, key=str)}")
    for position, values in enumerate(([1, 2, 3, 4, 5], [1, 2], [0, 1, 2], [1, 2],
                                       [1, 2, "depthwise"])):
        assert set(values) <= {setting[position] for setting in settings}, (position, settings)
    for (method, dtype), error in sorted(worst.items()):
        print(f"{method:8s} {dtype}: worst relative error against autograd {error:.3g}")


def lenet(dtype=torch.float64):
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 8, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 5 * 5, 16), torch.nn.ReLU(),
        torch.nn.Linear(16, 10)).to(dtype)


def check_lenet_and_learning_step():
    torch.manual_seed(0)
    reference = lenet()
    circuit = eiprop.convert(copy.deepcopy(reference))
    assert isinstance(circuit, SequentialCircuit), type(circuit)
    assert circuit.projections[1].startswith("max_pool2d"), circuit.projections
    x = torch.randn(8, 1, 28, 28, dtype=torch.float64)
    y = torch.randint(0, 10, (8,))
    # Autograd's SGD step on the reference; the learning-step op on the circuit's own layers.
    torch.nn.functional.cross_entropy(reference(x), y).backward()
    with torch.no_grad():
        for p in reference.parameters():
            p -= 0.1 * p.grad
    step = eiprop.ops.learning_step(x, y, circuit.weights, circuit.biases, circuit.activations,
                                    0.1, "cross_entropy", projections=circuit.projections)
    assert step.output.shape == (8, 10)
    worst = max(relative(a, b) for a, b in zip(circuit.parameters(), reference.parameters()))
    print(f"learning_step on LeNet: worst relative weight difference from autograd's SGD step "
          f"{worst:.3g}")
    assert worst <= 1e-12, worst


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(channels, channels, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(channels, channels, 3, padding=1))
        self.norm = torch.nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.norm(x + self.body(x)))


def residual_cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        ResidualBlock(4),
        torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(8 * 2 * 2, 10))


def check_residual_cnn():
    torch.manual_seed(0)
    reference = residual_cnn().double()
    converted = copy.deepcopy(reference)
    conversion = eiprop.convert_parts(converted)
    print(conversion)
    assert [str(run) for run in conversion.circuits] == [
        "0-2 (Conv2d, ReLU, MaxPool2d) -> circuit 0",
        "3.body.0-2 (Conv2d, ReLU, Conv2d) -> circuit 3.body.0",
        "4-8 (Conv2d, Tanh, AvgPool2d, Flatten, Linear) -> circuit 4",
    ], conversion.circuits
    assert conversion.autograd == ["3.norm (BatchNorm2d)"], conversion.autograd
    optimisers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (reference, converted)]
    generator = torch.Generator().manual_seed(1)
    for _ in range(3):
        x = torch.randn(16, 1, 16, 16, dtype=torch.float64, generator=generator)
        y = torch.randint(0, 10, (16,), generator=generator)
        for model, optimiser in zip((reference, converted), optimisers):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimiser.step()
    worst = max(relative(a, b) for a, b in zip(converted.parameters(), reference.parameters()))
    print(f"residual CNN, 3 SGD steps: worst relative parameter difference {worst:.3g}")
    assert worst <= 1e-12, worst


def check_three_ops():
    """The relaxation and plasticity operators themselves, layered and graph, on a convolutional
    chain: ei_equilibrium -> credit_relaxation -> plasticity give -lr times autograd's gradients
    of 1/(2B) sum ||y - r||^2 (float64)."""
    torch.manual_seed(4)
    circuit = eiprop.convert(lenet())
    x = torch.randn(6, 1, 28, 28, dtype=torch.float64)
    y = torch.randn(6, 10, dtype=torch.float64)
    circuit.set_learning("autograd")
    circuit.zero_grad()
    (0.5 * (y - circuit(x)).square().sum() / 6).backward()
    expected = [p.grad for p in circuit.parameters()]
    W, A, K = circuit.weights, circuit.activations, circuit.projections
    pre, post = list(range(len(W))), list(range(1, len(W) + 1))
    lr = 0.1
    with torch.no_grad():
        rates, drives = eiprop.ops.ei_equilibrium(x, W, circuit.biases, A, projections=K)[:2]
        credits = eiprop.ops.credit_relaxation(y - rates[-1], drives, W, A, input_credit=False,
                                               projections=K).credits
        layered = eiprop.ops.plasticity(x, rates, drives, credits, A, lr, projections=K)
        g_rates, g_drives = eiprop.ops.graph_equilibrium(x, W, circuit.biases, pre, post, A,
                                                         projections=K)[:2]
        g_credits = eiprop.ops.graph_credit_relaxation(
            y - g_rates[-1], len(W), g_drives, W, pre, post, A, input_credit=False,
            projections=K).credits
        graph = eiprop.ops.graph_plasticity(x, g_rates, g_drives, g_credits, pre, post, A, lr,
                                            projections=K)
    for updates in (layered, graph):
        plastic = [k for k, w in enumerate(W) if w.numel()]
        assert all(updates.weight_updates[k].numel() == 0 for k in range(len(W))
                   if k not in plastic)
        actual = []
        for k in plastic:
            actual += [updates.weight_updates[k], updates.bias_updates[k]]
        worst = max(relative(a, -lr * e) for a, e in zip(actual, expected))
        assert worst <= 1e-10, worst
    print(f"three ops (layered and graph) on LeNet against autograd: worst relative error "
          f"{worst:.3g}")


def check_edge_cases():
    """What the review of the first version found: a ceil_mode window that starts inside the
    input although the input is smaller than the window, an Identity between a projection and
    its activation, a Flatten that convert_parts must leave to autograd, a placeholder of another
    dtype."""
    torch.manual_seed(1)
    layers = [torch.nn.Conv2d(1, 2, 1, dtype=torch.float64), torch.nn.Identity(), torch.nn.Tanh(),
              torch.nn.MaxPool2d(3, 2, ceil_mode=True), torch.nn.Flatten(),
              torch.nn.Linear(2, 3, dtype=torch.float64)]
    circuit = SequentialCircuit(layers)
    assert circuit.activations[0] == "tanh", circuit.activations
    x = torch.randn(4, 1, 2, 2, dtype=torch.float64)
    grads = {}
    for learning in ("credit", "autograd"):
        circuit.set_learning(learning)
        circuit.zero_grad()
        circuit(x).square().sum().backward()
        grads[learning] = [p.grad.clone() for p in circuit.parameters()]
    assert all(relative(a, b) <= 1e-12 for a, b in zip(grads["credit"], grads["autograd"]))

    # A Flatten before any convolution or pooling stays with autograd (it may flatten an input
    # the circuit would not take), and the model runs as before.
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    conversion = eiprop.convert_parts(model)
    assert [run.layers for run in conversion.circuits] == [["1"]], conversion.circuits
    assert model(torch.rand(2, 28, 28)).shape == (2, 10)

    # A float32 CPU placeholder beside float64 weights: nothing reads it.
    weights = [torch.randn(4, 1, 3, 3, dtype=torch.float64), torch.empty(0),
               torch.randn(5, 64, dtype=torch.float64)]
    kinds = [projections.conv2d(3, 1, 1, 1, 1), projections.flatten(), projections.dense()]
    drives = eiprop.ops.ei_equilibrium(torch.rand(2, 1, 4, 4, dtype=torch.float64), weights,
                                       [None] * 3, ["tanh", "identity", "identity"],
                                       projections=kinds).drives
    credits = eiprop.ops.credit_relaxation(torch.randn(2, 5, dtype=torch.float64), drives,
                                           weights, ["tanh", "identity", "identity"],
                                           input_credit=False, projections=kinds)
    assert credits.credits[0].shape == (2, 4, 4, 4)
    print("edge cases: ceil_mode window, Identity before an activation, a leading Flatten, a "
          "placeholder of another dtype: passed")


def check_compile():
    torch.manual_seed(0)
    circuit = eiprop.convert(lenet())
    x = torch.randn(4, 1, 28, 28, dtype=torch.float64)

    def step(model):
        model.zero_grad()
        loss = model(x).square().sum()
        loss.backward()
        return [loss.detach()] + [p.grad.clone() for p in model.parameters()]

    eager = step(circuit)
    compiled = step(torch.compile(circuit, fullgraph=True, backend="aot_eager"))
    worst = max(relative(a, b) for a, b in zip(compiled, eager))
    print(f"torch.compile(fullgraph=True) against eager: {worst:.3g}")
    assert worst == 0.0, worst


def refused(call, needles):
    try:
        call()
    except (RuntimeError, ValueError) as error:
        text = str(error).split("\n")[0]
        for needle in needles:
            assert needle in text, (needle, text)
        print(f"refused: {text}")
        return
    raise AssertionError(f"not refused: {needles}")


def check_bad_input():
    x = torch.randn(2, 3, 8, 8)
    conv = torch.randn(4, 3, 3, 3)
    empty = torch.empty(0)
    C = projections.conv2d(3, 1, 1, 1, 1)
    circuit = torch.ops.eiprop.circuit
    # Channels: the weight takes 2 channels, the input has 3.
    refused(lambda: circuit(x, [torch.randn(4, 2, 3, 3)], [None], ["tanh"], "sweep", 0, 0.0, 1.0,
                            [C]),
            ["eiprop::circuit", "weights[0] (layer 0)", "takes 2 channels", "[3, 8, 8]"])
    # The kernel the entry names is not the weight's.
    refused(lambda: circuit(x, [conv], [None], ["tanh"], "sweep", 0, 0.0, 1.0,
                            [projections.conv2d(5, 1, 2, 1, 1)]),
            ["eiprop::circuit", "weights[0] (layer 0)", "kernel=5,5"])
    # Every key is required; an unknown kind is named.
    refused(lambda: circuit(x, [conv], [None], ["tanh"], "sweep", 0, 0.0, 1.0,
                            ["conv2d kernel=3,3 stride=1,1 padding=1,1 groups=1"]),
            ["eiprop::circuit", "projections[0]", "lacks dilation="])
    refused(lambda: circuit(x, [conv], [None], ["tanh"], "sweep", 0, 0.0, 1.0, ["conv3d"]),
            ["eiprop::circuit", "projections[0]", "kind 'conv3d'"])
    # A pooling projection's weight is an empty placeholder; its window must fit.
    refused(lambda: circuit(x, [conv], [None], ["identity"], "sweep", 0, 0.0, 1.0,
                            [projections.max_pool2d(2, 2, 0, 1, False)]),
            ["eiprop::circuit", "weights[0] (layer 0)", "empty placeholder"])
    refused(lambda: circuit(x, [empty], [None], ["identity"], "sweep", 0, 0.0, 1.0,
                            [projections.avg_pool2d(9, 1, 0, False, True)]),
            ["eiprop::circuit", "weights[0] (layer 0)", "does not fit"])
    # A dense weight behind a [C, H, W] population without a flatten.
    refused(lambda: circuit(x, [conv, torch.randn(5, 4 * 8 * 8)], [None, None],
                            ["tanh", "identity"], "sweep", 0, 0.0, 1.0, [C, "dense"]),
            ["eiprop::circuit", "population 1", "[4, 8, 8]", "flatten"])
    # A bias of a [C, H, W] population has one entry per channel.
    refused(lambda: circuit(x, [conv], [torch.randn(5)], ["tanh"], "sweep", 0, 0.0, 1.0, [C]),
            ["eiprop::circuit", "biases[0] (population 1)", "one bias per channel"])
    # The loss of a learning step takes an [N] population.
    refused(lambda: eiprop.ops.learning_step(x, torch.randn(2, 4, 8, 8), [conv.clone()], [None],
                                             ["tanh"], 0.1, "squared_error", projections=[C]),
            ["eiprop::learning_step", "output population 1", "[4, 8, 8]"])
    # The input credit needs the input's shape, which drives behind a stride do not fix.
    drive = torch.randn(2, 4, 4, 4)
    refused(lambda: eiprop.ops.credit_relaxation(drive, [drive], [conv], ["tanh"],
                                                 projections=[projections.conv2d(3, 2, 1, 1, 1)]),
            ["eiprop::credit_relaxation", "input_credit=True"])
    credits = eiprop.ops.credit_relaxation(drive, [drive], [conv], ["tanh"], input_credit=False,
                                           projections=[projections.conv2d(3, 2, 1, 1, 1)])
    assert credits.input_credit is None and credits.credits[0].shape == drive.shape
    # Without the input's shape the weight's output channels must still be the drives'.
    refused(lambda: eiprop.ops.credit_relaxation(
        torch.randn(2, 5, 4, 4), [torch.randn(2, 5, 4, 4)], [conv], ["tanh"], input_credit=False,
        projections=[projections.conv2d(3, 2, 1, 1, 1)]),
        ["eiprop::credit_relaxation", "weights[0] (layer 0)", "4 output channels",
         "[5, 4, 4]"])
    # A projections list of the wrong length names the list it is counted against.
    refused(lambda: eiprop.ops.plasticity(x, [x], [x], [x], ["tanh"], 0.1,
                                          projections=["dense", "dense"]),
            ["eiprop::plasticity", "projections has 2 entries but drives has 1"])
    # The converters name the layer and the setting they cannot take.
    refused(lambda: eiprop.convert(torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), torch.nn.ReLU())),
        ["eiprop.convert", "layer 0 (Conv2d)", "padding_mode='reflect'"])
    refused(lambda: eiprop.convert(torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))),
        ["eiprop.convert", "layer 1 (BatchNorm2d)", "not supported"])
    refused(lambda: SequentialCircuit([torch.nn.MaxPool2d(2), torch.nn.Flatten()]),
            ["SequentialCircuit", "no Linear or Conv2d"])


def main():
    check_equivalence()
    check_lenet_and_learning_step()
    check_residual_cnn()
    check_three_ops()
    check_edge_cases()
    check_compile()
    check_bad_input()
    print("conv circuits: ok")


if __name__ == "__main__":
    sys.exit(main())
