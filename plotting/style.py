"""Shared figure style: headless backend, colour-blind-safe palette, saving PNG (dpi 150) and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

PALETTE = "colorblind"
DPI = 150


def apply_style() -> None:
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    plt.rcParams.update({"figure.dpi": 100, "savefig.bbox": "tight", "axes.titlesize": 12, "svg.fonttype": "none"})


def colors(n: int):
    return sns.color_palette(PALETTE, n)


def save_figure(fig, outdir: str | Path, name: str) -> list[Path]:
    """Save ``fig`` as ``<outdir>/<name>.png`` (dpi 150) and ``.svg``; return the paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = [outdir / f"{name}.png", outdir / f"{name}.svg"]
    fig.savefig(paths[0], dpi=DPI, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    return paths


apply_style()
