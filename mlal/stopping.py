"""Stopping advice: when have more labels stopped changing the model?

Stabilizing predictions (Bloodgood & Vijay-Shanker 2009, "A method for stopping active learning based on
stabilizing predictions and the need for user-adjustable stopping", CoNLL): keep a fixed *stop set* of
examples whose labels are never needed, predict it after every round, and measure the agreement between
consecutive rounds' predictions with Cohen's kappa. Once the agreement stays high, further labels are
unlikely to change the model.

Multi-label kappa: every (example, label) decision at threshold 0.5 is one binary rating, and the two
rounds are two raters over all N x L decisions (micro-pooled):

    p_o = fraction of decisions that agree
    p_e = q_a q_b + (1 - q_a)(1 - q_b)      (q = fraction of positive decisions of each round)
    kappa = (p_o - p_e) / (1 - p_e)         (1.0 when both rounds make the same constant decision)

Alongside: the mean uncertainty of the stop set (mean binary entropy in nats over examples and labels) and
the change in predictions (fraction of decisions, and of examples' label sets, that changed). The advice
is to stop once kappa has stayed at or above ``threshold`` for ``window`` consecutive rounds (BV2009 use
0.99 and a window of 3, averaging the window; requiring every value keeps the advice conservative).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

EPS = 1e-12


def multilabel_kappa(previous: np.ndarray, current: np.ndarray) -> float:
    """Cohen's kappa between two (N, L) binary decision matrices, pooled over all N x L decisions."""
    a = np.asarray(previous, dtype=bool).ravel()
    b = np.asarray(current, dtype=bool).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"decision matrices must have the same non-empty shape, got {a.shape} and {b.shape}")
    p_o = float(np.mean(a == b))
    q_a, q_b = float(a.mean()), float(b.mean())
    p_e = q_a * q_b + (1 - q_a) * (1 - q_b)
    if p_e >= 1 - EPS:
        return 1.0 if p_o >= 1 - EPS else 0.0
    return (p_o - p_e) / (1 - p_e)


def mean_uncertainty(probs: np.ndarray) -> float:
    """Mean binary entropy H_b(p) (nats) over all examples and labels of ``probs`` (N, L)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), EPS, 1 - EPS)
    return float(np.mean(-(p * np.log(p) + (1 - p) * np.log1p(-p))))


def stopping_advice(
    previous_probs: Optional[np.ndarray],
    probs: np.ndarray,
    kappa_history: Sequence[Optional[float]],
    threshold: float = 0.99,
    window: int = 3,
) -> dict:
    """The round's stopping statistics for stop-set probabilities ``probs`` (N, L).

    ``previous_probs``: the previous round's probabilities on the same stop set (None in the first round).
    ``kappa_history``: the kappas of the earlier rounds, oldest first (None where undefined).
    Returns kappa, mean_uncertainty, changed_decisions, changed_examples, stop (bool) and advice (str).
    """
    decisions = np.asarray(probs) >= 0.5
    record = {"stop_set_size": int(len(decisions)), "mean_uncertainty": mean_uncertainty(probs),
              "kappa": None, "changed_decisions": None, "changed_examples": None}
    if previous_probs is not None:
        before = np.asarray(previous_probs) >= 0.5
        record["kappa"] = multilabel_kappa(before, decisions)
        changed = before != decisions
        record["changed_decisions"] = float(changed.mean())
        record["changed_examples"] = float(changed.any(axis=1).mean())
    kappas = [*kappa_history, record["kappa"]]
    recent = kappas[-window:]
    stable = len(recent) == window and all(k is not None and k >= threshold for k in recent)
    record["stop"] = bool(stable)
    record["criterion"] = f"kappa >= {threshold} for {window} consecutive rounds"
    if record["kappa"] is None:
        record["advice"] = "continue: no previous round to compare with yet"
    elif stable:
        record["advice"] = f"consider stopping: predictions have stabilized ({record['criterion']})"
    else:
        streak = 0
        for k in reversed(kappas):
            if k is None or k < threshold:
                break
            streak += 1
        record["advice"] = f"continue: kappa {record['kappa']:.4f}, {streak}/{window} rounds at or above {threshold}"
    return record


def advice_line(record: dict) -> str:
    """One printable line of a round's stopping statistics."""
    kappa = "n/a" if record["kappa"] is None else f"{record['kappa']:.4f}"
    changed = "n/a" if record["changed_decisions"] is None else f"{100 * record['changed_decisions']:.2f}%"
    return (f"stopping: kappa {kappa}, mean uncertainty {record['mean_uncertainty']:.4f} nats, "
            f"changed decisions {changed} on {record['stop_set_size']} stop-set examples -> {record['advice']}")
