"""Trainer keys work or are refused up front; options are parsed once; fixed choices are Literal."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import ROOT, tiny_run_argv

from mlal.run_format import STATISTICS
from mlal.config import parse_config, parse_configs
from mlal.errors import UsageError
from mlal.trainer_options import HUB, SUPPORTED, TRAINER_KEYS, refused_reason, training_field_names

sys.path.insert(0, str(ROOT))
import run_active_learning  # noqa: E402

REFUSED = sorted(key for key, kind in TRAINER_KEYS.items() if kind not in (SUPPORTED, HUB))


def _main(capsys, argv) -> tuple[int, list[str]]:
    code = run_active_learning.main([str(a) for a in argv])
    return code, capsys.readouterr().err.splitlines()


def test_table_classifies_exactly_the_installed_training_arguments():
    # fails when transformers adds or removes a field: classify it in mlal/trainer_options.py
    assert set(TRAINER_KEYS) == set(training_field_names())
    assert {"resume_from_checkpoint", "do_train", "do_eval", "do_predict"} <= set(REFUSED)
    assert TRAINER_KEYS["hub_strategy"] == TRAINER_KEYS["hub_revision"] == HUB  # mlal.hub checks those
    assert refused_reason("a_field_from_a_newer_transformers") is not None  # unknown keys are refused


@pytest.mark.parametrize("key, value", [("resume_from_checkpoint", "ckpt"), ("do_train", "true"),
                                        ("do_eval", "true"), ("do_predict", "true"), ("label_smoothing_factor", "0.1")])
def test_refused_key_on_the_command_line_exits_2_with_the_reason_and_writes_nothing(tmp_path, capsys, key, value):
    out = tmp_path / "out"
    code, errors = _main(capsys, ["--output_dir", out, f"--{key}", value])
    assert code == 2 and len(errors) == 1, errors
    assert errors[0].startswith(f"error: --{key} is not used: {TRAINER_KEYS[key]}")
    assert not out.exists()


def test_resume_message_says_how_an_al_run_resumes(tmp_path, capsys):
    code, errors = _main(capsys, ["--output_dir", tmp_path / "out", "--resume_from_checkpoint", "x"])
    assert code == 2 and errors == ["error: --resume_from_checkpoint is not used: an AL run resumes by rerunning "
                                    "the same command (same --output_dir); remove it"]


def test_refused_key_in_yaml_is_refused_too(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("rounds: 2\ndo_predict: true\n")
    with pytest.raises(UsageError, match="--do_predict is not used"):
        parse_config(["--config", str(path)])


def test_only_keys_the_user_set_are_checked():
    # --eval_strategy epoch makes TrainingArguments turn on do_eval itself: not the user's doing, not refused
    config = parse_config(["--eval_strategy", "epoch", "--rounds", "2"])
    assert config.training.do_eval is True
    assert config.explicit == {"eval_strategy", "rounds"}
    assert parse_config([]).explicit == frozenset()


def test_a_supported_key_reaches_trainer(tiny_bert_dir, tmp_path, capsys):
    out = tmp_path / "run"
    code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, out, rounds=1) + ["--max_steps", "2"])
    assert code == 0, errors
    statistics = json.loads((out / STATISTICS).read_text())
    assert statistics["rounds"][0]["steps"] == 2  # 20 labeled examples at batch 8 would be 3 steps per epoch
    assert statistics["config"]["training"]["max_steps"] == 2


def test_literal_choices_are_shown_in_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_active_learning.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for choices in ("--loss {bce,weighted_bce}", "--initial_sampling {random,kmeans,stratified}",
                    "--margin_aggregation {min,mean}", "--beal_variant {label,set}", "--mmc_decision {logit,linear}",
                    "--label_format {auto,names,ids,multi_hot}"):
        assert choices in text
    assert "(default: 3)" in text  # defaults still shown although parsing suppresses them


@pytest.mark.parametrize("argv, message", [
    (["--loss", "focal"], "error: argument --loss: invalid choice: 'focal' (choose from 'bce', 'weighted_bce')"),
    (["--rounds", "0"], "error: --rounds must be at least 1 (got 0)"),
    (["--pool_fraction", "1.5"], "error: --pool_fraction must be in (0, 1]"),
    (["--dropout", "1"], "error: --dropout must be in [0, 1)"),
    (["--seed", "x"], "error: argument --seed: invalid int value: 'x'"),
])
def test_bad_values_are_one_line(tmp_path, capsys, argv, message):
    code, errors = _main(capsys, ["--output_dir", tmp_path / "out", *argv])
    assert code == 2 and len(errors) == 1 and errors[0].startswith(message), errors
    assert not (tmp_path / "out").exists()


def test_bad_choice_in_yaml_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("beal_variant: sets\n")
    with pytest.raises(UsageError, match="invalid choice: 'sets'"):
        parse_config(["--config", str(path)])


def test_sweep_expands_parsed_values_with_one_folder_per_run(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("strategy: random\nrounds: 2\n")
    configs = parse_configs(["--config", str(path), "--seed", "1,2", "--output-dir", str(tmp_path / "s")])
    assert [(c.al.strategy, c.training.seed, c.al.rounds) for c in configs] == [("random", 1, 2), ("random", 2, 2)]
    assert [c.training.output_dir for c in configs] == [f"{tmp_path}/s/random/seed1", f"{tmp_path}/s/random/seed2"]
    configs = parse_configs(["--strategy", "random,entropy"])
    assert [c.al.strategy for c in configs] == ["random", "entropy"] and not configs[0].output_dir_given
    with pytest.raises(UsageError, match="is a sweep"):
        parse_config(["--strategy", "random,entropy"])
