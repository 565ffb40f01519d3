"""eiprop: neural circuits trained by E-I balance credit (Fan & Mysore 2024).

Importing the package loads its ops library (``torch.ops.eiprop.*``) after checking that it was
built against the running torch (:mod:`eiprop._library`). Then:

- :mod:`eiprop.ops`: typed wrappers over the operators;
- :mod:`eiprop.nn`: :class:`~eiprop.nn.BalancedMLP` and :class:`~eiprop.nn.RecurrentCircuit`,
  ``torch.nn.Module`` s trained by the rule (``learning="credit"``) or by autograd;
- :func:`eiprop.convert`: a ``torch.nn.Sequential`` of ``Linear`` layers and activations as a
  :class:`~eiprop.nn.BalancedMLP` sharing its parameters.
"""
from eiprop._library import build_info
from eiprop import _fake  # noqa: F401  (fake kernels for torch.compile / torch.export)
from eiprop import nn, ops
from eiprop.convert import convert

__version__ = "0.1.0"
__all__ = ["build_info", "convert", "nn", "ops"]
