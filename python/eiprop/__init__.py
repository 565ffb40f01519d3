"""eiprop: neural circuits trained by E-I balance credit (Fan & Mysore 2024).

Importing the package loads its ops library (``torch.ops.eiprop.*``) after checking that it was
built against the running torch (:mod:`eiprop._library`). Then:

- :mod:`eiprop.ops`: typed wrappers over the operators;
- :mod:`eiprop.nn`: :class:`~eiprop.nn.BalancedMLP` and :class:`~eiprop.nn.RecurrentCircuit`,
  ``torch.nn.Module`` s trained by the rule (``learning="credit"``) or by autograd;
- :func:`eiprop.convert`: a ``torch.nn.Sequential`` of ``Linear`` layers and activations as a
  :class:`~eiprop.nn.BalancedMLP` sharing its parameters;
- :func:`eiprop.convert_parts`: every such run inside any model (at any depth) converted in
  place, the other layers left to autograd, with a report of which became circuits.
"""
from eiprop._library import build_info
from eiprop import _fake  # noqa: F401  (fake kernels for torch.compile / torch.export)
from eiprop import nn, ops
from eiprop.convert import Conversion, convert, convert_parts

__version__ = "0.1.0"
__all__ = ["Conversion", "build_info", "convert", "convert_parts", "nn", "ops"]
