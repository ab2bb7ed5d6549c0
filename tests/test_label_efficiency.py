"""The label-efficiency summaries, computed by hand on small curves and on saved runs."""

import json
import math
import sys

import numpy as np
import pytest

from conftest import ROOT
from mlal.run_format import STATISTICS

sys.path.insert(0, str(ROOT / "benchmarks"))
import label_efficiency as le  # noqa: E402
import run_records as rr  # noqa: E402


def test_normalised_auc_is_the_mean_over_the_budget():
    # trapezoids: (100 * (0.2 + 0.4) / 2 + 200 * (0.4 + 0.6) / 2) / 300 = (30 + 100) / 300
    assert le.normalised_auc([100, 200, 400], [0.2, 0.4, 0.6]) == pytest.approx(130 / 300)
    assert le.normalised_auc([100, 500], [0.5, 0.5]) == pytest.approx(0.5)


def test_labels_to_reach_interpolates_and_says_never():
    assert le.labels_to_reach([100, 200, 300], [0.1, 0.3, 0.5], 0.4) == pytest.approx(250)
    assert le.labels_to_reach([100, 200, 300], [0.5, 0.6, 0.7], 0.4) == 100
    assert math.isnan(le.labels_to_reach([100, 200], [0.1, 0.2], 0.4))


def test_confidence_half_width_by_hand():
    # n = 3, t_{0.975, 2} = 4.3027; std 0.1 -> 4.3027 * 0.1 / sqrt(3)
    assert le.confidence_half_width(0.1, 3) == pytest.approx(4.302653 * 0.1 / np.sqrt(3), rel=1e-5)
    assert math.isnan(le.confidence_half_width(0.1, 1))


def _write_run(folder, strategy, seed, maps, calibration=None):
    rounds = [{"round": i, "labeled_count": 100 * (i + 1), "test": {"mean_average_precision": m, "macro_f1": m / 2},
               "test_at_tuned_threshold": {"micro_f1": m}, "seconds": {"train": 10.0, "evaluate": 1.0,
               "pool_scoring": 2.0, "acquisition": 0.1}} for i, m in enumerate(maps)]
    folder.mkdir(parents=True)
    config = {"active_learning": {"strategy": strategy, **({"acquisition_calibration": calibration} if calibration else {})}}
    (folder / STATISTICS).write_text(json.dumps({"config": config, "seed": seed, "label_names": ["a"],
                                                        "rounds": rounds}))


def test_summary_pairs_seeds_with_random(tmp_path):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3, 0.4])
    _write_run(tmp_path / "random/seed2", "random", 2, [0.2, 0.3, 0.4])
    _write_run(tmp_path / "entropy/seed1", "entropy", 1, [0.2, 0.4, 0.5])
    _write_run(tmp_path / "entropy/seed2", "entropy", 2, [0.2, 0.4, 0.5])
    tables = le.summarize([tmp_path])
    auc = {(r["strategy"], r["metric"]): r for r in tables["auc"]}
    mean, std, n = auc[("entropy", "mAP")]["auc_minus_random"]
    # entropy's area (0.075 + 0.225) / 2... per 100 labels: ((0.2+0.4)/2 + (0.4+0.5)/2) / 2 = 0.375;
    # random's ((0.2+0.3)/2 + (0.3+0.4)/2) / 2 = 0.3
    assert (mean, std, n) == pytest.approx((0.075, 0.0, 2))
    reach = {(r["strategy"], r["metric"]): r for r in tables["reach"]}
    # random ends at 0.4 with 300 labels; entropy reaches 0.4 at 200 labels
    assert reach[("entropy", "mAP")]["fraction"] == pytest.approx(2 / 3)
    markdown = le.to_markdown(tables)
    assert "| entropy | mAP | 100-300 |" in markdown and "67%" in markdown


