"""Shared fixtures: a tiny randomly initialised BERT (with MiniLM's real WordPiece tokenizer)
and paths to the shared datasets (tests that need them skip where ../shared/data is absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> str:
    """A 2-layer, hidden-32 BERT with random weights, saved with a real BERT tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from mlal.modeling import resolve_model_path

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("minilm-l6"))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, num_labels=2,
    )
    import torch

    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture
def goemotions_dir() -> Path:
    path = SHARED_DATA / "goemotions"
    if not (path / "train.tsv").is_file():
        pytest.skip("../shared/data/goemotions is absent")
    return path


@pytest.fixture
def reuters_dir() -> Path:
    path = SHARED_DATA / "reuters21578" / "modapte90"
    if not (path / "train.jsonl.gz").is_file():
        pytest.skip("../shared/data/reuters21578 is absent")
    return path


def tiny_run_options(tiny_bert_dir: str, output_dir, **overrides) -> dict:
    """Options for a seconds-long run on synthetic data with the tiny BERT."""
    options = dict(
        dataset="synthetic", synthetic_size=300, synthetic_num_labels=5, model=tiny_bert_dir, max_length=32,
        initial_size=20, query_size=10, rounds=2, num_train_epochs=1, per_device_train_batch_size=8,
        learning_rate=1e-3, output_dir=str(output_dir), disable_tqdm=True, seed=7, mc_passes=3,
        use_cpu=True,
    )
    options.update(overrides)
    return options


def tiny_run_argv(tiny_bert_dir: str, output_dir, **overrides) -> list[str]:
    """The same options as :func:`tiny_run_options`, as command-line arguments."""
    from mlal.config import options_to_argv

    return options_to_argv(tiny_run_options(tiny_bert_dir, output_dir, **overrides))


# ---------------------------------------------------------------- shared by the hardening tests (issue 15)
def run_tiny(tiny_bert_dir: str, output_dir, **overrides) -> dict:
    """A one-round tiny run through the Python API (silent); returns its statistics."""
    from mlal import make_config, run_experiment

    options = tiny_run_options(tiny_bert_dir, output_dir, **{"rounds": 1, **overrides})
    return run_experiment(make_config(**options), log=lambda s: None)


def run_cli(capsys, argv) -> tuple[int, list[str]]:
    """Run the command line in this process; return its exit code and its ``error:`` lines."""
    import run_active_learning

    code = run_active_learning.main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith("error:")]


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def finished_run(tiny_bert_dir, tmp_path_factory) -> Path:
    """A finished one-round tiny run; tests that need an old run to protect work on a copy (copy_run)."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    run_tiny(tiny_bert_dir, folder)
    return folder


def copy_run(finished_run: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "old"
    shutil.copytree(finished_run, target)
    return target
