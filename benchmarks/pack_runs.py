"""Pack run folders into a few archive parts that fit a transfer limit (a lent GPU machine's return folder).

Checkpoints, the resumable ``state/`` folder and the console logs' duplicates stay behind (a finished run does not
need them to be read, tabled or drawn). When the packed runs would exceed ``--total_mib``, each round's
``validation_probs`` array is left out of the copies (it served the in-run threshold tuning, whose result is
recorded in metrics.csv and statistics.json; summarize, the figures and the batch tables read only the test
arrays) and every copied run folder says so in ``PACKED.txt``. Unpack with ``cat NAME.tar.part* | tar xz``::

    python benchmarks/pack_runs.py --root results/label_efficiency --runs reuters reuters_full_data \
        --out "$OUT" --name reuters_runs --part_mib 15 --total_mib 56
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlal.run_format import CHECKPOINTS_DIR, EVAL_DIR, EVAL_INDEX, STATE_DIR  # noqa: E402

LEFT_BEHIND = {CHECKPOINTS_DIR, STATE_DIR}
DROPPABLE = "validation_probs"


def copy_runs(root: Path, names: list[str], staging: Path) -> None:
    for name in names:
        shutil.copytree(root / name, staging / name, ignore=lambda folder, entries: [
            entry for entry in entries if entry in LEFT_BEHIND and (Path(folder) / entry).is_dir()])


def drop_validation_probs(staging: Path) -> int:
    """Rewrite every copied round file without ``validation_probs``; returns the run folders changed."""
    changed = 0
    for index_path in staging.rglob(f"{EVAL_DIR}/{EVAL_INDEX}"):
        index = json.loads(index_path.read_text())
        for record in index["rounds"].values():
            path = index_path.parent / record["file"]
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files if key != DROPPABLE}
            np.savez_compressed(path, **arrays)
            record["arrays"].pop(DROPPABLE, None)
        index_path.write_text(json.dumps(index, indent=2))
        (index_path.parent.parent / "PACKED.txt").write_text(
            f"Packed by benchmarks/pack_runs.py for a size-limited transfer: each round's {DROPPABLE} array was "
            "left out (its use, the in-run threshold tuning, is recorded in metrics.csv and statistics.json).\n")
        changed += 1
    return changed


def archive(staging: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=9) as tar:
        for path in sorted(staging.iterdir()):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


def write_parts(data: bytes, out: Path, name: str, part_bytes: int) -> list[Path]:
    parts = []
    for number, start in enumerate(range(0, len(data), part_bytes)):
        path = out / f"{name}.tar.part{number}"
        path.write_bytes(data[start:start + part_bytes])
        parts.append(path)
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="the folder holding the run folders named by --runs")
    parser.add_argument("--runs", nargs="+", required=True, help="folders under --root to pack (missing ones skipped)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", required=True, help="archive name: NAME.tar.part0, NAME.tar.part1, ...")
    parser.add_argument("--part_mib", type=float, default=15.0)
    parser.add_argument("--total_mib", type=float, default=56.0)
    args = parser.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    names = [name for name in args.runs if (root / name).is_dir()]
    if not names:
        print(f"nothing to pack under {root}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        copy_runs(root, names, staging)
        data = archive(staging)
        if len(data) > args.total_mib * 2**20:
            print(f"{len(data) / 2**20:.1f} MiB is over {args.total_mib} MiB: leaving out {DROPPABLE} "
                  f"({drop_validation_probs(staging)} run folders)", flush=True)
            data = archive(staging)
    parts = write_parts(data, out, args.name, int(args.part_mib * 2**20))
    print(f"packed {', '.join(names)}: {len(data) / 2**20:.1f} MiB in {len(parts)} part(s)", flush=True)
    return 0 if len(data) <= args.total_mib * 2**20 else 1


if __name__ == "__main__":
    sys.exit(main())
