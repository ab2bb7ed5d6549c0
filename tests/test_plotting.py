"""Diagnostics from saved outputs: assert what the figures show, not only that files exist."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, tiny_run_options

from mlal.run_format import EVAL_DIR, STATISTICS, round_file
from mlal import plotting
from mlal.metrics import threshold_sweep
from mlal.plotting import find_runs


def fake_run(folder, strategy, seed, f1s, counts=(10, 20, 30), n_labels=3, dataset="toy", query_size=10,
             selections=None, pool_scores_recorded=True):
    """A run folder written by hand: statistics.json and eval arrays, with chosen test micro-F1 values.
    ``selections[r]`` are the ids acquired in round r (default: the next ``counts`` step of ids)."""
    rng = np.random.default_rng(seed)
    rounds = []
    train_y = (np.arange(200)[:, None] % (np.arange(n_labels) + 2) == 0).astype(np.uint8)  # label j: every (j+2)th
    for r, (count, f1) in enumerate(zip(counts, f1s)):
        last = r == len(counts) - 1
        if selections is not None:
            selected = np.asarray(selections[r] if not last else [], dtype=np.int64)
        else:
            selected = np.arange(count, counts[r + 1]) if not last else np.arange(0)
        labeled = np.arange(count)
        pool = np.arange(count, count + 20) if not last else np.arange(0)
        rounds.append({
            "round": r, "labeled_count": count, "tuned_threshold": 0.5, "train_loss": 1.0 / (r + 1) + seed * 0.01,
            "epoch_losses": [2.0, 1.0 / (r + 2)],
            "test": {"micro_f1": f1, "macro_f1": f1 / 2, "mean_average_precision": f1 * 0.8},
            "validation": {"micro_f1": f1 * 0.9}, "test_at_tuned_threshold": {"micro_f1": f1},
            "selected_ids": selected.tolist(), "seconds": {},
        })
        y = (rng.random((40, n_labels)) < 0.3).astype(np.float32)
        p = np.clip(y * 0.6 + rng.random(y.shape) * 0.4, 0, 1).astype(np.float32)
        scores = -pool.astype(float) if pool_scores_recorded else np.full(len(pool), np.nan)
        (folder / EVAL_DIR).mkdir(parents=True, exist_ok=True)
        np.savez(folder / EVAL_DIR / round_file(r), test_probs=p, test_targets=y, validation_probs=p,
                 validation_targets=y, label_names=np.array([f"l{j}" for j in range(n_labels)]),
                 labeled_ids=labeled, labeled_targets=train_y[labeled], selected_ids=selected,
                 selected_targets=train_y[selected], selected_scores=np.zeros(len(selected)), pool_ids=pool,
                 pool_scores=scores, pool_scores_recorded=np.asarray(pool_scores_recorded))
    config = {"active_learning": {"strategy": strategy, "query_size": query_size, "output_dir": str(folder)},
              "data": {"dataset": dataset}, "training": {"seed": seed, "output_dir": str(folder)}}
    stats = {"config": config, "seed": seed, "label_names": [f"l{j}" for j in range(n_labels)], "rounds": rounds}
    (folder / STATISTICS).write_text(json.dumps(stats))


@pytest.fixture
def three_seeds(tmp_path):
    values = {1: [0.2, 0.4, 0.5], 2: [0.3, 0.45, 0.6], 3: [0.1, 0.5, 0.55]}
    for seed, f1s in values.items():
        fake_run(tmp_path / "entropy" / f"seed{seed}", "entropy", seed, f1s)
    fake_run(tmp_path / "random" / "seed1", "random", 1, [0.1, 0.2, 0.3])
    return tmp_path, values


def test_learning_curve_band_is_standard_error_and_each_seed_is_drawn(three_seeds):
    root, values = three_seeds
    fig = plotting.learning_curves_figure(find_runs([root]))
    ax = fig.axes[0]
    table = np.array(list(values.values()))
    mean, sem = table.mean(axis=0), table.std(axis=0, ddof=1) / np.sqrt(3)
    line = next(l for l in ax.lines if l.get_gid() == "entropy")
    assert np.allclose(line.get_ydata(), mean) and list(line.get_xdata()) == [10, 20, 30]
    seeds = [l.get_ydata() for l in ax.lines if l.get_gid() == "entropy-seed"]
    assert sorted(map(tuple, seeds)) == sorted(map(tuple, table))
    band = next(c for c in ax.collections if c.get_gid() == "entropy-band")
    vertices = band.get_paths()[0].vertices
    for x, m, s in zip([10, 20, 30], mean, sem):
        ys = vertices[np.isclose(vertices[:, 0], x), 1]
        assert np.isclose(ys.min(), m - s) and np.isclose(ys.max(), m + s)
    assert not any(c.get_gid() == "random-band" for c in ax.collections)  # one seed: no band


def test_seed_paired_differences_against_random(three_seeds):
    root, values = three_seeds  # random ran seed 1 only: one pair
    fake_run(root / "random" / "seed3", "random", 3, [0.0, 0.5, 0.5])
    diffs = plotting.paired_differences(find_runs([root]), lambda r: r["test"]["micro_f1"])
    entropy = diffs["entropy"]
    assert entropy["seeds"] == [1, 3] and list(entropy["x"]) == [10, 20, 30]
    expected = np.array([np.subtract(values[1], [0.1, 0.2, 0.3]), np.subtract(values[3], [0.0, 0.5, 0.5])])
    assert np.allclose(entropy["table"], expected) and np.allclose(entropy["mean"], expected.mean(axis=0))
    assert np.allclose(entropy["sem"], expected.std(axis=0, ddof=1) / np.sqrt(2))
    fig = plotting.learning_curves_figure(find_runs([root]))
    drawn = next(l for l in fig.axes[2].lines if l.get_gid() == "entropy-diff")
    assert np.allclose(drawn.get_ydata(), expected.mean(axis=0))


def test_training_curve_plots_the_last_epoch_loss_and_names_it(three_seeds):
    root, _ = three_seeds
    fig = plotting.training_curves_figure(find_runs([root]))
    line = next(l for l in fig.axes[0].lines if l.get_gid() == "entropy")
    assert np.allclose(line.get_ydata(), [1 / 2, 1 / 3, 1 / 4])  # epoch_losses[-1], not train_loss
    assert "last epoch" in fig.axes[0].get_title()


def test_aulc_table_and_labels_to_target(three_seeds, tmp_path):
    root, values = three_seeds
    rows = plotting.learning_curve_table(find_runs([root]), target_f1=0.45)
    entropy = next(r for r in rows if r["group"] == "entropy")
    mean = np.array(list(values.values())).mean(axis=0)  # [0.2, 0.45, 0.55]
    assert entropy["aulc_micro_f1"] == pytest.approx(((mean[0] + mean[1]) / 2 * 10 + (mean[1] + mean[2]) / 2 * 10) / 20)
    assert entropy["labels_to_micro_f1_0.45"] == 20
    assert next(r for r in rows if r["group"] == "random")["labels_to_micro_f1_0.45"] is None
    csv_path, md_path = plotting.write_table(rows, tmp_path / "out")
    assert "not reached" in md_path.read_text() and csv_path.read_text().startswith("group,seeds")


def test_ece_calibrated_vs_overconfident():
    rng = np.random.default_rng(0)
    p = rng.random((20000, 5))
    y = (rng.random(p.shape) < p).astype(int)  # labels drawn from the predicted probabilities
    assert plotting.expected_calibration_error(y, p) < 0.02
    overconfident = np.where(p > 0.5, 0.99, 0.01)
    assert plotting.expected_calibration_error(y, overconfident) > 0.1
    fig = plotting.reliability_diagram(y, overconfident)
    assert f"ECE = {plotting.expected_calibration_error(y, overconfident):.3f}" in fig.axes[0].get_title()


def test_cooccurrence_is_y_transpose_y_and_false_positives_share_its_scale():
    rng = np.random.default_rng(1)
    y = (rng.random((50, 4)) < 0.4).astype(int)
    y[:, 0] = 1  # label "a" the most frequent, so the displayed order is a, ...
    pred = (rng.random((50, 4)) < 0.5).astype(int)
    expected = np.array([[sum(y[n, a] * y[n, b] for n in range(50)) for b in range(4)] for a in range(4)])
    false_pos = np.array([[sum(pred[n, a] * (1 - y[n, a]) * y[n, b] for n in range(50)) for b in range(4)]
                          for a in range(4)])
    assert np.array_equal(plotting.cooccurrence(y), expected)
    assert np.array_equal(plotting.false_positive_cooccurrence(y, pred), false_pos)
    fig = plotting.cooccurrence_figure(y, ["a", "b", "c", "d"], y_pred=pred)
    assert np.array_equal(fig.matrices[0], expected) and np.array_equal(fig.matrices[1], false_pos)
    order = np.argsort(-y.sum(axis=0), kind="stable")
    meshes = [ax.collections[0] for ax in fig.axes if ax.collections and ax.get_title()]
    assert np.allclose(meshes[0].get_array().reshape(4, 4), np.log10(expected[np.ix_(order, order)] + 1))
    assert meshes[0].get_clim() == meshes[1].get_clim() == (0, np.log10(expected.max() + 1))


def test_many_labels_stay_readable_and_absent_labels_are_not_zero():
    rng = np.random.default_rng(2)
    n_labels = 100
    y = (rng.random((400, n_labels)) < np.linspace(0.002, 0.3, n_labels)).astype(int)
    y[:, 0] = 0  # absent from this split
    p = np.clip(y * 0.5 + rng.random(y.shape) * 0.6, 0, 1)
    scores = plotting.per_class_scores(y, p)
    assert np.isnan(scores["f1"][0]) and np.isnan(scores["recall"][0])
    names = [f"label{j}" for j in range(n_labels)]
    fig = plotting.per_class_figure(y, p, names)
    assert fig.get_size_inches()[1] * 150 < 1500  # pixels at dpi 150 (the old bars were 4000+ tall)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(ticks) == 31 and ticks[-1] == "other 70 labels (mean)" and "label0" in fig.absent
    f1_points = fig.axes[1].collections[0].get_offsets()
    assert len(f1_points) == (y.sum(axis=0) > 0).sum() < n_labels  # every present label; absent ones not drawn as 0
    heat = plotting.cooccurrence_figure(y, names, (p >= 0.5).astype(int))
    assert heat.axes[0].collections[0].get_array().size == 31 * 31


def test_per_class_sorted_by_support():
    y = np.zeros((10, 3), dtype=int)
    y[:2, 0], y[:7, 1], y[:4, 2] = 1, 1, 1
    fig = plotting.per_class_figure(y, y * 0.9, ["a", "b", "c"])
    assert fig.order.tolist() == [1, 2, 0]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["b (7)", "c (4)", "a (2)"]


def test_real_run_sweep_marks_the_reported_threshold_and_cli_renders_everything(tiny_bert_dir, tmp_path):
    from mlal import make_config, run_experiment

    run_dir = tmp_path / "run"
    stats = run_experiment(make_config(**tiny_run_options(tiny_bert_dir, run_dir, rounds=2)), log=lambda s: None)
    run = find_runs([run_dir])[0]
    arrays = run.arrays(-1)
    fig = plotting.threshold_sweep_figure(arrays["validation_targets"], arrays["validation_probs"])
    assert fig.best_threshold == pytest.approx(stats["rounds"][-1]["tuned_threshold"])
    best_line = next(l for l in fig.axes[0].lines if l.get_gid() == "best")
    assert best_line.get_xdata()[0] == pytest.approx(fig.best_threshold)
    sweep = threshold_sweep(arrays["validation_targets"], arrays["validation_probs"])
    micro = fig.axes[0].lines[0].get_ydata()
    assert micro.max() == pytest.approx(sweep["micro_f1"][np.isclose(sweep["threshold"], fig.best_threshold)][0])

    for command in ([sys.executable, "-m", "plotting"], [sys.executable, "scripts/plot_from_eval.py"]):
        outdir = tmp_path / f"vis-{len(command)}"
        result = subprocess.run([*command, "--runs", str(tmp_path), "--outdir", str(outdir)], cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        names = {p.name for p in outdir.rglob("*.png")}
        assert names == {"probability_histogram.png", "probability_histogram_per_class.png", "threshold_sweep.png",
                         "reliability_diagram.png", "per_class_metrics.png", "label_cooccurrence.png",
                         "training_curves.png", "learning_curves.png", "batch_labels.png", "acquisition_scores.png"}
        assert len(list(outdir.rglob("*.svg"))) == 10 and (outdir / "learning_curves.md").is_file()


def test_a_run_copied_without_its_arrays_gets_its_curves_and_a_note(tiny_bert_dir, tmp_path):
    import shutil

    from mlal import make_config, run_experiment

    for seed in (1, 2):
        run_experiment(make_config(**tiny_run_options(tiny_bert_dir, tmp_path / f"s{seed}", rounds=2, seed=seed)),
                       log=lambda s: None)
    shutil.rmtree(tmp_path / "s2" / EVAL_DIR)  # a lean copy: statistics.json and metrics.csv only
    outdir = tmp_path / "vis"
    result = subprocess.run([sys.executable, "-m", "plotting", "--runs", str(tmp_path / "s1"), str(tmp_path / "s2"),
                             "--outdir", str(outdir)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "note: 1 run(s) without their eval/ arrays" in result.stdout and str(tmp_path / "s2") in result.stdout
    per_run = {p.parent.name for p in outdir.rglob("reliability_diagram.png")}
    assert per_run == {"entropy-seed1"} and (outdir / "learning_curves.png").is_file()


def test_cli_errors_on_missing_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "plotting", "--runs", str(tmp_path / "nope")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error:")
