"""torch.library.opcheck on every operator, gradcheck on circuit and graph_circuit.

opcheck runs each op on real tensors and checks its schema (no undeclared mutation or aliasing),
its autograd registration, its fake kernel against the real results (shapes, dtypes, strides)
and an AOT-dispatch trace with dynamic shapes, on CPU tensors in float32 and float64, with and
without requires_grad. The relaxations return solver statistics (data-dependent scalars): their
fake kernels raise DataDependentOutputException by design (eiprop/_fake.py), so for them opcheck
runs the schema and autograd-registration checks, and the test checks the refusal itself.
"""
import inspect

from package_support import require_package_apis

require_package_apis()

import torch  # noqa: E402
from torch.library import opcheck  # noqa: E402
from torch._subclasses.fake_tensor import DataDependentOutputException, FakeTensorMode  # noqa

import eiprop  # noqa: E402
from eiprop import _fake  # noqa: E402

E = torch.ops.eiprop
ACTIVATIONS = ["tanh", "relu", "identity"]
PRE, POST = [0, 1, 1, 2], [1, 1, 2, 3]  # a self-projection on population 1
CHECKED = set()


def tensors(dtype, requires_grad):
    generator = torch.Generator().manual_seed(7)

    def draw(*shape, scale=1.0):
        value = torch.randn(*shape, generator=generator, dtype=dtype) * scale
        return value.requires_grad_(requires_grad)

    x = draw(5, 4)
    chain = [draw(6, 4, scale=0.5), draw(3, 6, scale=0.4), draw(2, 3, scale=0.5)]
    chain_biases = [draw(6, scale=0.1), None, draw(2, scale=0.1)]
    graph = [draw(6, 4, scale=0.5), draw(6, 6, scale=0.1), draw(3, 6, scale=0.4),
             draw(2, 3, scale=0.5)]
    graph_biases = [draw(6, scale=0.1), draw(3, scale=0.1), None]
    return x, chain, chain_biases, graph, graph_biases


def check(op, args, utils=None):
    name = op._schema.name.split("::")[1]
    CHECKED.add(name)
    kwargs = {} if utils is None else {"test_utils": utils}
    result = opcheck(op, args, **kwargs)
    failed = {test: outcome for test, outcome in result.items() if outcome != "SUCCESS"}
    assert not failed, f"{name}: {failed}"


def detached(values):
    return [v if v is None else v.detach() for v in values]


