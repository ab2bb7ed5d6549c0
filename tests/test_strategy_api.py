"""Strategies as library objects: parameters, repr, option errors, Needs errors, MC statistics declared by
the strategy (variation ratios), plug-ins by import path and entry point, the CLI's option table."""

import json
import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, tiny_run_argv, tiny_run_options
from test_strategies import random_inputs

from mlal.acquisition import (STRATEGIES, AcquisitionInputError, MCAccumulator, MCDropoutStats, MCStatistic, Needs,
                              Strategy, get_strategy, list_strategies, mc_statistics_from_passes)
from mlal.acquisition.mc import POSITIVE_VOTES, STANDARD_MC_STATISTICS
from mlal.config import ActiveLearningArguments
from mlal.errors import UsageError
from mlal.run_format import strategy_folder
from mlal.strategy_options import CLI_STRATEGY_OPTIONS, strategy_from_config
from mlal.sweep import expand_sweep

PLUGIN = textwrap.dedent('''
    """A user's own strategies, outside the repository."""
    from mlal.acquisition import ScoringStrategy


    class LowestIdFirst(ScoringStrategy):
        """Acquires the smallest example ids first: score = offset - id."""

        summary = "smallest ids first (a test plug-in)"

        def __init__(self, offset: float = 0.0):
            self.offset = offset

        def score(self, inputs):
            return self.offset - inputs.pool_ids.astype(float)


    class NotAStrategy:
        pass
''')


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A folder on sys.path holding my_plugin.py and an installed-looking distribution with an entry point."""
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "my_plugin_dist-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugin-dist\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mlal.strategies]\nlowest_id = my_plugin:LowestIdFirst\n"
                                           "broken = my_plugin:NotAStrategy\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("my_plugin", None)


# ------------------------------------------------------------------ parameters, repr, unknown options
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_get_params_round_trip(name):
    strategy = get_strategy(name)
    rebuilt = type(strategy)(**strategy.get_params())
    assert rebuilt.get_params() == strategy.get_params()
    assert repr(strategy) == f"{type(strategy).__name__}()"  # defaults are not shown, as in scikit-learn


def test_parameters_are_stored_under_their_own_names_and_shown_when_changed():
    margin = get_strategy("margin", aggregation="mean")
    assert margin.aggregation == "mean" and margin.get_params() == {"aggregation": "mean"}
    assert repr(margin) == "Margin(aggregation='mean')"
    cluster = get_strategy("cluster_margin", factor=3, threshold=2.5)
    assert cluster.get_params() == {"factor": 3, "threshold": 2.5, "neighbors": None}
    assert repr(cluster) == "ClusterMargin(factor=3, threshold=2.5)"
    assert repr(get_strategy("beal", variant="set")) == "BEAL(variant='set')"
    assert margin.set_params(aggregation="min") is margin and margin.aggregation == "min"
    with pytest.raises(ValueError, match="aggregation must be one of 'min', 'mean', got 'max'"):
        margin.set_params(aggregation="max")


def test_unknown_option_names_the_option_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"^strategy 'margin' has no option 'margin_aggregation'; its options: "
                                         r"aggregation$"):
        get_strategy("margin", margin_aggregation="mean")  # before: silently gave 'min'
    with pytest.raises(ValueError, match="strategy 'entropy' has no option 'random_state'; it takes no options"):
        get_strategy("entropy", random_state=0)  # randomness is select's random_state, nothing else


def test_random_state_has_one_place_select():
    inputs = random_inputs()
    random = get_strategy("random")
    assert random.select(inputs, 5, random_state=1).positions.tolist() == \
        random.select(inputs, 5, random_state=1).positions.tolist()
    batches = {tuple(random.select(inputs, 5, random_state=seed).positions) for seed in range(4)}
    assert len(batches) == 4
    with pytest.raises(AcquisitionInputError, match="random_state must be an integer"):
        random.select(inputs, 5, random_state=None)


# ------------------------------------------------------------------ Needs and k errors
def test_missing_embeddings_named_in_one_line():
    inputs = random_inputs()
    inputs = replace(inputs, pool=replace(inputs.pool, embeddings=None))
    with pytest.raises(AcquisitionInputError) as error:
        get_strategy("badge").select(inputs, 5)
    assert str(error.value).startswith("badge needs embeddings of the pool (AcquisitionInput.pool.embeddings is None)")
    assert "\n" not in str(error.value)


def test_missing_mc_statistic_is_named():
    inputs = random_inputs()
    inputs = replace(inputs, pool=replace(inputs.pool, mc=MCDropoutStats(4, mean_probs=inputs.pool.mc.mean_probs)))
    with pytest.raises(AcquisitionInputError, match=r"^variation_ratios needs the MC-dropout statistic "
                                                    r"'positive_votes' of the pool \(.*holds only mean_probs\)"):
        get_strategy("variation_ratios").select(inputs, 5)


@pytest.mark.parametrize("k", [0, -1, 61])
def test_k_outside_the_pool_raises_value_error(k):
    with pytest.raises(ValueError, match=r"batch size k=-?\d+ must be an integer in \[1, 60\]"):
        get_strategy("entropy").select(random_inputs(), k)


# ------------------------------------------------------------------ MC statistics: declared by the strategy
def test_variation_ratios_by_hand():
    # T = 4 passes, N = 2 rows, L = 2 labels. Row 0: label 0 votes (p > .5) 1,1,1,0 -> f = .75, ratio .25;
    # label 1 votes 1,0,1,0 -> f = .5, ratio .5; score = (.25 + .5) / 2 = .375. Row 1: every pass votes the
    # same (p = .5 is a negative vote) -> score 0.
    passes = np.array([
        [[0.9, 0.6], [0.1, 0.5]],
        [[0.8, 0.4], [0.2, 0.5]],
        [[0.7, 0.9], [0.3, 0.5]],
        [[0.2, 0.1], [0.4, 0.5]],
    ])
    mc = mc_statistics_from_passes(passes, (POSITIVE_VOTES,))
    np.testing.assert_allclose(mc.positive_votes, [[0.75, 0.5], [0.0, 0.0]])
    inputs = random_inputs(n=2, n_labels=2)
    inputs = replace(inputs, pool=replace(inputs.pool, probs=passes.mean(0), mc=mc))
    assert get_strategy("variation_ratios").score(inputs) == pytest.approx([0.375, 0.0])
    assert get_strategy("variation_ratios").select(inputs, 1).positions.tolist() == [0]


def test_accumulator_streams_the_declared_statistics_only():
    rng = np.random.default_rng(0)
    passes = rng.random((5, 30, 4))
    square = MCStatistic("mean_square", lambda p: p**2)  # a new strategy's own term (e.g. for a variance)
    statistics = (*STANDARD_MC_STATISTICS, POSITIVE_VOTES, square, square)
    streamed = MCAccumulator(statistics, n=30, n_labels=4, passes=5)
    order = rng.permutation(30)
    for start in range(0, 30, 8):  # batches in any order, passes one by one
        rows = order[start:start + 8]
        for p in passes[:, rows]:
            streamed.add(rows, p)
    result, expected = streamed.result(), mc_statistics_from_passes(passes, statistics)
    assert set(result.means) == {s.name for s in statistics}  # one sum per declared statistic, whatever T
    assert {name: values.shape for name, values in streamed.sums.items()}["mean_set_confidence"] == (30,)
    assert max(values.size for values in streamed.sums.values()) == 30 * 4
    for name in expected.means:
        np.testing.assert_allclose(result[name], expected[name], rtol=1e-12)
    np.testing.assert_allclose(result.mean_square, (passes**2).mean(0), rtol=1e-12)


def test_needs_mc_dropout_alone_means_the_standard_statistics():
    assert Needs(mc_dropout=True).mc_statistics == STANDARD_MC_STATISTICS
    assert Needs(mc_statistics=(POSITIVE_VOTES,)).mc_dropout and not Needs().mc_dropout
    with pytest.raises(ValueError, match="Python identifier"):
        MCStatistic("passes", lambda p: p)


def test_state_files_round_trip_any_statistic():
    from mlal.state import arrays_to_outputs, outputs_to_arrays

    inputs = random_inputs()
    back = arrays_to_outputs("pool_", outputs_to_arrays("pool_", inputs.pool))
    assert set(back.mc.means) == set(inputs.pool.mc.means) and back.mc.passes == inputs.pool.mc.passes
    np.testing.assert_array_equal(back.mc.positive_votes, inputs.pool.mc.positive_votes)


def test_list_strategies_says_what_each_costs():
    costs = {info.name: info.cost for info in list_strategies()}
    assert costs["entropy"] == "1 forward pass"
    assert costs["bald"] == "1 forward pass + T MC-dropout passes (mean_probs, mean_entropy)"
    assert costs["badge"] == "1 forward pass + embeddings"
    assert costs["coreset"] == "1 forward pass + embeddings + labeled-set outputs and embeddings"
    assert costs["mmc"] == "1 forward pass + labeled-set outputs"


# ------------------------------------------------------------------ plug-ins
def test_plugin_by_import_path(plugin_dir):
    strategy = get_strategy("my_plugin:LowestIdFirst", offset=1.0)
    assert isinstance(strategy, Strategy) and strategy.name == "LowestIdFirst"
    assert repr(strategy) == "LowestIdFirst(offset=1.0)"
    inputs = random_inputs()
    assert inputs.pool_ids[strategy.select(inputs, 3).positions].tolist() == [1000, 1001, 1002]


@pytest.mark.parametrize("path, message", [
    ("no_such_module:X", "cannot import module 'no_such_module'"),
    ("my_plugin:Missing", "module 'my_plugin' has no 'Missing'"),
    ("my_plugin:NotAStrategy", "is not a strategy: make it a subclass of mlal.acquisition.Strategy"),
    ("my_plugin:", "write an import path as module:ClassName"),
])
def test_plugin_errors_are_one_line(plugin_dir, path, message):
    with pytest.raises(ValueError, match=message) as error:
        get_strategy(path)
    assert "\n" not in str(error.value)


def test_plugin_by_entry_point(plugin_dir):
    assert type(get_strategy("lowest_id")).__name__ == "LowestIdFirst"
    listed = {info.name: info for info in list_strategies()}
    assert listed["lowest_id"].summary == "smallest ids first (a test plug-in)"
    assert listed["lowest_id"].options == ("offset",)
    assert "cannot be used" in listed["broken"].summary and "not a strategy" in listed["broken"].summary
    with pytest.raises(ValueError, match="entry point 'broken'"):
        get_strategy("broken")


# ------------------------------------------------------------------ the command line's option table
def test_defaults_never_refused_and_options_mapped(plugin_dir):
    for name in [*STRATEGIES, "my_plugin:LowestIdFirst", "lowest_id"]:
        built = strategy_from_config(ActiveLearningArguments(strategy=name))  # every CLI option at its default
        assert built.get_params() == get_strategy(name).get_params()
    margin = strategy_from_config(ActiveLearningArguments(strategy="margin", margin_aggregation="mean"))
    assert margin.aggregation == "mean"
    mapped = {owner for owner, _ in CLI_STRATEGY_OPTIONS.values()}
    assert mapped <= set(STRATEGIES)


def test_option_for_another_strategy_refused_in_one_line():
    with pytest.raises(UsageError, match=r"^--margin_aggregation is an option of strategy 'margin', not of "
                                         r"'entropy'; drop it or use --strategy margin$"):
        strategy_from_config(ActiveLearningArguments(strategy="entropy", margin_aggregation="mean"))
    with pytest.raises(UsageError, match=r"^--adaptive_beta must be a number in \[0, 1\], got 2"):
        strategy_from_config(ActiveLearningArguments(strategy="adaptive", adaptive_beta=2.0))


def test_plugin_run_folders_have_no_colon():
    assert strategy_folder("entropy") == "entropy"
    assert strategy_folder("pkg.my_module:MyStrategy") == "pkg.my_module.MyStrategy"
    runs = expand_sweep({"strategy": ["random", "my_module:Mine"], "output_dir": "out"}, {"seed": 42})
    assert [run["output_dir"] for run in runs] == ["out/random/seed42", "out/my_module.Mine/seed42"]


def test_cli_sweep_with_a_plugin_from_the_current_folder(tiny_bert_dir, plugin_dir):
    """`--strategy random,my_plugin:LowestIdFirst` from the folder holding my_plugin.py: both runs finish,
    the plug-in's run folder has no colon, and it acquired the smallest pool ids."""
    argv = tiny_run_argv(tiny_bert_dir, plugin_dir / "out", rounds=2)
    argv[argv.index("--output_dir") + 1] = "out"
    result = subprocess.run([sys.executable, str(ROOT / "run_active_learning.py"), *argv, "--strategy",
                             "random,my_plugin:LowestIdFirst"], capture_output=True, text=True, cwd=plugin_dir,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    statistics = json.loads((plugin_dir / "out" / "my_plugin.LowestIdFirst" / "seed7" / "statistics.json").read_text())
    round_0 = statistics["rounds"][0]
    assert round_0["selected_ids"] == sorted(round_0["selected_ids"])
    labeled = set(np.load(plugin_dir / "out" / "my_plugin.LowestIdFirst" / "seed7" / "eval" / "round_000.npz")
                  ["labeled_ids"].tolist())
    pool = [i for i in range(max(round_0["selected_ids"]) + 1) if i not in labeled]
    assert round_0["selected_ids"] == pool[:10]
    assert (plugin_dir / "out" / "random" / "seed7" / "statistics.json").is_file()


def test_variation_ratios_runs_end_to_end(tiny_bert_dir, tmp_path):
    """The engine computes a statistic it has never heard of (positive_votes) from the strategy's Needs."""
    from mlal import make_config, run_experiment

    stats = run_experiment(make_config(**tiny_run_options(tiny_bert_dir, tmp_path / "vr", strategy="variation_ratios")),
                           log=lambda s: None)
    scores = np.load(tmp_path / "vr" / "eval" / "round_000.npz")["pool_scores"]
    assert len(stats["rounds"]) == 2 and np.isfinite(scores).all() and 0 <= scores.min() and scores.max() <= 0.5


def _cli(*args, cwd, pythonpath=None):
    import os

    env = {**os.environ, **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    return subprocess.run([sys.executable, str(ROOT / "run_active_learning.py"), *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def test_cli_lists_costs_and_installed_plugins(plugin_dir):
    lines = _cli("--list-strategies", cwd=plugin_dir, pythonpath=plugin_dir).stdout.splitlines()
    assert lines[lines.index(next(line for line in lines if line.startswith("bald "))) + 1].split() == \
        ["cost:", "1", "forward", "pass", "+", "T", "MC-dropout", "passes", "(mean_probs,", "mean_entropy)"]
    plugin = next(i for i, line in enumerate(lines) if line.startswith("lowest_id "))
    assert "smallest ids first" in lines[plugin] and lines[plugin + 1].split()[-1] == "offset"


def test_cli_refuses_an_option_of_another_strategy_before_writing(tmp_path):
    result = _cli("--strategy", "random,entropy", "--margin_aggregation", "mean", "--output_dir", "out", cwd=tmp_path)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(errors) == 1 and "--margin_aggregation is an option of strategy" in errors[0]
    assert not (tmp_path / "out").exists()
