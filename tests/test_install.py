"""``pip install .`` gives a working ``mlal``: a wheel is built offline from a copy of the sources, installed with
``--target`` into a temporary folder and used from a folder outside the clone (so the clone cannot be imported).

Installed, the strategies, figures and configs live inside the package (``mlal/acquisition``,
``mlal/plotting``, ``mlal/configs``); no generic top-level ``acquisition`` or ``plotting`` is installed.
About 20 s of CPU (two interpreter starts import transformers); minutes of wall time on a loaded machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from mlal.config import resolve_config_path, shipped_config_names
from mlal.errors import UsageError

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "requirements.txt", "mlal", "acquisition", "plotting", "configs")
SHIPPED = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))


def _run(command: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel from a copy of the sources (the build writes build/ and *.egg-info next to them)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    # No network: no build isolation (setuptools from this environment, see requirements-dev.txt), no index.
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "--disable-pip-version-check", "-w", str(out), str(source)], cwd=out)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheels = list(out.glob("mlal-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = _run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
                 "--target", str(target), str(wheel)], cwd=target)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return target


@pytest.fixture(scope="module")
def outside(installed, tmp_path_factory):
    """Run ``python args...`` in an empty folder outside the clone, with only the install on PYTHONPATH."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    env = {**os.environ, "PYTHONPATH": str(installed), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return _run([sys.executable, *args], cwd=cwd, env=env)

    return run


def test_the_wheel_holds_strategies_figures_and_configs_inside_mlal(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"mlal/acquisition/{p.name}" for p in (ROOT / "acquisition").glob("*.py")}
    expected |= {f"mlal/plotting/{p.name}" for p in (ROOT / "plotting").glob("*.py")}
    expected |= {f"mlal/configs/{p.relative_to(ROOT / 'configs')}" for p in (ROOT / "configs").rglob("*.yaml")}
    expected |= {"mlal/__main__.py", "mlal/cli.py", "mlal/annotate/cli.py"}
    assert len(expected) > 25 and not expected - names, sorted(expected - names)
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"mlal"}, f"the wheel installs top-level names besides mlal: {sorted(tops - {'mlal'})}"

    info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
    archive = zipfile.ZipFile(wheel)
    assert "mlal = mlal.cli:main" in archive.read(f"{info}/entry_points.txt").decode()
    metadata = archive.read(f"{info}/METADATA").decode()
    # requirements.txt is the one list of dependencies: every requirement of it is in the wheel's metadata.
    requirements = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    for requirement in filter(None, requirements):
        name = requirement.split(">")[0].split("<")[0].split("=")[0]
        assert f"Requires-Dist: {name}" in metadata, f"{requirement} missing from the wheel's dependencies"
    assert "License-Expression: Apache-2.0" in metadata


def test_the_installed_package_runs_from_outside_the_clone(installed, outside):
    listed = outside("-m", "mlal", "--config", "fast_tuned", "--list-strategies")  # a shipped config by name
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {"random", "entropy", "beal"} <= {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}

    probe = outside("-c", "\n".join([
        "import sys, mlal, mlal.acquisition, mlal.plotting",
        "from mlal.acquisition import get_strategy",
        "from mlal.plotting import find_runs",
        "from mlal.config import resolve_config_path",
        "print(mlal.__file__); print(mlal.acquisition.__file__); print(mlal.plotting.__file__)",
        "print(resolve_config_path('demo')); print(get_strategy('entropy').name)",
        "print(any(type(f).__name__ == '_CloneFolderFinder' for f in sys.meta_path))",
    ]))
    assert probe.returncode == 0, probe.stderr[-2000:]
    package, acquisition, plotting, demo, strategy, clone_finder = probe.stdout.split("\n")[:6]
    for path in (package, acquisition, plotting, demo):
        assert Path(path).is_relative_to(installed), f"{path} is not from the install in {installed}"
    assert Path(acquisition) == installed / "mlal" / "acquisition" / "__init__.py"
    assert Path(demo) == installed / "mlal" / "configs" / "demo.yaml"
    assert (strategy, clone_finder) == ("entropy", "False")
    assert not (installed / "acquisition").exists() and not (installed / "plotting").exists()


def test_the_console_script_lists_the_shipped_configs_for_an_unknown_name(installed, outside):
    # The console script pip wrote (bin/mlal) runs the same main.
    console = installed / "bin" / "mlal"
    assert console.is_file()
    bad = outside(str(console), "--config", "no_such_config")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"error: config file no_such_config not found; pass an existing YAML file to --config or the name of a "
        f"shipped config ({', '.join(SHIPPED)})"
    ]


def test_a_clone_runs_python_dash_m_mlal_without_installing():
    env = {**os.environ, "PYTHONPATH": ""}
    probe = _run([sys.executable, "-c", "import mlal.acquisition as a; print(a.__file__)"], cwd=ROOT, env=env)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert Path(probe.stdout.strip()) == ROOT / "acquisition" / "__init__.py"
    listed = _run([sys.executable, "-m", "mlal", "--config", "demo", "--list-strategies"], cwd=ROOT, env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "entropy" in listed.stdout


def test_config_resolution(tmp_path, monkeypatch):
    assert shipped_config_names() == SHIPPED and {"demo", "fast_tuned"} <= set(SHIPPED)
    assert resolve_config_path("demo") == ROOT / "configs" / "demo.yaml"
    assert resolve_config_path("fast_tuned.yaml") == ROOT / "configs" / "fast_tuned.yaml"
    assert resolve_config_path(ROOT / "configs" / "paper.yaml") == ROOT / "configs" / "paper.yaml"  # a path as given
    # A file that exists wins over a shipped config of the same name.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").write_text("rounds: 1\n")
    assert resolve_config_path("demo") == Path("demo")
    # A path with a folder is a path, never a shipped name.
    for value in ("sub/fast", "./fast_tuned", "nope.yaml", "fast.yml"):
        with pytest.raises(UsageError, match=f"config file {value} not found.*shipped config \\(.*demo, "):
            resolve_config_path(value)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_an_installed_copy_never_records_the_commit_of_a_repository_around_it(tmp_path):
    from mlal.results import git_state

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    assert _run([*git, "init", "-q"], cwd=tmp_path).returncode == 0
    assert _run([*git, "commit", "-q", "--allow-empty", "-m", "a user's project"], cwd=tmp_path).returncode == 0
    site = tmp_path / ".venv" / "lib" / "site-packages"  # a venv inside the user's repository
    site.mkdir(parents=True)
    assert git_state(site) == {"commit": None, "dirty": None}
    assert git_state(tmp_path)["commit"]  # the repository itself (a clone) is recorded
