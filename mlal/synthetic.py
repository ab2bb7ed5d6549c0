"""A built-in generator of synthetic multi-label text (what ``configs/demo.yaml`` uses).

The texts are made up, so the demo runs anywhere without downloads. They are
built to behave like real multi-label data, learnable but not trivial:

* label cardinality above 1 (1 to 3 labels per example, about 1.9 on average);
* imbalanced label frequencies (a Zipf-like prior over labels);
* label co-occurrence (each label has a partner it often appears with);
* overlapping vocabularies (every label shares words with its neighbours, and
  filler words plus distractor keywords from absent labels add noise).

Everything is deterministic given ``seed``.
"""

from __future__ import annotations

import numpy as np

TOPIC_WORDS = {
    "sports": "match goal team coach league stadium player score season tournament referee champion".split(),
    "politics": "election senate vote parliament minister campaign policy governor debate party ballot reform".split(),
    "technology": "software chip startup computer network algorithm device internet robot data cloud app".split(),
    "health": "doctor hospital vaccine patient disease nurse therapy diet symptom clinic medicine fitness".split(),
    "finance": "stock market bank investor interest inflation budget loan profit bond trading economy".split(),
    "travel": "flight hotel airport passport tourist beach luggage cruise journey museum visa resort".split(),
    "food": "recipe restaurant chef dinner bread cheese kitchen flavor soup dessert menu spice".split(),
    "music": "concert album guitar singer band melody song piano festival rhythm lyrics drummer".split(),
    "science": "experiment laboratory physics chemistry research telescope molecule theory biology scientist genome fossil".split(),
    "weather": "storm rain forecast temperature snow wind hurricane cloud thunder drought humidity flood".split(),
    "education": "school teacher student exam university lecture homework classroom degree curriculum tutor campus".split(),
    "film": "movie director actor cinema premiere screenplay studio trailer scene camera oscar sequel".split(),
    "fashion": "dress designer runway model clothing style jacket boutique fabric trend shoes collection".split(),
    "gaming": "console player level controller arcade quest multiplayer esports puzzle avatar score joystick".split(),
    "law": "court judge lawyer trial verdict lawsuit contract police crime appeal jury statute".split(),
    "energy": "solar oil power grid battery wind electricity fuel pipeline nuclear reactor emissions".split(),
}
TOPICS = list(TOPIC_WORDS)
_FILLER = (
    "the a of and to in is that for it with as was on be at by this from or have an they which one you were "
    "all we when there can more if out so about what up its into them than only other new some could time"
).split()


def label_vocabulary(num_labels: int) -> list[list[str]]:
    """Words each label draws from: its topic words plus three of the next label's."""
    vocab = [list(TOPIC_WORDS[name]) for name in TOPICS[:num_labels]]
    # Overlap: each label borrows a few words from its neighbour, so no word list is exclusive.
    for j in range(num_labels):
        vocab[j] = vocab[j] + TOPIC_WORDS[TOPICS[(j + 1) % num_labels]][:3]
    return vocab


def generate_multilabel_texts(
    n_samples: int,
    num_labels: int = 8,
    random_state: int = 0,
) -> tuple[list[str], np.ndarray, list[str]]:
    """Generate ``n_samples`` texts with multi-hot labels.

    Returns:
        texts: list of ``n_samples`` strings.
        labels: float32 array of shape (n_samples, num_labels), multi-hot.
        label_names: list of ``num_labels`` names.
    """
    if not 2 <= num_labels <= len(TOPICS):
        raise ValueError(f"num_labels must be between 2 and {len(TOPICS)}, got {num_labels}")
    rng = np.random.default_rng(random_state)
    label_names = TOPICS[:num_labels]
    vocab = label_vocabulary(num_labels)
    prior = 1.0 / np.arange(1, num_labels + 1) ** 0.9
    prior /= prior.sum()
    cycle = rng.permutation(num_labels)  # each label's partner is the next one on a random cycle
    partner = np.empty(num_labels, dtype=int)
    partner[cycle] = np.roll(cycle, -1)

    cardinality = rng.choice([1, 2, 3], size=n_samples, p=[0.35, 0.4, 0.25])
    labels = np.zeros((n_samples, num_labels), dtype=np.float32)
    texts = []
    for i in range(n_samples):
        first = rng.choice(num_labels, p=prior)
        chosen = {int(first)}
        if cardinality[i] > 1 and rng.random() < 0.8:
            chosen.add(int(partner[first]))
        while len(chosen) < cardinality[i]:
            chosen.add(int(rng.choice(num_labels, p=prior)))
        labels[i, sorted(chosen)] = 1.0
        tokens = []
        for j in chosen:
            tokens += list(rng.choice(vocab[j], size=rng.integers(2, 5)))
        if rng.random() < 0.3:  # a distractor keyword from an absent label
            absent = [j for j in range(num_labels) if j not in chosen]
            tokens.append(str(rng.choice(vocab[int(rng.choice(absent))])))
        tokens += list(rng.choice(_FILLER, size=rng.integers(4, 10)))
        rng.shuffle(tokens)
        texts.append(" ".join(tokens))
    return texts, labels, label_names
