"""Import ``mlal.acquisition`` and ``mlal.plotting`` from a clone, where they are top-level folders.

An installed ``mlal`` holds ``acquisition`` and ``plotting`` as subpackages (``pyproject.toml`` maps the
folders there), so installing never adds generic top-level names such as ``plotting`` to a user's
environment. A clone keeps the repository's layout (``acquisition/`` and ``plotting/`` beside ``mlal/``);
this finder serves ``mlal.acquisition`` and ``mlal.plotting`` (and their submodules) from those folders, so
the code imports one name everywhere. It does nothing in an installed copy.
"""

from __future__ import annotations

import importlib.machinery
import sys
from pathlib import Path


class _CloneFolderFinder:
    """Find ``<package>.<name>[.<sub>]`` in the folder ``<repository>/<name>`` (a meta path finder)."""

    def __init__(self, package: str, folders: dict[str, Path]):
        self.package = package
        self.folders = folders

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if len(parts) < 2 or parts[0] != self.package or parts[1] not in self.folders:
            return None
        # The package itself is looked up in the repository root, its submodules in its own folder.
        search = [str(self.folders[parts[1]].parent)] if len(parts) == 2 else path
        return importlib.machinery.PathFinder.find_spec(fullname, search, target) if search else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.package!r}, {sorted(self.folders)})"


def map_top_level_packages(package: str, names: tuple[str, ...]) -> None:
    """Serve ``package.<name>`` from ``<repository>/<name>`` where this is a clone (no-op when installed)."""
    here = Path(__file__).resolve().parent
    folders = {name: here.parent / name for name in names
               if not (here / name).is_dir() and (here.parent / name / "__init__.py").is_file()}
    if folders and not any(isinstance(f, _CloneFolderFinder) for f in sys.meta_path):
        sys.meta_path.append(_CloneFolderFinder(package, folders))
