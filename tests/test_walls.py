"""The walls between the parts, read from the source with ``ast`` (nothing is imported).

- ``acquisition/`` is pure functions of arrays: it may import the standard library, numpy, scipy, scikit-learn
  and itself; never mlal's engine (loop, Trainer wrappers, data), torch, transformers or plotting.
- ``plotting/`` draws from saved outputs: the standard library, numpy, matplotlib, seaborn and itself, and from
  mlal only ``mlal.run_format`` (file names) and ``mlal.metrics`` (scikit-learn metrics); never the model or loop.
- The two mlal modules plotting may use stay light themselves (no torch, transformers or other mlal modules),
  so the wall does not leak through them.

Every import statement counts, also one inside a function, and ``importlib.import_module("...")`` /
``__import__("...")`` with a constant name; a dynamic import whose name the test cannot read is refused.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}

ACQUISITION_ALLOWED = ("numpy", "scipy", "sklearn", "mlal.acquisition")
PLOTTING_ALLOWED = ("numpy", "matplotlib", "seaborn", "mlal.plotting", "mlal.run_format", "mlal.metrics")
LIGHT_MLAL_ALLOWED = ("numpy", "scipy", "sklearn", "mlal.run_format", "mlal.metrics")


def imported_names(source: str, package: str) -> list[tuple[int, str]]:
    """(line, dotted name) for every import in ``source``, a module of the package ``package``.

    ``import a.b`` gives ``a.b``; ``from a import b, c`` gives ``a.b`` and ``a.c`` (a submodule or a name of
    ``a``: either way what the wall judges). Relative imports are resolved as installed (``acquisition/`` is
    ``mlal.acquisition``), so ``from .. import loop`` in acquisition is ``mlal.loop``. A dynamic import whose
    name is not a constant gives ``<dynamic import>``.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: max(len(parts) - node.level + 1, 0)])
                module = ".".join(filter(None, [base, module])) if base else "." * node.level + module
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                arg = node.args[0] if node.args else None
                constant = isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith(".")
                found.append((node.lineno, arg.value if constant else "<dynamic import>"))
    return found


def _allowed(name: str, allowed: tuple[str, ...]) -> bool:
    return name.split(".")[0] in STDLIB or any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)


def wall_violations(folder: Path, package: str, allowed: tuple[str, ...]) -> list[str]:
    """``<folder>/<module>.py:<line> imports <name>`` for every forbidden import in the modules of ``folder``
    (the package ``package`` when installed)."""
    return [f"{folder.name}/{path.name}:{line} imports {name}"
            for path in sorted(folder.glob("*.py"))
            for line, name in imported_names(path.read_text(), package) if not _allowed(name, allowed)]


def _module_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).glob("*.py"))


def test_acquisition_imports_only_numpy_scipy_sklearn():
    assert len(_module_files("acquisition")) >= 6  # the wall is checked on the real modules, not on nothing
    problems = wall_violations(ROOT / "acquisition", "mlal.acquisition", ACQUISITION_ALLOWED)
    # The plug-in loader imports the user's own module named by --strategy module:Class (its whole job).
    problems = [p for p in problems if not p.startswith("acquisition/registry.py:") or "<dynamic import>" not in p]
    assert not problems, ("acquisition/ must stay pure functions of arrays (standard library, numpy, scipy, "
                          "scikit-learn): " + "; ".join(problems))


def test_plotting_imports_no_model_and_no_loop():
    assert len(_module_files("plotting")) >= 8
    problems = wall_violations(ROOT / "plotting", "mlal.plotting", PLOTTING_ALLOWED)
    assert not problems, ("plotting/ draws from saved outputs: from mlal only mlal.run_format and mlal.metrics, "
                          "no torch or transformers: " + "; ".join(problems))


@pytest.mark.parametrize("module", ["run_format", "metrics"])
def test_the_mlal_modules_plotting_uses_stay_light(module):
    source = (ROOT / "mlal" / f"{module}.py").read_text()
    problems = [f"mlal/{module}.py:{line} imports {name}" for line, name in imported_names(source, "mlal")
                if not _allowed(name, LIGHT_MLAL_ALLOWED)]
    assert not problems, "plotting imports this module, so it must not pull in the model or loop: " + "; ".join(problems)


FORBIDDEN_IN_ACQUISITION = {
    "import torch": "torch",
    "from transformers import Trainer": "transformers.Trainer",
    "from mlal.loop import run_experiment": "mlal.loop.run_experiment",
    "from mlal import plotting": "mlal.plotting",
    "from .. import training": "mlal.training",
    "from ..inference import predict_outputs": "mlal.inference.predict_outputs",
    "import plotting": "plotting",
    "def f():\n    import matplotlib.pyplot as plt": "matplotlib.pyplot",
    "import importlib\nimportlib.import_module('torch.nn')": "torch.nn",
    "__import__(name)": "<dynamic import>",
}


@pytest.mark.parametrize("statement", list(FORBIDDEN_IN_ACQUISITION))
def test_a_forbidden_import_is_reported_with_its_module_and_line(tmp_path, statement):
    folder = tmp_path / "acquisition"
    folder.mkdir()
    (folder / "clean.py").write_text("import numpy as np\nfrom .base import top_k\nfrom scipy import sparse\n")
    (folder / "leaky.py").write_text("import numpy as np\n" + statement + "\n")
    problems = wall_violations(folder, "mlal.acquisition", ACQUISITION_ALLOWED)
    line = statement.count("\n") + 2  # the statement's last line in leaky.py
    assert problems == [f"acquisition/leaky.py:{line} imports {FORBIDDEN_IN_ACQUISITION[statement]}"]


def test_plotting_may_read_run_format_and_metrics_but_not_the_loop(tmp_path):
    folder = tmp_path / "plotting"
    folder.mkdir()
    (folder / "ok.py").write_text("from mlal.run_format import STATISTICS\nfrom mlal.metrics import threshold_sweep\n"
                                  "from .style import colors\nimport seaborn as sns\n")
    assert wall_violations(folder, "mlal.plotting", PLOTTING_ALLOWED) == []
    (folder / "bad.py").write_text("from mlal.modeling import load_model\nfrom mlal import loop\n")
    assert wall_violations(folder, "mlal.plotting", PLOTTING_ALLOWED) == [
        "plotting/bad.py:1 imports mlal.modeling.load_model", "plotting/bad.py:2 imports mlal.loop",
    ]
