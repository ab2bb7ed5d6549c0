"""Pool scoring: MC-dropout running statistics, batched passes, partial MC dropout, embeddings."""

import numpy as np
import pytest
import torch

from mlal.acquisition import Needs
from mlal.config import DataArguments, ModelArguments
from mlal.data import load_multilabel_data
from mlal.inference import encoder_layers, predict_outputs
from mlal.modeling import load_model, load_model_config, load_tokenizer

NEEDS = Needs(mc_dropout=True, embeddings=True)


@pytest.fixture(scope="module")
def scoring_setup(tiny_bert_dir):
    data = load_multilabel_data(DataArguments(dataset="synthetic", synthetic_size=40, synthetic_num_labels=4), 0)
    tokenizer = load_tokenizer(ModelArguments(model=tiny_bert_dir))
    tokenized = data.splits["train"].map(lambda b: tokenizer(b["text"]), batched=True, remove_columns=["text"])

    def model(dropout=0.1):
        args = ModelArguments(model=tiny_bert_dir, dropout=dropout)
        torch.manual_seed(0)
        return load_model(args, load_model_config(args, data.label_names))

    return model, tokenized, tokenizer


def _score(model, tokenized, tokenizer, **kw):
    return predict_outputs(model, tokenized, tokenizer, NEEDS, mc_passes=4, batch_size=8, seed=1, progress=False, **kw)


def test_mc_statistics_are_seeded_and_really_stochastic(scoring_setup):
    make, tokenized, tokenizer = scoring_setup
    model = make()
    a, b = _score(model, tokenized, tokenizer), _score(model, tokenized, tokenizer)
    assert np.array_equal(a.mc.mean_probs, b.mc.mean_probs)
    assert a.probs.shape == (len(tokenized), 4) and a.embeddings.shape == (len(tokenized), 32)
    assert not np.allclose(a.mc.mean_probs, a.probs, atol=1e-6)
    assert not model.training  # left in eval mode


def test_without_dropout_every_pass_equals_the_deterministic_one(scoring_setup):
    make, tokenized, tokenizer = scoring_setup
    model = make(dropout=0.0)
    for kwargs in ({}, {"mc_batched": True}, {"mc_dropout_layers": 1}, {"mc_dropout_layers": 1, "mc_batched": True}):
        out = _score(model, tokenized, tokenizer, **kwargs)
        assert np.allclose(out.mc.mean_probs, out.probs, atol=1e-5), kwargs
        p = out.probs.astype(np.float64)
        assert np.allclose(out.mc.mean_confidence, np.maximum(p, 1 - p), atol=1e-5)


def test_batched_passes_keep_the_deterministic_pass_and_distribution(scoring_setup):
    make, tokenized, tokenizer = scoring_setup
    model = make()
    a = _score(model, tokenized, tokenizer)
    b = _score(model, tokenized, tokenizer, mc_batched=True)
    assert np.allclose(a.probs, b.probs, atol=1e-6)
    assert np.abs(a.mc.mean_probs - b.mc.mean_probs).mean() < 0.05


def test_partial_mc_dropout_samples_only_top_layers_and_restores_the_model(scoring_setup):
    make, tokenized, tokenizer = scoring_setup
    model = make()
    layers_before = list(encoder_layers(model))
    full = _score(model, tokenized, tokenizer, mc_dropout_layers=0)
    partial = _score(model, tokenized, tokenizer, mc_dropout_layers=1)
    assert list(encoder_layers(model)) == layers_before
    assert np.allclose(full.probs, partial.probs, atol=1e-6)
    assert not np.allclose(partial.mc.mean_probs, partial.probs, atol=1e-6)  # still stochastic
    everything = _score(model, tokenized, tokenizer, mc_dropout_layers=2)  # all layers: full MC dropout
    assert np.array_equal(everything.mc.mean_probs, full.mc.mean_probs)


def test_a_half_precision_checkpoint_loads_in_float32(tiny_bert_dir, tmp_path):
    """transformers 5 keeps a checkpoint's own dtype by default; a float16 (or bfloat16) checkpoint must still
    train and score in float32 (mixed precision is --bf16/--fp16 autocast), with the checkpoint's values."""
    from transformers import BertForSequenceClassification

    BertForSequenceClassification.from_pretrained(tiny_bert_dir).half().save_pretrained(tmp_path)
    args = ModelArguments(model=str(tmp_path))
    model = load_model(args, load_model_config(args, ["a", "b", "c"]))
    saved = BertForSequenceClassification.from_pretrained(tmp_path, dtype=torch.float16)
    assert {parameter.dtype for parameter in model.parameters()} == {torch.float32}
    weight = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(model.state_dict()[weight], saved.state_dict()[weight].float())