def run(dtype, requires_grad):
    x, chain, chain_biases, graph, graph_biases = tensors(dtype, requires_grad)
    check(E.circuit.default, (x, chain, chain_biases, ACTIVATIONS, "sweep", 0, 0.0, 1.0))
    check(E.graph_circuit.default,
          (x, graph, graph_biases, PRE, POST, ACTIVATIONS, 3, "jacobi", 0, 0.0, 1.0))

    # The rule's steps are not differentiable: with grad mode on, an input that requires grad
    # is refused (naming the op and the argument); under torch.no_grad() they run on it.
    xd, cd, gd = x.detach(), detached(chain), detached(graph)
    rates, drives, _ = E._circuit_forward(xd, cd, detached(chain_biases), ACTIVATIONS, "sweep",
                                          0, 0.0, 1.0)
    grates, gdrives, _ = E._graph_circuit_forward(xd, gd, detached(graph_biases), PRE, POST,
                                               ACTIVATIONS, 3, "jacobi", 0, 0.0, 1.0)
    error = torch.randn(5, 2, dtype=dtype)
    credits = E.credit_relaxation(error, drives, cd, ACTIVATIONS)[0]
    gcredits = E.graph_credit_relaxation(error, 3, gdrives, gd, PRE, POST, ACTIVATIONS)[0]
    if requires_grad:
        rates, drives, grates, gdrives, credits, gcredits = (
            [t.detach().requires_grad_() for t in values]
            for values in (rates, drives, grates, gdrives, credits, gcredits))
        error.requires_grad_()
        try:
            E.plasticity(x, rates, drives, credits, ACTIVATIONS, 0.1)
        except RuntimeError as refusal:
            assert "eiprop::plasticity: input requires grad" in str(refusal), refusal
        else:
            raise AssertionError("plasticity accepted inputs that require grad in grad mode")
    mask = [True] * 4 + [True, False, True]
    some = [False, True, False, True, False, False, False]
    with torch.set_grad_enabled(not requires_grad):
        check(E._circuit_forward.default,
              (x, chain, chain_biases, ACTIVATIONS, "sweep", 0, 0.0, 1.0))
        check(E._graph_circuit_forward.default,
              (x, graph, graph_biases, PRE, POST, ACTIVATIONS, 3, "jacobi", 0, 0.0, 1.0))
        for wanted in (mask, some):
            check(E._circuit_backward.default,
                  (error, x, chain, rates, drives, ACTIVATIONS, "sweep", 0, 0.0, 1.0, wanted))
        check(E._graph_circuit_backward.default,
              (error, x, graph, grates, gdrives, PRE, POST, ACTIVATIONS, 3, "jacobi", 0, 0.0,
               1.0, [True] * 8))
        check(E.plasticity.default, (x, rates, drives, credits, ACTIVATIONS, 0.1))
        check(E.graph_plasticity.default,
              (x, grates, gdrives, gcredits, PRE, POST, ACTIVATIONS, 0.1))
        check(E.ei_currents.default, (x, chain[0]))

        scalar_checks = ("test_schema", "test_autograd_registration")
        data_dependent = {
            "ei_equilibrium": (x, chain, chain_biases, ACTIVATIONS, "sweep", 0, 0.0, 1.0),
            "credit_relaxation": (error, drives, chain, ACTIVATIONS, "sweep", 0, 0.0, 1.0),
            "graph_equilibrium": (x, graph, graph_biases, PRE, POST, ACTIVATIONS, "jacobi", 0,
                                  0.0, 1.0, True),
            "graph_credit_relaxation": (error, 3, gdrives, graph, PRE, POST, ACTIVATIONS,
                                        "jacobi", 0, 0.0, 1.0, True),
            # In place on copies (their schemas declare the mutation: test_schema checks that
            # nothing else is written).
            "learning_step": (x, torch.tensor([0, 1, 1, 0, 1]), copied(chain),
                              copied(chain_biases), ACTIVATIONS, 0.1, "cross_entropy", "sweep",
                              0, 0.0, 1.0),
            "graph_learning_step": (x, error.detach(), copied(graph), copied(graph_biases), PRE,
                                    POST, ACTIVATIONS, 3, 0.1, "squared_error", "jacobi", 0,
                                    0.0, 1.0),
        }
        for name, args in data_dependent.items():
            op = getattr(E, name).default
            check(op, args, scalar_checks)
            if "credit_relaxation" in name:  # and without the input credit (the trailing argument)
                check(op, args + (False,), scalar_checks)
            with FakeTensorMode() as mode:
                fake = [fake_of(mode, a) for a in args]
                try:
                    op(*fake)
                except DataDependentOutputException:
                    pass
                else:
                    raise AssertionError(f"{name}: the fake kernel traced its statistics")
    check(E.build_facts.default, (), ("test_schema",))


CONV_ACTIVATIONS = ["tanh", "identity", "identity", "relu"]
CONV_PROJECTIONS = [eiprop.projections.conv2d(3, 1, 1, 1, 1),
                    eiprop.projections.max_pool2d(2, 2, 0, 1, False),
                    eiprop.projections.flatten(), eiprop.projections.dense()]


def conv_tensors(dtype, requires_grad):
    generator = torch.Generator().manual_seed(8)

    def draw(*shape, scale=1.0):
        value = torch.randn(*shape, generator=generator, dtype=dtype) * scale
        return value.requires_grad_(requires_grad)

    x = draw(3, 2, 6, 6)
    empty = torch.empty(0, dtype=dtype)
    weights = [draw(4, 2, 3, 3, scale=0.3), empty, empty, draw(5, 36, scale=0.2)]
    biases = [draw(4, scale=0.1), None, None, draw(5, scale=0.1)]
    return x, weights, biases


def run_conv(dtype, requires_grad):
    """The same checks on a convolutional chain (conv2d, max_pool2d, flatten, dense)."""
    x, weights, biases = conv_tensors(dtype, requires_grad)
    A, K = CONV_ACTIVATIONS, CONV_PROJECTIONS
    pre, post = list(range(4)), list(range(1, 5))
    check(E.circuit.default, (x, weights, biases, A, "sweep", 0, 0.0, 1.0, K))
    check(E.graph_circuit.default,
          (x, weights, biases, pre, post, A, 4, "jacobi", 0, 0.0, 1.0, K))
    xd, wd = x.detach(), detached(weights)
    rates, drives, winners = E._circuit_forward(xd, wd, detached(biases), A, "sweep", 0, 0.0,
                                                1.0, K)
    error = torch.randn(3, 5, dtype=dtype)
    credits = E.credit_relaxation(error, drives, wd, A, "sweep", 0, 0.0, 1.0, False, K)[0]
    with torch.set_grad_enabled(not requires_grad):
        check(E._circuit_forward.default, (x, weights, biases, A, "sweep", 0, 0.0, 1.0, K))
        check(E._circuit_backward.default,
              (error, x, weights, rates, drives, A, "sweep", 0, 0.0, 1.0,
               [True, True, False, False, True, True, False, False, True], K))
        check(E._graph_circuit_backward.default,
              (error, x, weights, rates, drives, pre, post, A, 4, "jacobi", 0, 0.0, 1.0,
               [True] * 9, K))
        # The forward's window winners and its checked states (what the autograd kernel passes).
        check(E._circuit_backward.default,
              (error, x, weights, rates, drives, A, "sweep", 0, 0.0, 1.0, [True] * 9, K,
               winners, True))
        check(E.plasticity.default, (x, rates, drives, credits, A, 0.1, K))
        check(E.graph_plasticity.default, (x, rates, drives, credits, pre, post, A, 0.1, K))
        check(E.learning_step.default,
              (x, torch.tensor([0, 1, 4]), copied(weights), copied(biases), A, 0.1,
               "cross_entropy", "sweep", 0, 0.0, 1.0, K),
              ("test_schema", "test_autograd_registration"))


