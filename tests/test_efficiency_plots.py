"""The label-efficiency figures: what is drawn equals what was computed by hand from the run folders."""

import numpy as np
from test_plotting import fake_run

from mlal.plotting import find_runs
from mlal.plotting.efficiency import (
    acquired_batch_statistics,
    acquired_labels_figure,
    area_differences_figure,
    calibration_statistics,
    final_labeled_positives,
    label_efficiency_figure,
    mean_pairwise_jaccard,
)


def _matrix(root):
    maps = {1: [0.2, 0.4, 0.5], 2: [0.3, 0.45, 0.6]}
    for seed, f1s in maps.items():
        fake_run(root / "entropy" / f"seed{seed}", "entropy", seed, f1s)
    fake_run(root / "random" / "seed1", "random", 1, [0.1, 0.2, 0.3])
    fake_run(root / "random" / "seed2", "random", 2, [0.2, 0.3, 0.3])
    return find_runs([root]), maps


def test_curves_bands_reference_line_and_paired_differences(tmp_path):
    runs, f1s = _matrix(tmp_path)
    fig = label_efficiency_figure(runs, reference={"test mAP": 0.9})
    ax_map, ax_diff = fig.axes[0], fig.axes[3]
    table = np.array(list(f1s.values())) * 0.8  # fake_run's mAP is 0.8 x its micro-F1
    line = next(l for l in ax_map.lines if l.get_gid() == "entropy")
    assert np.allclose(line.get_ydata(), table.mean(axis=0)) and list(line.get_xdata()) == [10, 20, 30]
    band = next(c for c in ax_map.collections if c.get_gid() == "entropy-band").get_paths()[0].vertices
    sem = table.std(axis=0, ddof=1) / np.sqrt(2)
    assert np.isclose(band[np.isclose(band[:, 0], 20), 1].max(), table.mean(axis=0)[1] + sem[1])
    assert next(l for l in ax_map.lines if l.get_gid() == "reference").get_ydata()[0] == 0.9
    assert not any(l.get_gid() == "reference" for l in fig.axes[1].lines)  # no value given for that metric
    random = np.array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.3]]) * 0.8
    diff = next(l for l in ax_diff.lines if l.get_gid() == "entropy-diff")
    assert np.allclose(diff.get_ydata(), (table - random).mean(axis=0))
    assert "standard error" in fig._suptitle.get_text()


def test_one_seed_says_no_bands(tmp_path):
    fake_run(tmp_path / "random" / "seed1", "random", 1, [0.1, 0.2, 0.3])
    fake_run(tmp_path / "entropy" / "seed1", "entropy", 1, [0.2, 0.3, 0.4])
    fig = label_efficiency_figure(find_runs([tmp_path]))
    assert not any(c.get_gid() and c.get_gid().endswith("band") for ax in fig.axes for c in ax.collections)
    assert "no bands" in fig._suptitle.get_text()


def test_labeled_positives_compared_at_the_count_every_run_reached(tmp_path):
    # fake_run's label j is positive on every (j+2)-th training id and the labeled set is ids 0..count-1
    fake_run(tmp_path / "entropy" / "seed1", "entropy", 1, [0.2, 0.3, 0.4], counts=(10, 20, 30))
    fake_run(tmp_path / "random" / "seed1", "random", 1, [0.1, 0.2], counts=(10, 20))
    strategies, count, table = final_labeled_positives(find_runs([tmp_path]))
    assert strategies == ["random", "entropy"] and count == 20
    # ids 0..19: multiples of 2 -> 10, of 3 -> 7 (0, 3, ..., 18), of 4 -> 5
    assert np.allclose(table, [[10, 7, 5], [10, 7, 5]])
    fig = acquired_labels_figure(find_runs([tmp_path]))
    assert np.allclose(fig.axes[0].images[0].get_array(), 0)  # same counts as random: log2 ratio 0
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["random (0 absent)", "entropy (0 absent)"]


def test_acquired_batch_statistics_by_hand(tmp_path):
    # batches: round 0 ids [0, 1], round 1 ids [2, 3]; label j is positive on every (j+2)-th id:
    # id 0 -> labels 0, 1, 2; id 1 -> none; id 2 -> label 0; id 3 -> label 1
    fake_run(tmp_path / "random" / "seed1", "random", 1, [0.1, 0.2, 0.3], counts=(2, 4, 6),
             selections=[[0, 1], [2, 3], []])
    (row,) = acquired_batch_statistics(find_runs([tmp_path]))
    assert row["positives_per_example"] == 5 / 4
    q = np.array([2, 2, 1]) / 5
    assert np.isclose(row["effective_labels"], np.exp(-(q * np.log(q)).sum()))
    # the last round's labeled set is ids 0..5: label 0 on 0, 2, 4; label 1 on 0, 3; label 2 on 0, 4: none absent
    assert row["absent_at_end"] == 0 and row["seeds"] == 1
    run = find_runs([tmp_path])[0]
    label = int(np.argmax(run.arrays(-1)["test_targets"].sum(axis=0)))
    picked = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0]])
    assert np.isclose(row["majority_share"], picked[:, label].mean())
    assert row["within_batch_jaccard"] == 0  # {0, 1, 2} vs {}; {0} vs {1}: no pair shares a label


