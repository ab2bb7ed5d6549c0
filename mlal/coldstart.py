"""Label-free cold start: a diverse, representative first batch from the pretrained encoder's embeddings.

Method: k-means medoids. Embed every candidate with the pretrained encoder (mean-pooled last hidden state,
L2-normalised, so distances are cosine distances), run k-means with k = batch size, and take for each
centre the example nearest to it (its medoid). Zhu, Wang, Yao & Tsou (2008), "Active learning with
sampling by uncertainty and density for text classification" (COLING), select the initial set this way;
Yuan, Lin & Boyd-Graber (2020), ALPS (EMNLP), k-means-cluster pretrained-LM embeddings for cold-start
batches in the same spirit.

Why k-means medoids rather than k-center greedy (Sener & Savarese 2018): k-center greedy minimises the
largest distance to the chosen set, so with no labels it starts from the outliers (near-empty or
boilerplate texts sit far from everything); k-means medoids are representative (each sits in a dense
region, in proportion to the data's mass) and diverse (one per cluster). Both are deterministic given
the seed; k-means costs O(N k D) per iteration, vectorised by scikit-learn.
"""

from __future__ import annotations

import numpy as np
import torch

from .batching import PaddedBatches


def kmeans_medoids(embeddings: np.ndarray, k: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (k,) of the examples nearest to the k centres of k-means on ``embeddings`` (N, D), and
    the size of each one's cluster (k,).

    Rows are L2-normalised first. Each centre gets a distinct example (a centre whose nearest example is
    taken gets its next nearest). Positions come in the order of the cluster sizes, largest first (the
    most representative first). With k >= N every position is returned, each with cluster size 1.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import pairwise_distances

    x = np.asarray(embeddings, dtype=np.float64)
    n = len(x)
    if k >= n:
        return np.arange(n), np.ones(n, dtype=np.int64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    kmeans = KMeans(n_clusters=k, n_init=3, random_state=random_state).fit(x)
    sizes = np.bincount(kmeans.labels_, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    centres, sizes = kmeans.cluster_centers_[order], sizes[order]
    distances = pairwise_distances(centres, x)  # (k, N)
    nearest = distances.argmin(axis=1)
    if len(np.unique(nearest)) == k:
        return nearest, sizes
    chosen = np.full(k, -1)
    taken = np.zeros(n, dtype=bool)
    for c in range(k):  # k centres, not N samples; only reached when two centres share a nearest example
        d = np.where(taken, np.inf, distances[c])
        chosen[c] = int(d.argmin())
        taken[chosen[c]] = True
    return chosen, sizes


@torch.inference_mode()
def mean_pooled_embeddings(model, dataset, tokenizer, batch_size: int = 64) -> np.ndarray:
    """Mean-pooled (over non-padding tokens) last hidden states of ``model.base_model``, shape (N, D)."""
    device = next(model.parameters()).device
    out = np.zeros((len(dataset), model.config.hidden_size), dtype=np.float32)
    model.eval()
    for positions, batch in PaddedBatches(dataset, tokenizer, batch_size):
        inputs = {name: tensor.to(device) for name, tensor in batch.items()}
        hidden = model.base_model(**inputs).last_hidden_state.float()
        mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out[positions] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy()
    return out


def candidate_embeddings(model_args, model_config, tokenizer, texts, max_length: int, random_state: int,
                         batch_size: int = 64) -> np.ndarray:
    """Embeddings (N, D) of ``texts`` by the pretrained encoder named by ``model_args`` (seeded load, so a
    head or pooler the checkpoint lacks is initialised the same way every time)."""
    from datasets import Dataset
    from transformers import set_seed

    from .modeling import load_model

    set_seed(random_state)
    model = load_model(model_args, model_config)
    tokenized = Dataset.from_dict({"text": list(texts)}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length), batched=True,
        remove_columns=["text"], desc="embedding for the cold start",
    )
    return mean_pooled_embeddings(model, tokenized, tokenizer, batch_size)

