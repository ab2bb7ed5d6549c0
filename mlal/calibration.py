"""Calibrated probabilities for acquisition: a Platt map of the logits, fitted each round on the validation split.

Why: training with ``--loss weighted_bce`` (positive weight w_l of label l) moves the model's odds. At the optimum of
the weighted loss, logit p_w = logit q + log w_l, where q is the true conditional probability (the prior shift of
cost-sensitive learning: Elkan 2001; Menon et al. 2021, "Long-tail learning via logit adjustment"). A model's
p = 0.5 is then a true probability near 1 / (1 + w_l): in the GoEmotions benchmark (w ~ 30) the (example, label)
pairs the model scores in (0.4, 0.6) are positive 9 % (100 labeled examples) to 18-27 % (1,000) of the time
(BENCHMARKS.md). Uncertainty strategies read p = 0.5 as "most uncertain", so they rank by the wrong point.
Measured there, calibrating did not help: margin with the map lost 0.03 mAP area against random over 3 seeds
(uncalibrated margin: +0.004), because the upward push is what lets a weak model's rare labels look uncertain.

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

PROBABILITY_FLOOR = 1e-6  # probabilities are clipped to [floor, 1 - floor] before taking logits (|z| <= 13.8;
#                           pairs beyond are saturated before and after any map with a in (0, 1])
MIN_PAIRS = 10  # positive and negative (example, label) pairs a fit needs


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
    """Fit q = sigmoid(a z + c log w_l + b) on a labeled split; returns the record
    ``{"scale", "offset", "coefficients", "fitted", "reason"}`` (``LogitMap.from_record`` reads it).

    ``targets`` (N, L) multi-hot, ``probs`` (N, L) the model's probabilities on the same rows,
    ``positive_weights`` (L,) the round's loss weights (None, or the same weight for every label: no covariate,
    the shift folds into b). Logistic regression with scikit-learn's default L2 penalty (C = 1), which keeps a
    finite when the split is perfectly separated. No fit is made, or a fit is not used, when the split has fewer
    than ``MIN_PAIRS`` positive or negative (example, label) pairs, or when a <= 0 (a map that would reverse the
    model's ranking); the map is then the weighted loss's own correction (a = 1, c = -1, b = 0), or the identity
    without weights, with ``"fitted": False`` and the reason."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(targets).reshape(-1).astype(int)
    n_labels = np.shape(probs)[1]
    log_w = np.zeros(n_labels) if positive_weights is None else np.log(np.asarray(positive_weights, dtype=np.float64))
    positives = int(y.sum())
    if min(positives, len(y) - positives) < MIN_PAIRS:
        return _unfitted(log_w, f"{positives} positive and {len(y) - positives} negative pairs (< {MIN_PAIRS})")
    z = logits_of(probs).reshape(-1)
    use_weights = bool(np.ptp(log_w) > 0)  # equal weights for every label fold into the intercept
    features = np.column_stack([z, np.tile(log_w, len(z) // n_labels)]) if use_weights else z[:, None]
    model = LogisticRegression(max_iter=1000).fit(features, y)
    a = float(model.coef_[0, 0])
    c = float(model.coef_[0, 1]) if use_weights else 0.0
    b = float(model.intercept_[0])
    if a <= 0:
        return _unfitted(log_w, f"the fitted scale {a:.3g} is not positive (the model ranks against the labels)")
    return {**LogitMap(a, c * log_w + b).to_record(), "coefficients": {"logit": a, "log_weight": c, "intercept": b},
            "fitted": True, "reason": ""}


def _unfitted(log_w: np.ndarray, reason: str) -> dict:
    """The fallback map: undo the loss weights (a = 1, c = -1, b = 0); the identity when there were none."""
    return {**LogitMap(1.0, -log_w).to_record(), "coefficients": None, "fitted": False, "reason": reason}
