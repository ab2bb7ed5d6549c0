"""Calibrated probabilities for acquisition: a Platt map of the logits, fitted each round on the validation split.

Why: training with ``--loss weighted_bce`` (positive weight w_l of label l) moves the model's odds. At the optimum of
the weighted loss, logit p_w = logit q + log w_l, where q is the true conditional probability (the prior shift of
cost-sensitive learning: Elkan 2001; Menon et al. 2021, "Long-tail learning via logit adjustment"). A model's
p = 0.5 is then a true probability near 1 / (1 + w_l): on GoEmotions at w ~ 30 the labels the model scores in
(0.4, 0.6) are present 9-27 % of the time (BENCHMARKS.md). Uncertainty strategies read p = 0.5 as "most uncertain",
so they rank by the wrong point.

The map (Platt 1999, one map shared by all labels; Guo et al. 2017 fit such maps on held-out data):

    q_l(x) = sigmoid(a * z_l(x) + c * log w_l + b),    z_l(x) the model's logit of label l,

fitted by logistic regression over every (example, label) pair of the validation split; the log w_l covariate
carries the label-specific shift (c = -1, a = 1, b = 0 at the weighted loss's optimum) and is left out when the
round trained without weights. Evaluation is unchanged: mAP ranks each label's scores, and a monotone map per label
keeps those ranks; the map only changes what the acquisition strategy sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

PROBABILITY_FLOOR = 1e-6  # probabilities are clipped to [floor, 1 - floor] before taking logits


@dataclass(frozen=True, eq=False)
class LogitMap:
    """logit -> scale * logit + offset[label]: the fitted Platt map, one scale and an offset per label."""

    scale: float
    offset: np.ndarray  # (L,)

    def apply(self, logits):
        """The mapped logits of a (..., L) torch tensor or numpy array, in its own type, dtype and device."""
        if isinstance(logits, np.ndarray):
            return logits * self.scale + self.offset.astype(logits.dtype)
        import torch

        return logits * self.scale + torch.as_tensor(self.offset, dtype=logits.dtype, device=logits.device)

    def to_record(self) -> dict:
        return {"scale": float(self.scale), "offset": [float(v) for v in self.offset]}

    @classmethod
    def from_record(cls, record: Optional[dict]) -> Optional["LogitMap"]:
        if not record:
            return None
        return cls(scale=float(record["scale"]), offset=np.asarray(record["offset"], dtype=np.float64))


def logits_of(probs: np.ndarray) -> np.ndarray:
    """log p / (1 - p) of probabilities clipped away from 0 and 1 (float64)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return np.log(p) - np.log1p(-p)


def fit_platt_map(targets: np.ndarray, probs: np.ndarray, positive_weights: Optional[np.ndarray] = None) -> dict:
    """Fit q = sigmoid(a z + c log w_l + b) on a labeled split; returns the record {"scale", "offset", "coefficients"}.

    ``targets`` (N, L) multi-hot, ``probs`` (N, L) the model's probabilities on the same rows,
    ``positive_weights`` (L,) the round's loss weights (None or all 1: no covariate). A split holding only
    positives or only negatives cannot be fitted: the identity map is returned with ``"fitted": False``."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(targets).reshape(-1).astype(int)
    n_labels = np.shape(probs)[1]
    log_w = np.zeros(n_labels) if positive_weights is None else np.log(np.asarray(positive_weights, dtype=np.float64))
    if y.min() == y.max():
        return {**LogitMap(1.0, np.zeros(n_labels)).to_record(), "coefficients": None, "fitted": False}
    z = logits_of(probs).reshape(-1)
    use_weights = bool(np.ptp(log_w) > 0)  # equal weights for every label fold into the intercept
    features = np.column_stack([z, np.tile(log_w, len(z) // n_labels)]) if use_weights else z[:, None]
    model = LogisticRegression(C=1e4, max_iter=1000).fit(features, y)  # ~unregularised: 3 parameters, N x L rows
    a = float(model.coef_[0, 0])
    c = float(model.coef_[0, 1]) if use_weights else 0.0
    b = float(model.intercept_[0])
    return {**LogitMap(a, c * log_w + b).to_record(), "coefficients": {"logit": a, "log_weight": c, "intercept": b},
            "fitted": True}
