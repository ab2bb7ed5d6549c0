"""Pack run folders into a few archive parts that fit a transfer limit (a lent GPU machine's return folder).

Checkpoints and the resumable ``state/`` folder stay behind (a finished run does not need them to be read, tabled
or drawn). When the packed runs would exceed ``--total_mib``, each round's
``validation_probs`` array is left out of the copies (it served the in-run threshold tuning, whose result is
recorded in metrics.csv and statistics.json; summarize, the figures and the batch tables read only the test
arrays) and every copied run folder says so in ``PACKED.txt``; when even that is over the limit, nothing is written
and the exit code is 2 (pack fewer folders). Unpack with ``cat NAME.tar.part* | tar xz`` (parts are numbered
part000, part001, ... so the shell's order is theirs)::

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
        path = out / f"{name}.tar.part{number:03d}"
        path.write_bytes(data[start:start + part_bytes])
        parts.append(path)
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="the folder holding the run folders named by --runs")
    parser.add_argument("--runs", nargs="+", required=True, help="folders under --root to pack (missing ones skipped)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", required=True, help="archive name: NAME.tar.part000, NAME.tar.part001, ...")
    parser.add_argument("--part_mib", type=float, default=15.0)
    parser.add_argument("--total_mib", type=float, default=56.0)
    parser.add_argument("--max_parts", type=int, default=7, help="refuse to write more parts than this")
    args = parser.parse_args(argv)
    if args.part_mib <= 0 or args.total_mib <= 0:
        parser.error("--part_mib and --total_mib must be positive")
    root, out = Path(args.root), Path(args.out)
    names = [name for name in args.runs if (root / name).is_dir()]
    missing = [name for name in args.runs if name not in names]
    if missing:
        print(f"not found under {root}, not packed: {', '.join(missing)}", flush=True)
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
    part_bytes = int(args.part_mib * 2**20)
    if -(-len(data) // part_bytes) > args.max_parts:
        print(f"error: {len(data) / 2**20:.1f} MiB needs more than --max_parts {args.max_parts} parts of "
              f"{args.part_mib} MiB; nothing written: raise --part_mib or pack fewer folders", file=sys.stderr)
        return 2
    if len(data) > args.total_mib * 2**20:
        print(f"error: {', '.join(names)} packed to {len(data) / 2**20:.1f} MiB even without {DROPPABLE}, over "
              f"--total_mib {args.total_mib}; nothing written: pack fewer folders per archive", file=sys.stderr)
        return 2
    for stale in out.glob(f"{args.name}.tar.part*"):  # parts of an earlier call would join this archive
        stale.unlink()
    parts = write_parts(data, out, args.name, part_bytes)
    print(f"packed {', '.join(names)}: {len(data) / 2**20:.1f} MiB in {len(parts)} part(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