def test_a_calibrated_variant_is_a_line_of_its_own_paired_with_random(tmp_path):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3, 0.4])
    _write_run(tmp_path / "entropy/seed1", "entropy", 1, [0.2, 0.4, 0.5], calibration="none")
    _write_run(tmp_path / "platt/entropy/seed1", "entropy", 1, [0.3, 0.5, 0.4], calibration="platt")
    tables = le.summarize([tmp_path])
    auc = {(r["strategy"], r["metric"]): r for r in tables["auc"]}
    assert auc[("entropy", "mAP")]["auc_minus_random"][0] == pytest.approx(0.075)
    assert auc[("entropy", "mAP")]["final_minus_random"][0] == pytest.approx(0.1)
    # ((0.3 + 0.5) / 2 + (0.5 + 0.4) / 2) / 2 = 0.425 - random's 0.3
    assert auc[("entropy+platt", "mAP")]["auc_minus_random"][0] == pytest.approx(0.125)
    assert auc[("entropy+platt", "mAP")]["final_minus_random"][0] == pytest.approx(0.0)
    assert [row["strategy"] for row in tables["seconds"]] == ["random", "entropy", "entropy+platt"]


def test_full_data_reference_rows_and_table(tmp_path):
    _write_run(tmp_path / "full/random/seed1", "random", 1, [0.6])
    _write_run(tmp_path / "full/random/seed2", "random", 2, [0.5])
    rows = {r["metric"]: r for r in le.reference_rows([tmp_path / "full"])}
    mean, std, n = rows["mAP"]["value"]
    assert (mean, n) == pytest.approx((0.55, 2)) and std == pytest.approx(np.std([0.6, 0.5], ddof=1))
    assert rows["macro-F1"]["value"][0] == pytest.approx(0.275) and rows["mAP"]["labels"] == 100
    _write_run(tmp_path / "al/random/seed1", "random", 1, [0.2, 0.3])
    tables = le.summarize([tmp_path / "al"])
    tables["reference"] = le.reference_rows([tmp_path / "full"])
    assert "| mAP | 100 | 0.5500 ± 0.0707 (n=2) |" in le.to_markdown(tables)


def test_reference_runs_every_training_example_in_one_round(monkeypatch, tmp_path):
    calls, sized_with = [], []
    monkeypatch.setattr(le, "training_split_size", lambda config, options=(): sized_with.append(list(options)) or 1234)
    monkeypatch.setattr(le.subprocess, "call", lambda command, cwd: calls.append(command) or 0)
    le.main(["reference", "--config", "c.yaml", "--seeds", "1,2", "--output_dir", str(tmp_path), "--dataset", "d"])
    assert sized_with == [["--dataset", "d"]]  # the split is sized from the dataset the runs get
    assert len(calls) == 2
    options = dict(zip(calls[0][2::2], calls[0][3::2]))
    assert options["--initial_size"] == "1234" and options["--rounds"] == "1" and options["--seed"] == "1,"
    assert options["--num_train_epochs"] == "3"


def test_the_training_split_size_follows_the_options_every_run_gets(tmp_path):
    """``reference --dataset X`` sizes the full-data run from X, not from the config's dataset."""
    from mlal.config import DataArguments
    from mlal.data import load_multilabel_data
    from mlal.errors import UsageError

    config = tmp_path / "c.yaml"
    config.write_text(f"dataset: {tmp_path / 'nowhere'}\n")
    with pytest.raises(UsageError, match="does not exist"):
        le.training_split_size(str(config))
    options = ["--dataset", "synthetic", "--synthetic_size", "300"]
    expected = len(load_multilabel_data(DataArguments(dataset="synthetic", synthetic_size=300), seed=0).targets("train"))
    assert le.training_split_size(str(config), options) == expected > 0


def test_seconds_are_robust_medians_and_run_totals(tmp_path):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3, 0.4])
    _write_run(tmp_path / "random/seed2", "random", 2, [0.2, 0.3, 0.4])
    stats_file = tmp_path / "random/seed2" / STATISTICS
    stats = json.loads(stats_file.read_text())
    stats["rounds"][2]["seconds"]["train"] = 1000.0  # one round slowed by another job on the machine
    stats_file.write_text(json.dumps(stats))
    row = le.summarize([tmp_path])["seconds"][0]
    # train seconds per round: 10, 10, 10, 10, 10, 1000 -> median 10; totals 30 and 1020 -> median 525
    assert row["train_median_per_round"] == 10.0 and row["train_run_total"] == pytest.approx(525.0)
    assert row["pool_scoring_run_total"] == 6.0 and row["seeds"] == 2


def test_a_strategy_still_running_is_not_called_never_reaching(tmp_path):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3, 0.4])
    _write_run(tmp_path / "margin/seed1", "margin", 1, [0.1, 0.2])  # 2 of 3 rounds so far
    markdown = le.to_markdown(le.summarize([tmp_path]))
    assert "| margin | mAP | 0.4000 | 300 | not reached by 200 (runs still going) |" in markdown


