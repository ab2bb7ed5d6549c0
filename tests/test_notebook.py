"""reproduce.ipynb runs headless (quick mode) and shows the gallery inline."""

import os

import pytest

from conftest import ROOT
from mlal.run_format import STATISTICS

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_notebook_executes_and_displays_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRODUCE_QUICK", "1")
    monkeypatch.setenv("REPRODUCE_OUTPUT_DIR", str(tmp_path / "nb-run"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    notebook = nbformat.read(ROOT / "reproduce.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    images = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 10  # 8 per-run figures (2 of them AL figures) + learning and training curves
    assert (tmp_path / "nb-run" / STATISTICS).is_file()