def test_within_batch_jaccard_by_hand(tmp_path):
    # round 0 buys ids 0 {0, 1, 2}, 2 {0}, 4 {0, 2}: pairs 1/3, 2/3, 1/2 -> 1/2;
    # round 1 buys ids 1 and 5, both without labels: 1 (identical label sets); the run: (1/2 + 1) / 2
    fake_run(tmp_path / "margin" / "seed1", "margin", 1, [0.1, 0.2, 0.3], counts=(3, 6, 8),
             selections=[[0, 2, 4], [1, 5], []])
    fake_run(tmp_path / "margin" / "seed2", "margin", 2, [0.1, 0.2, 0.3], counts=(3, 6, 8),
             selections=[[0, 1], [2, 3], []])  # no pair shares a label: 0
    (row,) = acquired_batch_statistics(find_runs([tmp_path]))
    assert np.isclose(row["within_batch_jaccard"], (0.75 + 0) / 2) and row["seeds"] == 2
    assert np.isclose(mean_pairwise_jaccard(np.array([[1, 1, 1], [1, 0, 0], [1, 0, 1]])), (1 / 3 + 2 / 3 + 1 / 2) / 3)
    shuffled = np.random.default_rng(0).permutation(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [0, 0, 0]]))
    assert np.isclose(mean_pairwise_jaccard(shuffled), (1 / 3 + 1 / 2 + 0 + 0 + 0 + 0) / 6)  # order-free


def _replace_test_outputs(folder, round_index, probs, targets):
    from mlal.run_format import EVAL_DIR, round_file

    path = folder / EVAL_DIR / round_file(round_index)
    with np.load(path) as saved:
        arrays = {key: saved[key] for key in saved.files}
    arrays.update(test_probs=np.asarray(probs, dtype=np.float32), test_targets=np.asarray(targets, dtype=np.float32))
    np.savez(path, **arrays)


def test_calibration_statistics_by_hand(tmp_path):
    for seed in (1, 2):
        fake_run(tmp_path / "random" / f"seed{seed}", "random", seed, [0.1, 0.2, 0.3], n_labels=2)
    # last round, seed 1: pairs inside (0.4, 0.6): 0.45 (present), 0.55, 0.5 (absent); seed 2: 0.42, 0.5 (present)
    _replace_test_outputs(tmp_path / "random" / "seed1", 2, [[0.45, 0.9], [0.55, 0.1], [0.5, 0.2]],
                          [[1, 1], [0, 0], [0, 0]])
    _replace_test_outputs(tmp_path / "random" / "seed2", 2, [[0.42, 0.5]], [[1, 1]])
    # first round, both seeds: probabilities 0.05 and 0.95 on absent labels -> ECE (0.05 + 0.95) / 2 = 0.5
    for seed in (1, 2):
        _replace_test_outputs(tmp_path / "random" / f"seed{seed}", 0, [[0.05, 0.95]], [[0, 0]])
    (row,) = calibration_statistics(find_runs([tmp_path]))
    assert row["positive_rate_in_band"] == 3 / 5 and row["pairs_in_band"] == 2.5  # pooled over seeds
    assert np.isclose(row["mean_probability_last"], (2.7 / 6 + 0.46) / 2)
    assert np.isclose(row["prevalence"], (2 / 6 + 1) / 2)
    assert np.isclose(row["ece_first"], 0.5) and row["seeds"] == 2
    # seed 2's last round: bins of 0.42 and 0.5 hold one present label each -> |1 - 0.42| + |1 - 0.5| over 2 pairs
    seed1 = (abs(1 - 0.45) + abs(0 - 0.55) + abs(0 - 0.5)) / 6 + abs(1 - 0.9) / 6 + (0.1 + 0.2) / 6
    assert np.isclose(row["ece_last"], (seed1 + (0.58 + 0.5) / 2) / 2)


def test_area_differences_figure_draws_each_interval_where_computed():
    rows = [{"strategy": "margin", "metric": "mAP", "difference": 0.004, "half_width": 0.027, "seeds": 3},
            {"strategy": "beal", "metric": "mAP", "difference": -0.01, "half_width": float("nan"), "seeds": 1},
            {"strategy": "margin", "metric": "macro-F1", "difference": 0.02, "half_width": 0.01, "seeds": 3}]
    fig = area_differences_figure(rows)
    ax_map, ax_macro = fig.axes
    assert [t.get_text() for t in ax_map.get_yticklabels()] == ["margin (n=3)", "beal (n=1)"]  # first at the top
    bars = {c.lines[0].get_gid(): c for c in ax_map.containers}
    (segment,) = bars["margin"].lines[2][0].get_segments()
    assert np.allclose(segment[:, 0], [0.004 - 0.027, 0.004 + 0.027]) and np.allclose(segment[:, 1], 0)
    assert not bars["beal"].has_xerr and bars["beal"].lines[0].get_markerfacecolor() == "white"  # one seed: hollow
    assert bars["beal"].lines[0].get_xdata()[0] == -0.01 and bars["beal"].lines[0].get_ydata()[0] == 1
    (segment,) = {c.lines[0].get_gid(): c for c in ax_macro.containers}["margin"].lines[2][0].get_segments()
    assert np.allclose(segment[:, 0], [0.01, 0.03])
