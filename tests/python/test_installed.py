"""The package as pip installs it (scripts/test.sh runs `pip install --no-build-isolation .`
before ctest): imported from the environment, not from the source tree, its bundled library
passes the import guard and trains a step, and its modules are this tree's (not a stale
install). The other package tests import the source tree with the build tree's library.

  test_installed.py SOURCE_PACKAGE_DIR
"""
import filecmp
import os
import subprocess
import sys
import tempfile

from package_support import SKIPPED, require, torch_at_least

require(torch_at_least(2, 4), "the package needs torch >= 2.4")

CODE = """
import os, torch, eiprop
net = eiprop.nn.BalancedMLP([8, 6, 3])
net(torch.rand(4, 8)).square().sum().backward()
assert net.layer0.weight.grad is not None
print(os.path.dirname(eiprop.__file__))
print(eiprop.build_info()["library"])
"""

source = os.path.abspath(sys.argv[1])
environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EIPROP_LIBRARY")}
with tempfile.TemporaryDirectory() as directory:
    result = subprocess.run([sys.executable, "-c", CODE], env=environment, cwd=directory,
                            capture_output=True, text=True)
if "No module named 'eiprop'" in result.stderr:
    print(f"skipped: eiprop is not installed in {sys.executable}'s environment "
          f"(pip install --no-build-isolation .)")
    sys.exit(SKIPPED)
assert result.returncode == 0, result.stderr
installed, library = result.stdout.split()[-2:]
assert os.path.realpath(installed) != os.path.realpath(source), installed
assert library == os.path.join(installed, "libeiprop.so"), library
modules = sorted(name for name in os.listdir(source) if name.endswith(".py"))
_, differ, missing = filecmp.cmpfiles(source, installed, modules, shallow=False)
assert not differ and not missing, (f"the installed package at {installed} is not this tree's "
                                    f"(differ: {differ}, missing: {missing}): reinstall it")
print(f"installed package: {installed}, {len(modules)} modules as in the tree; its {library} "
      f"passed the import guard and trained a step")
