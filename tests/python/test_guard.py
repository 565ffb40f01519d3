"""The import guard: a library built against another torch is refused when eiprop is imported.

  test_guard.py --mismatched LIBRARY
LIBRARY is eiprop's ops library built on purpose with a build fact that claims the next LibTorch
minor version (tests/CMakeLists.txt). Importing eiprop with it (EIPROP_LIBRARY) must raise an
ImportError that names both sides; the comparison itself is checked on every kind of mismatch;
and a library loaded by hand before the import is checked and used, not loaded twice.
"""
import argparse
import os
import subprocess
import sys

from package_support import require, torch_at_least

require(torch_at_least(2, 4), "the package needs torch >= 2.4")

from eiprop import _library  # noqa: E402

BUILT = _library.BuildFacts("2.11.0", 1, "GCC 12.2", 201703, None)
RUNNING = _library.RunningTorch("2.11.0+cu130", 1, "13.0",
                                {"libc10": ["/t/libc10.so"], "libtorch": ["/t/libtorch.so"],
                                 "libtorch_cpu": ["/t/libtorch_cpu.so"]})


def check_comparison():
    assert _library.mismatches(BUILT, RUNNING) == []
    assert _library.mismatches(BUILT._replace(cuda="13.0"), RUNNING) == []
    cases = {
        "LibTorch version 2.10.0 != torch 2.11.0+cu130": BUILT._replace(torch_version="2.10.0"),
        "_GLIBCXX_USE_CXX11_ABI 0 != 1": BUILT._replace(cxx11_abi=0),
        "CUDA 12.8 != torch's CUDA 13.0": BUILT._replace(cuda="12.8"),
    }
    for expected, built in cases.items():
        found = _library.mismatches(built, RUNNING)
        assert found == [expected], (expected, found)
    twice = RUNNING._replace(libraries=dict(RUNNING.libraries,
                                            libc10=["/t/libc10.so", "/usr/lib/libc10.so.1.13"]))
    assert _library.mismatches(BUILT, twice) == [
        "two copies of a LibTorch library are loaded at once: "
        "libc10 (/t/libc10.so, /usr/lib/libc10.so.1.13)"]
    # This process: torch's own libraries, each once.
    mapped = _library.mapped_libraries()
    assert all(len(mapped[name]) == 1 for name in _library.CORE_LIBRARIES), mapped
    assert _library.release("2.11.0a0+git1234") == "2.11.0"
    print("guard: every kind of mismatch is named")


def check_mismatched_library(library):
    import torch
    environment = dict(os.environ, EIPROP_LIBRARY=library)
    result = subprocess.run([sys.executable, "-c", "import eiprop"], env=environment,
                            capture_output=True, text=True)
    print(result.stderr.strip().splitlines()[-1])
    assert result.returncode != 0, "the mismatched library was accepted"
    message = result.stderr
    major, minor = torch.__version__.split(".")[:2]
    claimed = f"LibTorch {major}.{int(minor) + 1}."
    for expected in ("ImportError: eiprop:", library, claimed, f"torch {torch.__version__}",
                     "pip install --no-build-isolation"):
        assert expected in message, f"'{expected}' missing from: {message}"
    print("guard: the mismatched library is refused at import, naming both sides")


def check_library_loaded_before():
    """torch.ops.load_library(...) of a CMake build, then `import eiprop`: the package checks
    and uses the loaded library instead of registering every op a second time."""
    code = ("import torch; torch.ops.load_library(%r); import eiprop; "
            "print(eiprop.build_info()['library'])" % _library.LIBRARY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == _library.LIBRARY, result.stdout
    print("guard: a library loaded before `import eiprop` is checked and used")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mismatched", required=True)
    arguments = parser.parse_args()
    check_comparison()
    check_mismatched_library(arguments.mismatched)
    check_library_loaded_before()
