"""Every strategy through the loop; the demo config as shipped; one round on real GoEmotions."""

import numpy as np
import pytest

from mlal.acquisition import STRATEGIES
from mlal import make_config, run_experiment
from mlal.run_format import EVAL_DIR, round_file


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_each_strategy_runs_one_round_of_the_demo_config(strategy, tiny_bert_dir, tmp_path):
    """The demo config with the tiny BERT and one epoch, so all strategies fit in seconds."""
    config = make_config(
        config="configs/demo.yaml", strategy=strategy, model=tiny_bert_dir, rounds=2, num_train_epochs=1,
        synthetic_size=400, pool_subsample=150, mc_passes=3, output_dir=str(tmp_path / strategy), disable_tqdm=True,
    )
    stats = run_experiment(config, log=lambda s: None)
    first, second = stats["rounds"]
    assert len(first["selected_ids"]) == 60 and len(set(first["selected_ids"])) == 60
    labeled = np.load(tmp_path / strategy / EVAL_DIR / round_file(0))["labeled_ids"]
    assert not set(first["selected_ids"]) & set(labeled.tolist())
    assert second["labeled_count"] == 120


def test_demo_config_as_shipped(tmp_path):
    """configs/demo.yaml with the pretrained MiniLM: it must learn (well above chance) in its 3 rounds."""
    stats = run_experiment(make_config(config="configs/demo.yaml", output_dir=str(tmp_path / "demo"),
                                       disable_tqdm=True), log=lambda s: None)
    rounds = stats["rounds"]
    assert [r["labeled_count"] for r in rounds] == [60, 120, 180]
    assert rounds[-1]["test"]["mean_average_precision"] > 0.6
    assert rounds[-1]["test"]["micro_f1"] > 0.5


def test_one_round_on_goemotions_slice(goemotions_dir, tmp_path):
    config = make_config(
        config="configs/fast_tuned.yaml", dataset=str(goemotions_dir), train_subsample=300, initial_size=100,
        query_size=50, rounds=2, num_train_epochs=1, validation_subsample=200, test_subsample=200,
        pool_subsample=None, output_dir=str(tmp_path / "goe"), disable_tqdm=True,
    )
    stats = run_experiment(config, log=lambda s: None)
    assert stats["label_names"][:2] == ["admiration", "amusement"] and len(stats["label_names"]) == 28
    assert [r["labeled_count"] for r in stats["rounds"]] == [100, 150]
    assert stats["rounds"][0]["pool_scored"] == 200
