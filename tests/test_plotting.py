"""Diagnostics from saved outputs: assert what the figures show, not only that files exist."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, tiny_run_options

import plotting
from mlal.metrics import threshold_sweep
from plotting import find_runs


def fake_run(folder, strategy, seed, f1s, counts=(10, 20, 30), n_labels=3):
    """A run folder written by hand: statistics.json and eval arrays, with chosen test micro-F1 values."""
    rng = np.random.default_rng(seed)
    rounds = []
    for r, (count, f1) in enumerate(zip(counts, f1s)):
        rounds.append({
            "round": r, "labeled_count": count, "tuned_threshold": 0.5, "train_loss": 1.0 / (r + 1) + seed * 0.01,
            "test": {"micro_f1": f1, "macro_f1": f1 / 2}, "validation": {"micro_f1": f1 * 0.9},
            "test_at_tuned_threshold": {"micro_f1": f1}, "selected_ids": [], "seconds": {},
        })
        y = (rng.random((40, n_labels)) < 0.3).astype(np.float32)
        p = np.clip(y * 0.6 + rng.random(y.shape) * 0.4, 0, 1).astype(np.float32)
        (folder / "eval").mkdir(parents=True, exist_ok=True)
        np.savez(folder / "eval" / f"round_{r:03d}.npz", test_probs=p, test_targets=y, validation_probs=p,
                 validation_targets=y, label_names=np.array([f"l{j}" for j in range(n_labels)]),
                 labeled_ids=np.arange(count), selected_ids=np.arange(0), selected_scores=np.zeros(0))
    stats = {"config": {"active_learning": {"strategy": strategy}, "data": {"dataset": "toy"}}, "seed": seed,
             "label_names": [f"l{j}" for j in range(n_labels)], "rounds": rounds}
    (folder / "statistics.json").write_text(json.dumps(stats))


@pytest.fixture
def three_seeds(tmp_path):
    values = {1: [0.2, 0.4, 0.5], 2: [0.3, 0.45, 0.6], 3: [0.1, 0.5, 0.55]}
    for seed, f1s in values.items():
        fake_run(tmp_path / "entropy" / f"seed{seed}", "entropy", seed, f1s)
    fake_run(tmp_path / "random" / "seed1", "random", 1, [0.1, 0.2, 0.3])
    return tmp_path, values


def test_learning_curve_band_is_std_over_seeds(three_seeds):
    root, values = three_seeds
    fig = plotting.learning_curves_figure(find_runs([root]))
    ax = fig.axes[0]
    table = np.array(list(values.values()))
    mean, std = table.mean(axis=0), table.std(axis=0, ddof=1)
    line = next(l for l in ax.lines if l.get_gid() == "entropy")
    assert np.allclose(line.get_ydata(), mean) and list(line.get_xdata()) == [10, 20, 30]
    band = next(c for c in ax.collections if c.get_gid() == "entropy-band")
    vertices = band.get_paths()[0].vertices
    for x, m, s in zip([10, 20, 30], mean, std):
        ys = vertices[np.isclose(vertices[:, 0], x), 1]
        assert np.isclose(ys.min(), m - s) and np.isclose(ys.max(), m + s)
    assert not any(c.get_gid() == "random-band" for c in ax.collections)  # one seed: no band


def test_aulc_table_and_labels_to_target(three_seeds, tmp_path):
    root, values = three_seeds
    rows = plotting.learning_curve_table(find_runs([root]), target_f1=0.45)
    entropy = next(r for r in rows if r["strategy"] == "entropy")
    mean = np.array(list(values.values())).mean(axis=0)  # [0.2, 0.45, 0.55]
    assert entropy["aulc_micro_f1"] == pytest.approx(((mean[0] + mean[1]) / 2 * 10 + (mean[1] + mean[2]) / 2 * 10) / 20)
    assert entropy["labels_to_micro_f1_0.45"] == 20
    assert next(r for r in rows if r["strategy"] == "random")["labels_to_micro_f1_0.45"] is None
    csv_path, md_path = plotting.write_table(rows, tmp_path / "out")
    assert "not reached" in md_path.read_text() and csv_path.read_text().startswith("strategy,seeds")


def test_ece_calibrated_vs_overconfident():
    rng = np.random.default_rng(0)
    p = rng.random((20000, 5))
    y = (rng.random(p.shape) < p).astype(int)  # labels drawn from the predicted probabilities
    assert plotting.expected_calibration_error(y, p) < 0.02
    overconfident = np.where(p > 0.5, 0.99, 0.01)
    assert plotting.expected_calibration_error(y, overconfident) > 0.1
    fig = plotting.reliability_diagram(y, overconfident)
    assert f"ECE = {plotting.expected_calibration_error(y, overconfident):.3f}" in fig.axes[0].get_title()


def test_cooccurrence_is_y_transpose_y():
    y = (np.random.default_rng(1).random((50, 4)) < 0.4).astype(int)
    expected = np.array([[sum(y[n, a] * y[n, b] for n in range(50)) for b in range(4)] for a in range(4)])
    assert np.array_equal(plotting.cooccurrence(y), expected)
    fig = plotting.cooccurrence_figure(y, ["a", "b", "c", "d"], y_pred=y)
    assert np.array_equal(fig.matrices[0], expected) and len(fig.matrices) == 2
    shown = fig.axes[0].collections[0].get_array().reshape(4, 4)
    assert np.allclose(shown, np.log10(expected + 1))


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
                         "training_curves.png", "learning_curves.png"}
        assert len(list(outdir.rglob("*.svg"))) == 8 and (outdir / "learning_curves.md").is_file()


def test_cli_errors_on_missing_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "plotting", "--runs", str(tmp_path / "nope")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error:")
