"""Length-sorted, padded batches of a tokenised dataset for scoring, built with numpy.

The token columns are read once from the dataset's Arrow table as one flat array of tokens plus row offsets
(no Python lists per example); each batch is then one vectorised gather: ``flat[start_i + j]`` where
``j < length_i`` and the pad value elsewhere. The result equals ``tokenizer.pad(batch, return_tensors="pt")``
for the tokenizer's pad values and padding side (tests/test_batching.py), at a fraction of its cost.
Rows are sorted by length, longest first, so dynamic padding wastes little; ``positions`` maps each batch
row back to its row in the dataset.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _flat_column(table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, offsets) of a list column: row i holds ``tokens[offsets[i]:offsets[i + 1]]``."""
    column = table.column(name).combine_chunks()
    return (column.values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False),
            column.offsets.to_numpy(zero_copy_only=False).astype(np.int64, copy=False))


def pad_rows(tokens: np.ndarray, offsets: np.ndarray, rows: np.ndarray, pad_value: int,
             side: str = "right") -> tuple[np.ndarray, np.ndarray]:
    """(B, W) padded rows ``rows`` of a flat list column, and the (B, W) bool mask of real tokens;
    W is the longest of the rows. ``side``: where the padding goes ("right" or "left")."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    width = max(int(lengths.max(initial=0)), 1)
    column = np.arange(width)
    shift = np.zeros_like(lengths) if side == "right" else width - lengths
    valid = (column >= shift[:, None]) & (column < (shift + lengths)[:, None])
    if tokens.size == 0:
        return np.full(valid.shape, pad_value, dtype=np.int64), valid
    take = np.clip(starts[:, None] + column - shift[:, None], 0, tokens.size - 1)
    return np.where(valid, tokens[take], pad_value), valid


class PaddedBatches:
    """Iterate over ``(positions, inputs)``: ``positions`` the (B,) dataset rows of the batch, ``inputs`` the
    model's padded int64 tensors (``input_ids``, ``attention_mask`` and ``token_type_ids`` where present)."""

    def __init__(self, dataset, tokenizer, batch_size: int):
        table = dataset.with_format("arrow")[:]  # the rows in order (an index mapping is applied)
        names = [name for name in MODEL_INPUTS if name in dataset.column_names]
        self.columns = {name: _flat_column(table, name) for name in names}
        self.pad_values = {"input_ids": tokenizer.pad_token_id or 0, "attention_mask": 0,
                           "token_type_ids": getattr(tokenizer, "pad_token_type_id", 0)}
        self.side = getattr(tokenizer, "padding_side", "right")
        offsets = self.columns["input_ids"][1]
        order = np.argsort(-np.diff(offsets), kind="stable")
        self.batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]

    def batch(self, positions: np.ndarray) -> dict[str, torch.Tensor]:
        inputs, valid = {}, None
        for name, (tokens, offsets) in self.columns.items():
            inputs[name], valid = pad_rows(tokens, offsets, positions, self.pad_values[name], self.side)
        if "attention_mask" not in inputs:
            inputs["attention_mask"] = valid.astype(np.int64)
        return {name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in inputs.items()}

    def __iter__(self) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
        for positions in self.batches:
            yield positions, self.batch(positions)