def test_a_real_full_data_run_trains_on_the_whole_training_split(tiny_bert_dir, tmp_path):
    """What ``reference`` asks run_active_learning for (initial set = the training split, one round) runs end to
    end: the empty pool after round 0 is not an error and the round trains on every training example."""
    import yaml
    from conftest import run_tiny, tiny_run_options

    config_file = tmp_path / "tiny.yaml"
    options = tiny_run_options(tiny_bert_dir, tmp_path / "unused")
    config_file.write_text(yaml.safe_dump({k: v for k, v in options.items() if k != "output_dir"}))
    size = le.training_split_size(str(config_file))
    assert 150 < size < 300  # synthetic 300 minus the carved validation and test splits
    stats = run_tiny(tiny_bert_dir, tmp_path / "full", initial_size=size, initial_sampling="random")
    assert [r["labeled_count"] for r in stats["rounds"]] == [size]
    assert np.isfinite(stats["rounds"][0]["test"]["mean_average_precision"])


def test_finished_only_leaves_out_runs_still_going(tmp_path, capsys):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3, 0.4])
    _write_run(tmp_path / "entropy/seed1", "entropy", 1, [0.2, 0.3])
    stats_file = tmp_path / "random/seed1" / STATISTICS
    stats_file.write_text(json.dumps({**json.loads(stats_file.read_text()), "end_time": "2026-11-29T12:00:00"}))
    le.main(["summarize", "--runs", str(tmp_path), "--out", str(tmp_path / "out"), "--finished_only"])
    printed = capsys.readouterr().out
    assert f"left out 1 run(s) still going: {tmp_path / 'entropy/seed1'}" in printed
    assert "| entropy |" not in (tmp_path / "out" / "summary.md").read_text()
    assert "| random | mAP |" in (tmp_path / "out" / "summary.md").read_text()


def test_calibration_rows_add_the_probabilities_as_the_strategy_scored_them(tmp_path):
    from test_plotting import fake_run

    from mlal.plotting import find_runs
    from mlal.plotting.calibration import expected_calibration_error

    fake_run(tmp_path / "random" / "seed1", "random", 1, [0.1, 0.2, 0.3], n_labels=2)
    fake_run(tmp_path / "platt" / "margin" / "seed1", "margin", 1, [0.1, 0.2, 0.3], n_labels=2)
    path = tmp_path / "platt" / "margin" / "seed1" / STATISTICS
    statistics = json.loads(path.read_text())
    statistics["config"]["active_learning"]["acquisition_calibration"] = "platt"
    for record, offset in zip(statistics["rounds"][:-1], (0.0, 30.0)):  # round 0: identity; round 1: all -> ~1
        record["acquisition_calibration"] = {"scale": 1.0, "offset": [offset, offset]}
    path.write_text(json.dumps(statistics))
    rows = {row["strategy"]: row for row in le.calibration_rows(le.load_runs([tmp_path]))}
    assert set(rows) == {"random", "margin+platt", "margin+platt, as scored (map of each round; last = the last "
                         "acquiring round)"}
    scored = rows["margin+platt, as scored (map of each round; last = the last acquiring round)"]
    run = find_runs([tmp_path / "platt"])[0]
    first = run.arrays(0)
    assert scored["ece_first"] == pytest.approx(expected_calibration_error(first["test_targets"], first["test_probs"]),
                                                abs=1e-6)  # the identity map changes nothing
    assert scored["mean_probability_last"] == pytest.approx(1.0, abs=1e-6)  # round 1's map pushes every pair to 1
    assert scored["prevalence"] == pytest.approx(run.arrays(1)["test_targets"].mean())
    assert rows["margin+platt"]["mean_probability_last"] == pytest.approx(run.arrays(-1)["test_probs"].mean())


def _set_options(folder, **options):
    stats = json.loads((folder / STATISTICS).read_text())
    stats["config"]["active_learning"].update(options)
    (folder / STATISTICS).write_text(json.dumps(stats))


