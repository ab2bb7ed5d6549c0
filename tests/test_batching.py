"""Padded batches built with numpy equal the tokenizer's own padding, row for row."""

import numpy as np
import pytest
import torch
from datasets import Dataset

from mlal.batching import PaddedBatches, pad_rows
from mlal.modeling import resolve_model_path

TEXTS = ["a short one", "", "a much longer text with many more words than the others here", "two words",
         "joy and surprise, then anger", "x"]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model_path("minilm-l6"))


def _tokenised(tokenizer, texts=TEXTS):
    return Dataset.from_dict({"text": texts}).map(lambda b: tokenizer(b["text"], truncation=True, max_length=16),
                                                  batched=True, remove_columns=["text"])


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_batches_equal_tokenizer_pad(tokenizer, side, batch_size):
    tokenizer.padding_side = side
    try:
        dataset = _tokenised(tokenizer).select([5, 2, 0, 3, 1, 4])  # an index mapping, as the loop's selections
        seen = []
        for positions, inputs in PaddedBatches(dataset, tokenizer, batch_size):
            rows = [{k: dataset[int(i)][k] for k in ("input_ids", "attention_mask", "token_type_ids")}
                    for i in positions]
            expected = tokenizer.pad(rows, return_tensors="pt")
            assert set(inputs) == set(expected)
            for name in expected:
                assert inputs[name].dtype == torch.int64 and torch.equal(inputs[name], expected[name]), name
            seen.extend(positions.tolist())
        assert sorted(seen) == list(range(len(dataset)))
    finally:
        tokenizer.padding_side = "right"


def test_rows_come_longest_first(tokenizer):
    dataset = _tokenised(tokenizer)
    lengths = [len(ids) for ids in dataset["input_ids"]]
    order = np.concatenate(PaddedBatches(dataset, tokenizer, 2).batches)
    assert [lengths[i] for i in order] == sorted(lengths, reverse=True)


def test_pad_rows_by_hand():
    tokens, offsets = np.array([7, 8, 9, 5]), np.array([0, 3, 3, 4])  # rows [7, 8, 9], [], [5]
    padded, valid = pad_rows(tokens, offsets, np.array([2, 0, 1]), pad_value=-1)
    assert padded.tolist() == [[5, -1, -1], [7, 8, 9], [-1, -1, -1]]
    assert valid.tolist() == [[True, False, False], [True, True, True], [False, False, False]]
    padded, _ = pad_rows(tokens, offsets, np.array([2, 0]), pad_value=0, side="left")
    assert padded.tolist() == [[0, 0, 5], [7, 8, 9]]
