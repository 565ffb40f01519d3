"""torch.compile and torch.export of eiprop modules.

- torch.compile(model, fullgraph=True) of a BalancedMLP (eiprop::circuit) and a recurrent
  RecurrentCircuit (eiprop::graph_circuit), backends aot_eager and inductor (CPU): 3 SGD steps,
  float64; the weights equal eager's to <= 1e-12 relative.
- torch.export.export of both in inference; the saved .pt2 reloads and gives the same outputs.
- The relaxation wrappers (eiprop.ops.ei_equilibrium, ...) inside a compiled function run
  eagerly (a graph break); with fullgraph=True the call is refused naming the op.
"""
import os
import tempfile
import time

from package_support import relative_error, require_package_apis

require_package_apis()

import torch  # noqa: E402

import eiprop  # noqa: E402

TOLERANCE = 1e-12


def balanced_mlp():
    torch.manual_seed(0)
    return eiprop.nn.BalancedMLP([12, 10, 4], dtype=torch.float64)


def recurrent_circuit():
    torch.manual_seed(0)
    model = eiprop.nn.RecurrentCircuit([12, 10, 4], pre=[0, 1, 1], post=[1, 1, 2],
                                       activations=["tanh", "identity"], output=2,
                                       dtype=torch.float64)
    with torch.no_grad():
        model.weight_1_1.mul_(0.5)  # a contracting loop
    return model


def train(model, backend):
    step_of = model if backend is None else torch.compile(model, backend=backend, fullgraph=True)
    generator = torch.Generator().manual_seed(1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        x = torch.randn(16, 12, generator=generator, dtype=torch.float64)
        target = torch.randint(0, 4, (16,), generator=generator)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(step_of(x), target).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def check_compile():
    for make in (balanced_mlp, recurrent_circuit):
        eager = train(make(), None)
        for backend in ("aot_eager", "inductor"):
            torch._dynamo.reset()
            start = time.perf_counter()
            compiled = train(make(), backend)
            worst = max(relative_error(c, e) for c, e in zip(compiled, eager))
            print(f"compile: {make.__name__}, {backend}: 3 steps, worst relative difference to "
                  f"eager {worst:.3g} ({time.perf_counter() - start:.1f} s with compilation)")
            assert worst <= TOLERANCE, f"{make.__name__} {backend}: {worst} > {TOLERANCE}"


def check_export():
    x = torch.randn(5, 12, dtype=torch.float64)
    with tempfile.TemporaryDirectory() as directory:
        for make in (balanced_mlp, recurrent_circuit):
            model = make().eval()
            program = torch.export.export(model, (x,))
            targets = {str(node.target) for node in program.graph.nodes}
            assert any("eiprop." in target for target in targets), targets
            path = os.path.join(directory, f"{make.__name__}.pt2")
            torch.export.save(program, path)
            reloaded = torch.export.load(path).module()
            with torch.no_grad():
                gap = relative_error(reloaded(x), model(x))
            print(f"export: {make.__name__}: saved, reloaded, output difference {gap:.3g}")
            assert gap == 0.0


def check_graph_break():
    x = torch.rand(4, 6)
    weights = [torch.randn(5, 6) / 3, torch.randn(2, 5) / 3]

    def rates_of(x):
        return eiprop.ops.ei_equilibrium(x * 2, weights, [None, None], ["tanh", "identity"]).rates

    eager = rates_of(x)
    torch._dynamo.reset()
    compiled = torch.compile(rates_of, backend="aot_eager")(x)
    assert all(torch.equal(a, b) for a, b in zip(eager, compiled))
    torch._dynamo.reset()

    def direct(x):
        return torch.ops.eiprop.ei_equilibrium(x * 2, weights, [None, None],
                                               ["tanh", "identity"])[0]

    try:
        torch.compile(direct, backend="aot_eager", fullgraph=True)(x)
    except Exception as refusal:  # torch._dynamo.exc.Unsupported
        assert "eiprop.ei_equilibrium" in str(refusal), refusal
    else:
        raise AssertionError("fullgraph=True traced ei_equilibrium's statistics")
    print("compile: the relaxation ops run eagerly between compiled regions; fullgraph refuses "
          "them naming the op")


if __name__ == "__main__":
    torch.set_num_threads(1)
    check_compile()
    check_export()
    check_graph_break()
