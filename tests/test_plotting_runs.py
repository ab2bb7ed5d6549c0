"""Gallery grouping (config minus seed, no overwriting) and the AL figures from the round arrays."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from test_plotting import fake_run

from mlal import plotting
from mlal.plotting import find_runs
from mlal.run_format import FORMAT_VERSION, STATISTICS, RunFormatError


def test_runs_differing_in_query_size_are_never_averaged_or_overwritten(tmp_path):
    for query_size, f1 in ((10, 0.2), (50, 0.8)):
        for seed in (1, 2):
            fake_run(tmp_path / f"q{query_size}" / f"seed{seed}", "entropy", seed, [f1] * 3, query_size=query_size)
    comparisons = plotting.group_runs(find_runs([tmp_path]))
    assert sorted(c.slug for c in comparisons) == ["query_size=10", "query_size=50"]
    for comparison in comparisons:
        assert list(comparison.groups) == ["entropy"] and len(comparison.runs) == 2
        curves = plotting.mean_std_over_seeds(comparison.runs, lambda r: r["test"]["micro_f1"])
        assert np.allclose(curves["entropy"]["mean"], 0.2 if comparison.slug.endswith("10") else 0.8)
    out = tmp_path / "out"
    paths = plotting.make_gallery(find_runs([tmp_path]), out)
    assert len(paths) == len(set(paths))
    for query_size in (10, 50):
        assert (out / f"learning_curves_query_size={query_size}.png").is_file()
    per_run = sorted(p.parent.relative_to(out).as_posix() for p in out.rglob("per_class_metrics.png"))
    assert per_run == ["query_size=10/entropy-seed1", "query_size=10/entropy-seed2",
                       "query_size=50/entropy-seed1", "query_size=50/entropy-seed2"]


def test_groups_within_a_comparison_are_named_by_what_differs(tmp_path):
    fake_run(tmp_path / "a", "entropy", 1, [0.2] * 3)
    fake_run(tmp_path / "b", "random", 1, [0.1] * 3)
    (comparison,) = plotting.group_runs(find_runs([tmp_path]))
    assert comparison.slug == "" and sorted(comparison.groups) == ["entropy", "random"]
    assert comparison.title == "toy"


def _add_option(folder, value, defaults=True):
    """The run as a newer version saves it: the option ``acquisition_calibration`` set, and the defaults recorded."""
    import json

    stats = json.loads((folder / STATISTICS).read_text())
    stats["config"]["active_learning"]["acquisition_calibration"] = value
    stats["option_defaults"] = {"active_learning": {"acquisition_calibration": "none", "strategy": "random"}}
    if not defaults:
        del stats["option_defaults"]
    (folder / STATISTICS).write_text(json.dumps(stats))


def test_seeds_saved_before_and_after_an_option_existed_are_one_group(tmp_path):
    fake_run(tmp_path / "old/seed1", "entropy", 1, [0.2] * 3)  # older version: no acquisition_calibration key
    fake_run(tmp_path / "new/seed2", "entropy", 2, [0.3] * 3)
    _add_option(tmp_path / "new/seed2", "none")  # newer version, the option at its recorded default
    (comparison,) = plotting.group_runs(find_runs([tmp_path]))
    assert list(comparison.groups) == ["entropy"] and [r.seed for r in comparison.groups["entropy"]] == [1, 2]
    _add_option(tmp_path / "new/seed2", "platt")  # off its default: a comparison of its own, named by the value
    slugs = sorted(c.slug for c in plotting.group_runs(find_runs([tmp_path])))
    assert slugs == ["acquisition_calibration=none", "acquisition_calibration=platt"]  # the old run: its default
    _add_option(tmp_path / "new/seed2", "none", defaults=False)  # no defaults recorded: nothing to fill in
    slugs = sorted(c.slug for c in plotting.group_runs(find_runs([tmp_path])))
    assert slugs == ["acquisition_calibration=None", "acquisition_calibration=none"]


def test_same_names_get_a_hash_instead_of_overwriting(tmp_path):
    fake_run(tmp_path / "a", "entropy", 1, [0.2] * 3, dataset="x/toy")
    fake_run(tmp_path / "b", "entropy", 1, [0.3] * 3, dataset="y/toy")
    slugs = [c.slug for c in plotting.group_runs(find_runs([tmp_path]))]
    assert len(set(slugs)) == 2 and all(s.startswith("toy-") for s in slugs)
    paths = plotting.make_gallery(find_runs([tmp_path]), tmp_path / "out")
    assert len(list((tmp_path / "out").glob("learning_curves_toy-*.png"))) == 2 and len(paths) == len(set(paths))


def test_two_runs_of_the_same_config_and_seed_are_refused(tmp_path):
    fake_run(tmp_path / "a", "entropy", 1, [0.2] * 3)
    fake_run(tmp_path / "copy", "entropy", 1, [0.2] * 3)
    with pytest.raises(ValueError, match="same config and seed 1"):
        plotting.group_runs(find_runs([tmp_path]))
    result = subprocess.run([sys.executable, "-m", "plotting", "--runs", str(tmp_path), "--outdir",
                             str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error:") and "same config and seed" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cumulative_positives_and_rare_labels(tmp_path):
    fake_run(tmp_path / "r", "entropy", 1, [0.2, 0.3, 0.4], n_labels=3)
    run = find_runs([tmp_path])[0]
    x, positives = plotting.cumulative_positives(run)
    assert list(x) == [10, 20, 30]  # the last round acquires nothing
    # label j is positive on every (j+2)th training row: rows 0..9 hold 5, 4 and 3 positives
    assert positives[0].tolist() == [5, 4, 3] and positives[-1].tolist() == [15, 10, 8]
    y = np.array([[1, 0, 1], [1, 0, 0], [1, 0, 1]])
    assert plotting.rare_labels(y, 2).tolist() == [2, 0]  # label 1 is absent: not "rare"
    fig = plotting.batch_labels_figure(run)
    heat = fig.axes[0].collections[0].get_array().reshape(2, 3)
    order = np.argsort(-run.arrays(-1)["test_targets"].sum(axis=0), kind="stable")
    assert heat[0].tolist() == np.array([5, 3, 2])[order].tolist()  # rows 10..19: 5, 3 and 2 positives


def test_score_distribution_says_when_a_strategy_has_no_scores(tmp_path):
    fake_run(tmp_path / "s", "entropy", 1, [0.2] * 3)
    fake_run(tmp_path / "d", "coreset", 1, [0.2] * 3, pool_scores_recorded=False)
    runs = {run.strategy: run for run in find_runs([tmp_path])}
    fig = plotting.score_distribution_figure(runs["entropy"])
    ax = fig.axes[0]
    assert sum(p.get_height() for p in ax.containers[1]) == 10  # the ten selected ids of round 0
    assert sum(p.get_height() for p in ax.containers[0]) == 10  # the other ten scored
    text = " ".join(t.get_text() for a in plotting.score_distribution_figure(runs["coreset"]).axes for t in a.texts)
    assert "without a per-example score" in text


def test_batch_overlap_is_jaccard_per_seed(tmp_path):
    fake_run(tmp_path / "e1", "entropy", 1, [0.2] * 3, selections=[[10, 11, 12, 13], [20, 21]])
    fake_run(tmp_path / "r1", "random", 1, [0.2] * 3, selections=[[12, 13, 14, 15], [20, 21]])
    fake_run(tmp_path / "r2", "random", 2, [0.2] * 3, selections=[[1], [2]])  # no entropy seed 2: no pair
    assert plotting.jaccard([1, 2, 3], [2, 3, 4]) == pytest.approx(2 / 4)
    overlap = plotting.batch_overlap(plotting.group_runs(find_runs([tmp_path]))[0].runs)
    assert overlap == {("entropy", "random"): {1: [pytest.approx(2 / 6), 1.0]}}
    fig = plotting.batch_overlap_figure(find_runs([tmp_path]))
    assert np.allclose(next(l for l in fig.axes[0].lines if l.get_gid() == "seed1").get_ydata(), [2 / 6, 1.0])


def _set_format(folder, **keys):
    import json

    statistics = json.loads((folder / STATISTICS).read_text())
    statistics.pop("format_version", None)
    statistics.update(keys)
    (folder / STATISTICS).write_text(json.dumps(statistics))


def test_older_format_versions_are_read_and_a_newer_one_is_refused_clearly(tmp_path, capsys):
    from mlal.plotting.__main__ import main

    for name, keys in (("v1", {}), ("v2", {"schema_version": 2}), ("now", {"format_version": FORMAT_VERSION})):
        fake_run(tmp_path / name, "entropy", 1, [0.2, 0.3])
        _set_format(tmp_path / name, **keys)
    assert sorted(run.path.name for run in find_runs([tmp_path])) == ["now", "v1", "v2"]
    fake_run(tmp_path / "future", "entropy", 2, [0.2, 0.3])
    _set_format(tmp_path / "future", format_version=FORMAT_VERSION + 1)
    with pytest.raises(RunFormatError, match=f"future/{STATISTICS} is in run format {FORMAT_VERSION + 1}, newer than"):
        find_runs([tmp_path])
    assert main(["--runs", str(tmp_path / "future"), "--outdir", str(tmp_path / "out")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ") and "update mlal" in errors[0]
    assert not (tmp_path / "out").exists()
