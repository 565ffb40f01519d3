"""Bad input to the Python package: each refusal names the module, op or layer and the argument
(docs/bad_input.md rows 94-96)."""
from package_support import require_package_apis

require_package_apis()

import torch  # noqa: E402

import eiprop  # noqa: E402

E = torch.ops.eiprop


def refused(call, error, *fragments):
    try:
        call()
    except error as refusal:
        for fragment in fragments:
            assert fragment in str(refusal), f"'{fragment}' missing from: {refusal}"
        print(f"refused: {str(refusal).splitlines()[0][:150]}")
    else:
        raise AssertionError(f"accepted; expected a refusal naming {fragments}")


nn = torch.nn
refused(lambda: eiprop.convert(nn.Sequential(nn.Linear(6, 5), nn.Dropout(), nn.Linear(5, 2))),
        ValueError, "eiprop.convert: layer 1 (Dropout) is not supported", "LeakyReLU(0.01)")
refused(lambda: eiprop.convert(nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(0.2))),
        ValueError, "layer 1 (LeakyReLU) is not supported")
refused(lambda: eiprop.convert(nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(7, 2))),
        ValueError, "layer 2 (Linear) takes 7 inputs but the layer before gives 5")
refused(lambda: eiprop.convert(nn.Sequential(nn.Tanh(), nn.Linear(6, 5))),
        ValueError, "layer 0 (Tanh) comes before any projection layer")
refused(lambda: eiprop.nn.BalancedMLP([4, 3], learning="hebbian"), ValueError,
        "eiprop.nn.BalancedMLP: learning is 'hebbian'", "credit, autograd")
refused(lambda: eiprop.nn.BalancedMLP([4, 3, 2], activation="swish"), ValueError,
        "activation 0 is 'swish'")
refused(lambda: eiprop.nn.RecurrentCircuit([4, 3], [0], [2], ["tanh"], 1), ValueError,
        "projection 0 runs 0 -> 2")
refused(lambda: eiprop.nn.RecurrentCircuit([4, 3], [0], [1], ["tanh"], 0), ValueError,
        "eiprop.nn.RecurrentCircuit: output is 0; expected a population 1..1")
refused(lambda: eiprop.nn.RecurrentCircuit([4, 3, 2], [0], [1], ["tanh", "tanh"], 1),
        ValueError, "population 2 receives no projection")

x = torch.randn(3, 4, dtype=torch.float64)
weights = [torch.randn(5, 4, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)]
rates, drives, _ = E._circuit_forward(x, weights, [None, None], ["tanh", "identity"], "sweep",
                                      0, 0.0, 1.0)
grad = torch.ones(3, 2, dtype=torch.float64)
refused(lambda: E._circuit_backward(grad, x, weights, rates[:1], drives, ["tanh", "identity"],
                                    "sweep", 0, 0.0, 1.0, [True] * 5),
        RuntimeError, "eiprop::_circuit_backward: rates has 1 entries but the circuit has 2")
refused(lambda: E._circuit_backward(grad, x, weights, rates, drives, ["tanh", "identity"],
                                    "sweep", 0, 0.0, 1.0, [True] * 3),
        RuntimeError, "eiprop::_circuit_backward: output_mask has 3 entries but needs 5")
refused(lambda: E._circuit_backward(grad[:, :1], x, weights, rates, drives, ["tanh", "identity"],
                                    "sweep", 0, 0.0, 1.0, [True] * 5),
        RuntimeError, "eiprop::_circuit_backward: grad_output")
nan_drives = [drives[0].clone(), drives[1]]
nan_drives[0][0, 0] = float("nan")
refused(lambda: E._circuit_backward(grad, x, weights, rates, nan_drives, ["relu", "identity"],
                                    "sweep", 0, 0.0, 1.0, [True] * 5),
        RuntimeError, "eiprop::_circuit_backward: drives[0] (population 1) holds NaN or Inf")
refused(lambda: E._graph_circuit_backward(grad, x, weights, [rates[0][:2], rates[1]], drives,
                                          [0, 1], [1, 2], ["tanh", "identity"], 2, "jacobi", 0,
                                          0.0, 1.0, [True] * 5),
        RuntimeError, "eiprop::_graph_circuit_backward: rates[0] (population 1) has shape [2, 5]")
refused(lambda: E._graph_circuit_backward(grad, x, weights, rates, drives, [0, 1], [1, 2],
                                          ["tanh", "identity"], 2, "bogus", 0, 0.0, 1.0,
                                          [True] * 5),
        RuntimeError, "eiprop::_graph_circuit_backward: method")

# The backward's window winners: one per projection, a max_pool2d projection's int64 and shaped
# like its postsynaptic rates, each a flat index into the presynaptic channel's positions.
cx = torch.randn(2, 1, 4, 4, dtype=torch.float64)
conv = [torch.randn(2, 1, 1, 1, dtype=torch.float64), torch.empty(0, dtype=torch.float64),
        torch.empty(0, dtype=torch.float64), torch.randn(3, 8, dtype=torch.float64)]
