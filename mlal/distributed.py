"""Multi-process helpers (torchrun / ``accelerate launch``): who writes, sharding and gathering.

Every process runs the same loop. Trainer handles distributed training; pool scoring shards the
length-sorted batches round-robin over the processes and gathers the results back in the original
order (each example is scored exactly once: no sampler padding, nothing duplicated or dropped).
Acquisition runs on the main process and its choice is broadcast. Only the main process writes files.
Without an initialised process group every helper is a no-op, so one process needs nothing else.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _dist():
    import torch.distributed as dist

    return dist if dist.is_available() and dist.is_initialized() else None


def world_size() -> int:
    dist = _dist()
    return dist.get_world_size() if dist else 1


def rank() -> int:
    dist = _dist()
    return dist.get_rank() if dist else 0


def is_main_process() -> bool:
    return rank() == 0


def barrier() -> None:
    dist = _dist()
    if dist and dist.get_world_size() > 1:
        dist.barrier()


def broadcast(obj: Any) -> Any:
    """The main process's ``obj`` on every process."""
    dist = _dist()
    if not dist or dist.get_world_size() == 1:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_rows(positions: np.ndarray, arrays: dict[str, np.ndarray], n_rows: int) -> dict[str, np.ndarray]:
    """Combine each process's rows (``arrays[k][i]`` belongs at ``positions[i]``) into full arrays of
    ``n_rows`` rows in the original order, on every process."""
    dist = _dist()
    if not dist or dist.get_world_size() == 1:
        return arrays
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, (positions, arrays))
    all_positions = np.concatenate([p for p, _ in parts])
    if len(all_positions) != n_rows or len(np.unique(all_positions)) != n_rows:
        raise RuntimeError(f"gathered {len(all_positions)} rows for {n_rows} examples: a shard is missing or repeated")
    out = {}
    for key in arrays:
        first = parts[0][1][key]
        full = np.zeros((n_rows, *first.shape[1:]), dtype=first.dtype)
        for shard_positions, shard_arrays in parts:
            full[shard_positions] = shard_arrays[key]
        out[key] = full
    return out
