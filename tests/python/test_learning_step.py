"""The learning-step ops from Python: eiprop.ops.learning_step on nn.Linear parameters equals
one torch.optim.SGD step on autograd's gradient (float64, cross-entropy and squared error), bumps
the parameters' version counters as an in-place op does, and refuses parameters that require
grad in grad mode when called raw; a TorchScript module whose step calls
torch.ops.eiprop.learning_step trains exactly as eager, also after a save/load round trip."""
import io
from typing import List, Optional

from package_support import relative_error, require_package_apis

require_package_apis()

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

import eiprop  # noqa: E402

LR = 0.2
TOLERANCE = 1e-12


def model():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.Tanh(), torch.nn.Linear(9, 4)).double()


def sgd_step(reference, x, target, loss):
    out = reference(x)
    if loss == "cross_entropy":
        value = torch.nn.functional.cross_entropy(out, target)
    else:
        value = (target - out).pow(2).sum() / (2 * x.shape[0])
    torch.optim.SGD(reference.parameters(), lr=LR).zero_grad()
    value.backward()
    torch.optim.SGD(reference.parameters(), lr=LR).step()


def linears(sequential):
    return [m for m in sequential if isinstance(m, torch.nn.Linear)]


def check_wrapper():
    x = torch.randn(8, 6, dtype=torch.float64)
    for loss, target in (("cross_entropy", torch.randint(0, 4, (8,))),
                         ("squared_error", torch.randn(8, 4, dtype=torch.float64))):
        rule, reference = model(), model()
        layers = linears(rule)
        versions = [layer.weight._version for layer in layers]
        result = eiprop.ops.learning_step(x, target, [m.weight for m in layers],
                                          [m.bias for m in layers], ["tanh", "identity"], LR, loss)
        assert all(m.weight._version > v for m, v in zip(layers, versions)), "versions not bumped"
        expected_output = reference(x).detach()
        sgd_step(reference, x, target, loss)
        error = max(relative_error(a.detach(), b.detach())
                    for a, b in zip(rule.parameters(), reference.parameters()))
        assert error <= TOLERANCE, f"{loss}: {error}"
        assert relative_error(result.output, expected_output) <= TOLERANCE
        print(f"eiprop.ops.learning_step ({loss}) vs SGD on autograd: {error:.2e}")

    layers = linears(model())
    try:
        torch.ops.eiprop.learning_step(x, torch.randint(0, 4, (8,)), [m.weight for m in layers],
                                       [m.bias for m in layers], ["tanh", "identity"], LR,
                                       "cross_entropy")
    except RuntimeError as refusal:
        assert "eiprop::learning_step: weights requires grad" in str(refusal), refusal
        assert "torch.no_grad()" in str(refusal), refusal
    else:
        raise AssertionError("a raw call in grad mode on Parameters was accepted")


class Scripted(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList(linears(model()))

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        weights = [layer.weight for layer in self.layers]
        biases: List[Optional[Tensor]] = [layer.bias for layer in self.layers]
        with torch.no_grad():
            output, _, _, _, _ = torch.ops.eiprop.learning_step(
                x, target, weights, biases, ["tanh", "identity"], 0.2, "cross_entropy",
                "sweep", 0, 0.0, 1.0)
        return output


def check_torchscript():
    x = torch.randn(8, 6, dtype=torch.float64)
    target = torch.randint(0, 4, (8,))
    scripted = torch.jit.script(Scripted())
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = torch.jit.load(buffer)
    reference = model()
    for step in range(3):
        scripted(x, target)
        loaded(x, target)
        sgd_step(reference, x, target, "cross_entropy")
    for trained in (scripted, loaded):
        error = max(relative_error(a.detach(), b.detach())
                    for a, b in zip(trained.parameters(), reference.parameters()))
        assert error <= TOLERANCE, error
    print(f"TorchScript module (scripted and reloaded), 3 steps vs SGD on autograd: {error:.2e}")


if __name__ == "__main__":
    check_wrapper()
    check_torchscript()