kinds = ["conv2d kernel=1,1 stride=1,1 padding=0,0 dilation=1,1 groups=1",
         "max_pool2d kernel=2,2 stride=2,2 padding=0,0 dilation=1,1 ceil_mode=false", "flatten",
         "dense"]
acts = ["relu", "identity", "identity", "identity"]
crates, cdrives, cwinners = E._circuit_forward(cx, conv, [None] * 4, acts, "sweep", 0, 0.0, 1.0,
                                               kinds)
assert cwinners[1].dtype == torch.int64 and cwinners[1].shape == (2, 2, 2, 2)
assert all(cwinners[k].numel() == 0 for k in (0, 2, 3))
cgrad = torch.ones(2, 3, dtype=torch.float64)


def conv_backward(winners):
    return E._circuit_backward(cgrad, cx, conv, crates, cdrives, acts, "sweep", 0, 0.0, 1.0,
                               [True] * 9, kinds, winners)


reference = conv_backward(None)
reused = conv_backward(cwinners)
assert torch.equal(reference[0], reused[0]) and all(
    torch.equal(a, b) for a, b in zip(reference[1], reused[1])), "winners change the gradients"
# states_checked=True (the autograd kernel's promise that the states are the forward's) skips
# reading them: the same gradients from the forward's states.
trusted = E._circuit_backward(cgrad, cx, conv, crates, cdrives, acts, "sweep", 0, 0.0, 1.0,
                              [True] * 9, kinds, cwinners, True)
assert all(torch.equal(a, b) for a, b in zip(reference[1], trusted[1])), "states_checked"
refused(lambda: conv_backward(cwinners[:3]), RuntimeError,
        "eiprop::_circuit_backward: winners has 3 entries but the circuit has 4 projections")
refused(lambda: conv_backward([cwinners[0], cwinners[1].double(), cwinners[2], cwinners[3]]),
        RuntimeError, "winners[1] (projection 1, max_pool2d) has dtype Double")
refused(lambda: conv_backward([cwinners[0], cwinners[1][:1], cwinners[2], cwinners[3]]),
        RuntimeError, "winners[1] (projection 1, max_pool2d) has shape [1, 2, 2, 2]")
refused(lambda: conv_backward([cwinners[0], cwinners[1] + 16, cwinners[2], cwinners[3]]),
        RuntimeError, "winners[1] (projection 1, max_pool2d) holds indices from 1",
        "16 positions, 0..15")
refused(lambda: conv_backward([cwinners[0], cwinners[1] - 16, cwinners[2], cwinners[3]]),
        RuntimeError, "positions, 0..15")
refused(lambda: conv_backward([cwinners[1], cwinners[1], cwinners[2], cwinners[3]]),
        RuntimeError, "winners[0] (projection 0, conv2d) has shape [2, 2, 2, 2]; only a "
        "max_pool2d projection has window winners")

# The backward reads what it returns (docs/bad_input.md row 109). float32 gradients that overflow
# although every state and credit is finite are refused, and none is written:
weight = torch.ones(1, 1, requires_grad=True)
out = E.circuit(torch.tensor([[1e20]]), [weight], [None], ["identity"])
refused(lambda: out.backward(torch.full_like(out, 1e20)), RuntimeError,
        "eiprop::circuit: the gradients would hold NaN or Inf although every state and credit is "
        "finite: they overflow Float")
assert weight.grad is None
# ... but a gradient whose bound (B max|delta| max|r|) overflows while its entries do not is
# returned, equal to autograd's (2.25e38 < 3.4e38 in every entry):
x = torch.zeros(2, 5)
x[0] = 1.5e19
grad = torch.zeros(2, 5)
grad[0] = 1.5e19
weight = torch.eye(5, requires_grad=True)
E.circuit(x, [weight], [None], ["identity"]).backward(grad)
assert torch.isfinite(weight.grad).all() and torch.equal(weight.grad, grad.t() @ x), weight.grad
# An Inf that the output hides behind a saturating activation (relu overflows, tanh(inf) = 1): the
# forward returns what autograd's does, the backward refuses the gradients it would poison,
# naming the population.
weights = [torch.full((1, 1), 1e20, requires_grad=True), torch.ones(1, 1, requires_grad=True),
           torch.ones(1, 1, requires_grad=True)]
x = torch.tensor([[1e20]])
out = E.circuit(x, weights, [None] * 3, ["relu", "tanh", "identity"])
assert torch.equal(out, torch.tanh(weights[1] @ torch.relu(weights[0] @ x.t())).t() @ weights[2].t())
refused(lambda: out.backward(torch.ones_like(out)), RuntimeError,
        "eiprop::circuit: the firing rates of population 1 hold NaN or Inf")
assert all(w.grad is None for w in weights)
print("bad input: every refusal names what it refused")