def copied(values):
    return [v if v is None else v.detach().clone().requires_grad_(v.requires_grad)
            for v in values]


def fake_of(mode, value):
    if isinstance(value, torch.Tensor):
        return mode.from_tensor(value)
    if isinstance(value, list):
        return [fake_of(mode, v) for v in value]
    return value


def gradchecks():
    x, weights, biases = conv_tensors(torch.float64, True)
    assert torch.autograd.gradcheck(
        lambda x, w0, w3, b0: E.circuit(x, [w0, weights[1], weights[2], w3],
                                        [b0, None, None, None], CONV_ACTIVATIONS, "sweep", 0,
                                        0.0, 1.0, CONV_PROJECTIONS),
        (x, weights[0], weights[3], biases[0]))
    x, chain, chain_biases, graph, graph_biases = tensors(torch.float64, True)
    assert torch.autograd.gradcheck(
        lambda x, *p: E.circuit(x, list(p[:3]), [p[3], None, p[4]], ACTIVATIONS),
        (x, *chain, chain_biases[0], chain_biases[2]))
    assert torch.autograd.gradcheck(
        lambda x, *p: E.graph_circuit(x, list(p[:4]), [p[4], p[5], None], PRE, POST,
                                      ACTIVATIONS, 3, "jacobi", 0, 1e-14),
        (x, *graph, graph_biases[0], graph_biases[1]))


OLDER_CALLS = """
def layered(e: Tensor, d: List[Tensor], w: List[Tensor]) -> Tensor:
    return torch.ops.eiprop.credit_relaxation(e, d, w, ["tanh"], "sweep", 0, 0.0, 1.0)[1]

def graph(e: Tensor, d: List[Tensor], w: List[Tensor]) -> Tensor:
    return torch.ops.eiprop.graph_credit_relaxation(e, 1, d, w, [0], [1], ["tanh"], "jacobi",
                                                    0, 0.0, 1.0, True)[1]
"""


def check_older_calls():
    """TorchScript written against the schemas before input_credit (a trailing default) still
    compiles, as a saved program does when it is loaded, and gets the input credit."""
    unit = torch.jit.CompilationUnit(OLDER_CALLS)
    w, e = [torch.randn(3, 4, dtype=torch.float64)], torch.randn(2, 3, dtype=torch.float64)
    d = [torch.randn(2, 3, dtype=torch.float64)]
    for name in ("layered", "graph"):
        credit = getattr(unit, name)(e, d, w)
        assert credit is not None and credit.shape == (2, 4), name
    print("TorchScript calls with the older argument lists: passed")


def main():
    for dtype in (torch.float32, torch.float64):
        for requires_grad in (False, True):
            run(dtype, requires_grad)
            run_conv(dtype, requires_grad)
            print(f"opcheck: {dtype}, requires_grad={requires_grad}: passed (dense and "
                  f"convolutional circuits)")
    gradchecks()
    print("gradcheck: circuit (dense and convolutional) and graph_circuit (float64): passed")
    check_older_calls()
    every_op = {name for name in dir(E) if not name.startswith("__")
                and isinstance(getattr(E, name), torch._ops.OpOverloadPacket)}
    missing = every_op - CHECKED
    assert not missing, f"opcheck did not cover {sorted(missing)}"
    assert set(_fake.TRACEABLE) | set(_fake.DATA_DEPENDENT) == every_op - {"build_facts"}

    # The wrappers' defaults are the schemas'.
    for name, wrapper in eiprop.ops.WRAPPERS.items():
        schema = getattr(E, name).default._schema
        parameters = inspect.signature(wrapper).parameters
        for argument in schema.arguments:
            if argument.default_value is not None:
                actual = parameters[argument.name].default
                assert actual == argument.default_value, (
                    f"eiprop.ops.{name}: {argument.name} defaults to {actual}, the schema to "
                    f"{argument.default_value}")
    print(f"opcheck: all {len(every_op)} ops covered; wrapper defaults match the schemas")


if __name__ == "__main__":
    main()