def test_variants_are_lines_of_their_own_and_mixed_recipes_are_refused(tmp_path, capsys):
    # the matrix's recipe sets pool_subsample 2000 (not the option's default): the variants are named against random
    for folder, strategy, options in (("random/seed1", "random", {}), ("bald/seed1", "bald", {}),
                                      ("t40/bald/seed1", "bald", {"mc_passes": 40, "mc_dropout_layers": 1}),
                                      ("big/margin/seed1", "margin", {"pool_subsample": 10000})):
        _write_run(tmp_path / folder, strategy, 1, [0.2, 0.4, 0.5])
        _set_options(tmp_path / folder, **{"pool_subsample": 2000, **options})
    tables = le.summarize([tmp_path])
    assert sorted({r["strategy"] for r in tables["auc"]}) == [
        "bald", "bald+mc_passes=40+mc_dropout_layers=1", "margin+pool_subsample=10000", "random"]
    _set_options(tmp_path / "random/seed1", pool_subsample=None)  # against the defaults, the matrix is a variant
    assert "bald+pool_subsample=2000" in {r["strategy"] for r in le.summarize([tmp_path / "bald", tmp_path / "t40"])["auc"]}
    _set_options(tmp_path / "random/seed1", pool_subsample=2000)
    # a second random seed trained for other epochs is not a seed of the same line
    other = tmp_path / "random/seed2"
    _write_run(other, "random", 2, [0.2, 0.3, 0.4])
    stats = json.loads((other / STATISTICS).read_text())
    stats["config"]["training"] = {"num_train_epochs": 3}
    stats["config"]["active_learning"]["pool_subsample"] = 2000
    (other / STATISTICS).write_text(json.dumps(stats))
    with pytest.raises(SystemExit) as exit_info:
        le.main(["summarize", "--runs", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "the runs of random differ in training.num_train_epochs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_summarize_draws_the_area_differences_only_where_there_are_some(tmp_path):
    for seed in (1, 2):
        _write_run(tmp_path / f"runs/random/seed{seed}", "random", seed, [0.2, 0.3, 0.4])
        _write_run(tmp_path / f"runs/entropy/seed{seed}", "entropy", seed, [0.2, 0.4 + 0.01 * seed, 0.5])
    le.main(["summarize", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out")])
    assert (tmp_path / "out/area_differences.png").exists() and (tmp_path / "out/label_efficiency.png").exists()
    (row,) = [r for r in le.area_difference_rows(le.summarize([tmp_path / "runs"])["auc"]) if r["metric"] == "mAP"]
    # entropy's mAP areas: seed k ((0.2 + 0.4 + 0.01k) / 2 + (0.4 + 0.01k + 0.5) / 2) / 2; random's 0.3
    differences = [((0.6 + 0.01 * k) / 2 + (0.9 + 0.01 * k) / 2) / 2 - 0.3 for k in (1, 2)]
    assert row["difference"] == pytest.approx(np.mean(differences)) and row["seeds"] == 2
    assert row["half_width"] == pytest.approx(le.confidence_half_width(np.std(differences, ddof=1), 2))
    le.main(["summarize", "--runs", str(tmp_path / "runs/random"), "--out", str(tmp_path / "alone")])
    assert not (tmp_path / "alone/area_differences.png").exists()


def test_summarize_without_runs_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        le.main(["summarize", "--runs", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2 and f"no run with a finished round under {tmp_path}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_random_runs_of_two_recipes_are_refused_not_made_a_variant(tmp_path, capsys):
    for seed, pool in ((1, 2000), (2, None)):
        _write_run(tmp_path / f"random/seed{seed}", "random", seed, [0.2, 0.3, 0.4])
        _set_options(tmp_path / f"random/seed{seed}", pool_subsample=pool)
    with pytest.raises(SystemExit) as exit_info:
        le.main(["summarize", "--runs", str(tmp_path), "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and "the runs of random differ in active_learning.pool_subsample" in error


def test_a_key_an_older_run_lacks_is_filled_from_the_recorded_defaults(tmp_path):
    # seed 1 saved by an older version (no "new_key" in its Trainer options); seed 2 by a newer one, at its default
    for seed, training in ((1, {"num_train_epochs": 3}), (2, {"num_train_epochs": 3, "new_key": False})):
        folder = tmp_path / f"random/seed{seed}"
        _write_run(folder, "random", seed, [0.2, 0.3, 0.4])
        stats = json.loads((folder / STATISTICS).read_text())
        stats["config"]["training"] = training
        if seed == 2:
            stats["option_defaults"] = {"training": {"num_train_epochs": 3.0, "new_key": False}}
        (folder / STATISTICS).write_text(json.dumps(stats))
    assert [r["auc"][2] for r in le.summarize([tmp_path])["auc"]] == [2, 2, 2]  # one line of 2 seeds per metric
    stats = json.loads((tmp_path / "random/seed2" / STATISTICS).read_text())
    stats["config"]["training"]["new_key"] = True  # off its default: not a seed of the same recipe
    (tmp_path / "random/seed2" / STATISTICS).write_text(json.dumps(stats))
    with pytest.raises(ValueError, match="differ in training.new_key"):
        le.summarize([tmp_path])


def test_differences_span_the_labeled_counts_shared_with_random(tmp_path):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3])  # 100, 200 labels
    _write_run(tmp_path / "margin/seed1", "margin", 1, [0.2, 0.4, 0.5, 0.6])  # 100 ... 400 labels
    _write_run(tmp_path / "entropy/seed1", "entropy", 1, [0.2])  # one round: no area to pair
    tables = le.summarize([tmp_path])
    (row,) = [r for r in le.area_difference_rows(tables["auc"]) if r["metric"] == "mAP"]
    assert row["strategy"] == "margin" and row["labels"] == "100-200"
    assert row["difference"] == pytest.approx((0.2 + 0.4) / 2 - (0.2 + 0.3) / 2)  # over 100-200 only
    le.write_outputs(tables, tmp_path / "out")  # rows with and without a paired range write one CSV
    assert "paired_labels" in (tmp_path / "out/auc.csv").read_text().splitlines()[0]


def test_seed_curves_keep_every_runs_own_values(tmp_path):
    _write_run(tmp_path / "random/seed1", "random", 1, [0.2, 0.3])
    _write_run(tmp_path / "random/seed2", "random", 2, [0.4, 0.5])
    rows = le.summarize([tmp_path])["seed_curves"]
    got = {(r["seed"], r["metric"], r["labels"]): r["value"] for r in rows if r["strategy"] == "random"}
    assert got[(1, "mAP", 100)] == 0.2 and got[(2, "mAP", 200)] == 0.5
    assert got[(2, "macro-F1", 100)] == pytest.approx(0.2)  # _write_run's macro-F1 is half the mAP
    assert len(rows) == 2 * 2 * 3  # seeds x labeled counts x metrics
    le.write_outputs(le.summarize([tmp_path]), tmp_path / "out")
    assert (tmp_path / "out/seed_curves.csv").read_text().splitlines()[1] == "random,1,mAP,100,0.2"


def _comparable(rows):
    """Rows with NaN made comparable (NaN != NaN)."""
    def fix(value):
        if isinstance(value, tuple):
            return tuple(map(fix, value))
        return None if isinstance(value, float) and math.isnan(value) else value
    return [{key: fix(value) for key, value in row.items()} for row in rows]


def _with_options(folder, **options):
    """Give the run in ``folder`` active-learning options (and an end time)."""
    path = folder / STATISTICS
    statistics = json.loads(path.read_text())
    statistics["config"]["active_learning"].update(options)
    statistics["end_time"] = "2026-11-30T00:00:00"
    path.write_text(json.dumps(statistics))


def test_runs_json_rebuilds_the_summary_and_pairs_with_new_run_folders(tmp_path, capsys):
    # random ran with a non-default option and bald as a variant: the names must survive the round trip
    for seed, (r, b) in enumerate([([0.2, 0.3, 0.4], [0.2, 0.4, 0.5]), ([0.1, 0.3, 0.3], [0.1, 0.2, 0.6])], start=1):
        _write_run(tmp_path / f"runs/random/seed{seed}", "random", seed, r)
        _with_options(tmp_path / f"runs/random/seed{seed}", pool_subsample=2000)
        _write_run(tmp_path / f"runs/bald/seed{seed}", "bald", seed, b)
        _with_options(tmp_path / f"runs/bald/seed{seed}", pool_subsample=2000, mc_passes=40)
    _write_run(tmp_path / "full/random/seed1", "random", 1, [0.7])
    le.main(["summarize", "--runs", str(tmp_path / "runs"), "--reference", str(tmp_path / "full"),
             "--out", str(tmp_path / "first")])
    le.main(["summarize", "--runs", str(tmp_path / "first/runs.json"),
             "--reference", str(tmp_path / "first/reference_runs.json"), "--out", str(tmp_path / "again")])
    for name in ("curves", "seed_curves", "auc", "reach", "seconds", "reference"):
        assert (tmp_path / f"again/{name}.csv").read_text() == (tmp_path / f"first/{name}.csv").read_text(), name
    assert "bald+mc_passes=40,mAP" in (tmp_path / "again/auc.csv").read_text()
    assert (tmp_path / "again/label_efficiency.png").is_file() and (tmp_path / "again/area_differences.png").is_file()
    # a new run folder of the same recipe joins the recorded lines by seed, named against the recorded random runs
    _write_run(tmp_path / "new/margin/seed2", "margin", 2, [0.1, 0.4, 0.5])
    _with_options(tmp_path / "new/margin/seed2", pool_subsample=2000)
    auc = {(r["strategy"], r["metric"]): r for r in le.summarize([tmp_path / "first/runs.json", tmp_path / "new"])["auc"]}
    # margin - random at seed 2: ((0.1+0.4)/2 + (0.4+0.5)/2) / 2 - ((0.1+0.3)/2 + (0.3+0.3)/2) / 2 = 0.35 - 0.25
    assert auc[("margin", "mAP")]["auc_minus_random"][0] == pytest.approx(0.1)
    assert auc[("margin", "mAP")]["auc_minus_random"][2] == 1
    with pytest.raises(ValueError, match="random seed 1 is given 2 times"):
        le.summarize([tmp_path / "first/runs.json", tmp_path / "runs/random"])
    # a recorded random run of another recipe is refused, as a folder would be
    _write_run(tmp_path / "other/random/seed3", "random", 3, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="runs of random differ in active_learning.pool_subsample"):
        le.summarize([tmp_path / "first/runs.json", tmp_path / "other"])


def test_finished_only_leaves_out_recorded_runs_still_going(tmp_path, capsys):
    _write_run(tmp_path / "runs/random/seed1", "random", 1, [0.2, 0.3])
    _with_options(tmp_path / "runs/random/seed1")
    _write_run(tmp_path / "runs/random/seed2", "random", 2, [0.2])  # no end time: still going
    le.write_outputs(le.summarize([tmp_path / "runs"]), tmp_path / "out")
    rr.write_run_records(le.load_runs([tmp_path / "runs"]), tmp_path / "out/runs.json")
    runs = le.load_runs([tmp_path / "out/runs.json"], finished_only=True)
    assert [run.seed for run in runs] == [1]
    assert "left out 1 run(s) still going" in capsys.readouterr().out


def test_a_file_that_is_not_a_runs_json_is_refused(tmp_path, capsys):
    _write_run(tmp_path / "runs/random/seed1", "random", 1, [0.2, 0.3])
    le.write_outputs(le.summarize([tmp_path / "runs"]), tmp_path / "out")
    with pytest.raises(ValueError, match="curves.csv cannot be read as a runs.json"):
        le.summarize([tmp_path / "out/curves.csv"])
    (tmp_path / "other.json").write_text("[]")
    with pytest.raises(ValueError, match="other.json is not a runs.json of a summary"):
        le.summarize([tmp_path / "other.json"])
    with pytest.raises(SystemExit):
        le.main(["summarize", "--runs", str(tmp_path / "other.json"), "--out", str(tmp_path / "o")])
    assert "other.json is not a runs.json" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_run_records_cli_keeps_finished_runs_and_never_replaces_a_file(tmp_path, capsys):
    _write_run(tmp_path / "full/random/seed1", "random", 1, [0.7])
    _with_options(tmp_path / "full/random/seed1")
    _write_run(tmp_path / "full/random/seed2", "random", 2, [0.6])  # still going
    rr.main([str(tmp_path / "full"), "--out", str(tmp_path / "reference_runs.json")])
    rows = le.reference_rows([tmp_path / "reference_runs.json"])
    assert rows[0]["metric"] == "mAP" and rows[0]["value"] == (pytest.approx(0.7), pytest.approx(float("nan"), nan_ok=True), 1)
    before = (tmp_path / "reference_runs.json").read_text()
    with pytest.raises(SystemExit):
        rr.main([str(tmp_path / "full"), "--out", str(tmp_path / "reference_runs.json")])
    assert "exists" in capsys.readouterr().err and (tmp_path / "reference_runs.json").read_text() == before
