import pytest

from mlal.config import load_yaml_config, make_config, parse_config
from mlal.errors import UsageError


def test_yaml_values_and_command_line_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("strategy: random\nlearning_rate: 5.0e-6\nnum_train_epochs: 3\nrounds: 4\nmax_length: 64\n")
    config = parse_config(["--config", str(path), "--rounds", "2", "--learning_rate", "1e-4"])
    assert config.al.strategy == "random"
    assert config.al.rounds == 2  # command line wins
    assert config.training.learning_rate == pytest.approx(1e-4)
    assert config.training.num_train_epochs == 3  # TrainingArguments pass through from YAML
    assert config.data.max_length == 64
    assert config.output_dir_given is False


def test_yaml_float_written_without_dot_is_still_a_float(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 5e-6\n")  # PyYAML reads this as a string
    assert parse_config(["--config", str(path)]).training.learning_rate == pytest.approx(5e-6)


def test_unknown_yaml_key_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("strategy: entropy\nlearning_rat: 0.1\n")
    with pytest.raises(UsageError, match="unknown config key 'learning_rat'"):
        load_yaml_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        parse_config(["--config", str(tmp_path / "nope.yaml")])


def test_dash_and_underscore_spellings_and_output_dir_flag():
    config = parse_config(["--list-strategies", "--output-dir", "x"])
    assert config.al.list_strategies is True
    assert config.output_dir_given is True


def test_make_config_rejects_unknown_option():
    with pytest.raises(UsageError, match="unknown option 'nonsense'"):
        make_config(nonsense=1)


def test_shipped_configs_parse():
    for name in ("demo", "fast", "fast_tuned", "paper"):
        config = parse_config(["--config", f"configs/{name}.yaml"])
        assert config.training.seed == 42
    fast = parse_config(["--config", "configs/fast.yaml"])
    assert (fast.training.learning_rate, fast.training.num_train_epochs, fast.data.max_length) == (5e-6, 3, 128)
    assert fast.al.pool_fraction == 0.05 and fast.model.dropout == 0.1
    paper = parse_config(["--config", "configs/paper.yaml"])
    assert (paper.training.learning_rate, paper.training.num_train_epochs, paper.data.max_length) == (2e-5, 20, 512)
    assert paper.model.model == "bert-base-uncased"
    assert paper.al.strategy == "beal"  # the paper's strategy, as the file's comments say


def test_data_reading_options():
    config = parse_config(["--label_format", "multi_hot", "--id_column", "uid", "--encoding", "latin-1"])
    assert (config.data.label_format, config.data.id_column, config.data.encoding) == ("multi_hot", "uid", "latin-1")
    default = parse_config([])
    assert (default.data.label_format, default.data.id_column, default.data.encoding) == ("auto", None, "utf-8")


def test_bf16_on_a_cpu_only_machine_trains_on_the_cpu(monkeypatch):
    import mlal.config as config_module

    monkeypatch.setattr(config_module, "_accelerator_available", lambda: False)
    config = make_config(bf16=True)
    assert config.training.bf16 and config.training.use_cpu
    assert not make_config().training.use_cpu  # full precision: nothing forced


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without a GPU")
def test_mixed_precision_with_an_accelerator_or_an_explicit_use_cpu_is_left_to_trainer(monkeypatch):
    import mlal.config as config_module

    monkeypatch.setattr(config_module, "_accelerator_available", lambda: False)
    with pytest.raises(UsageError, match="invalid training options"):
        make_config(bf16=True, use_cpu=False)  # an explicit --use_cpu false is the user's word
    monkeypatch.setattr(config_module, "_accelerator_available", lambda: True)  # this machine has none in fact:
    with pytest.raises(UsageError, match="invalid training options"):  # use_cpu was not forced, Trainer refuses
        make_config(bf16=True)


@pytest.mark.parametrize("precision, expected", [("auto", "bfloat16"), ("fp32", None)])
def test_scoring_precision_decides_the_autocast_of_evaluation_and_pool_scoring(
        tiny_bert_dir, tmp_path, monkeypatch, precision, expected):
    import torch

    import mlal.config as config_module
    import mlal.round as round_module
    from conftest import run_tiny

    monkeypatch.setattr(config_module, "_accelerator_available", lambda: False)  # --bf16 runs on the CPU here
    seen = []
    real = round_module.predict_outputs

    def recording(*args, **kwargs):
        seen.append(kwargs.get("autocast_dtype"))
        return real(*args, **kwargs)

    monkeypatch.setattr(round_module, "predict_outputs", recording)
    run_tiny(tiny_bert_dir, tmp_path / "run", bf16=True, scoring_precision=precision, rounds=2)
    assert seen and set(seen) == {getattr(torch, expected) if expected else None}


def test_scoring_precision_accepts_only_its_choices():
    with pytest.raises(UsageError, match="invalid choice: 'fp16'"):
        parse_config(["--scoring_precision", "fp16"])
