import numpy as np

from mlal.synthetic import TOPIC_WORDS, generate_multilabel_texts, label_vocabulary


def test_deterministic_by_seed():
    a = generate_multilabel_texts(200, 6, random_state=3)
    b = generate_multilabel_texts(200, 6, random_state=3)
    c = generate_multilabel_texts(200, 6, random_state=4)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert a[0] != c[0]


def test_multilabel_properties():
    texts, y, names = generate_multilabel_texts(3000, 8, random_state=0)
    assert y.shape == (3000, 8) and len(texts) == 3000 and len(names) == 8
    cardinality = y.sum(axis=1)
    assert cardinality.mean() > 1.5 and cardinality.min() >= 1
    frequency = y.mean(axis=0)
    assert frequency.max() / frequency.min() > 3  # imbalanced
    # Co-occurrence: some pair appears together far more often than independence predicts.
    joint = (y.T @ y) / len(y)
    lift = joint / np.outer(frequency, frequency)
    np.fill_diagonal(lift, 0)
    assert lift.max() > 2


def test_vocabularies_overlap_and_text_uses_them():
    texts, y, names = generate_multilabel_texts(50, 8, random_state=1)
    words = [set(w) for w in label_vocabulary(8)]
    assert any(words[i] & words[j] for i in range(8) for j in range(i + 1, 8))
    first_labels = [names[j] for j in np.flatnonzero(y[0])]
    assert any(w in texts[0].split() for name in first_labels for w in TOPIC_WORDS[name])
