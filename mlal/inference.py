"""Scoring a set of examples in one pass: probabilities, embeddings and MC-dropout statistics.

Examples are batched in order of length (dynamic padding wastes little), and the results are
put back in the original order. MC-dropout statistics are running sums, so memory is
O(N * L) whatever the number of passes T.
"""

from __future__ import annotations

import contextlib
from typing import Optional

import numpy as np
import torch
from tqdm.auto import tqdm

from acquisition import MCDropoutStats, ModelOutputs, Needs

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _classifier_module(model: torch.nn.Module) -> Optional[torch.nn.Module]:
    for name in ("classifier", "score", "classification_head"):
        module = getattr(model, name, None)
        if isinstance(module, torch.nn.Module):
            return module
    return None


@contextlib.contextmanager
def capture_classifier_input(model: torch.nn.Module, enabled: bool):
    """Record the classifier head's input (the pooled [CLS] embedding) during forward passes."""
    captured: list[torch.Tensor] = []
    handle = None
    if enabled:
        head = _classifier_module(model)
        if head is None:
            raise ValueError("cannot find the model's classification head to read embeddings from")

        def hook(_module, inputs, _output):
            features = inputs[0]
            captured.append(features[:, 0] if features.dim() == 3 else features)

        handle = head.register_forward_hook(hook)
    try:
        yield captured
    finally:
        if handle is not None:
            handle.remove()


@contextlib.contextmanager
def dropout_only_train_mode(model: torch.nn.Module):
    """Eval mode everywhere except dropout modules (MC dropout, Gal & Ghahramani 2016)."""
    was_training = model.training
    model.eval()
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.train()
    try:
        yield
    finally:
        model.train(was_training)


def _mc_pass_probabilities(model, inputs, passes: int, batched: bool):
    """Yield (B, L) float64 probabilities for each of ``passes`` dropout-on forward passes."""
    if batched:
        repeated = {name: tensor.repeat(passes, *([1] * (tensor.dim() - 1))) for name, tensor in inputs.items()}
        logits = model(**repeated).logits.double()
        yield from torch.sigmoid(logits).reshape(passes, -1, logits.shape[-1])
    else:
        for _ in range(passes):
            yield torch.sigmoid(model(**inputs).logits.double())


def _batches(columns: dict[str, list], batch_size: int):
    lengths = np.fromiter((len(ids) for ids in columns["input_ids"]), dtype=np.int64, count=len(columns["input_ids"]))
    order = np.argsort(-lengths, kind="stable")
    for start in range(0, len(order), batch_size):
        positions = order[start:start + batch_size]
        yield positions, {name: [values[i] for i in positions] for name, values in columns.items()}


def predict_outputs(
    model: torch.nn.Module,
    dataset,
    tokenizer,
    needs: Needs = Needs(),
    mc_passes: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    autocast_dtype: Optional[torch.dtype] = None,
    description: str = "scoring",
    progress: bool = True,
    mc_batched: bool = False,
) -> ModelOutputs:
    """Sigmoid probabilities (N, L) for every row of a tokenised ``dataset``, plus embeddings (N, D)
    and MC-dropout statistics when ``needs`` asks for them, all from one pass over the data."""
    columns = {name: dataset[name] for name in MODEL_INPUTS if name in dataset.column_names}
    n = len(dataset)
    n_labels = model.config.num_labels
    device = next(model.parameters()).device
    probs = np.zeros((n, n_labels), dtype=np.float32)
    embeddings = None
    if needs.mc_dropout:
        sums = {key: np.zeros((n, n_labels), dtype=np.float64) for key in ("p", "entropy", "confidence")}
        set_confidence = np.zeros(n, dtype=np.float64)
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
    autocast = (
        torch.autocast(device_type=device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    )
    model.eval()
    with torch.inference_mode(), autocast, capture_classifier_input(model, needs.embeddings) as captured:
        for positions, batch in tqdm(list(_batches(columns, batch_size)), desc=description, leave=False, disable=not progress):
            inputs = tokenizer.pad(batch, return_tensors="pt").to(device)
            p = torch.sigmoid(model(**inputs).logits.float())
            probs[positions] = p.cpu().numpy()
            if needs.embeddings:
                features = captured.pop().float().cpu().numpy()
                if embeddings is None:
                    embeddings = np.zeros((n, features.shape[1]), dtype=np.float32)
                embeddings[positions] = features
            captured.clear()
            if needs.mc_dropout:
                with dropout_only_train_mode(model):
                    for pt in _mc_pass_probabilities(model, inputs, mc_passes, mc_batched):
                        pt = pt.clamp(1e-12, 1 - 1e-12)
                        entropy = -(pt * pt.log() + (1 - pt) * torch.log1p(-pt))
                        confidence = torch.maximum(pt, 1 - pt)
                        sums["p"][positions] += pt.cpu().numpy()
                        sums["entropy"][positions] += entropy.cpu().numpy()
                        sums["confidence"][positions] += confidence.cpu().numpy()
                        set_confidence[positions] += confidence.prod(dim=1).cpu().numpy()
                        captured.clear()
    mc = None
    if needs.mc_dropout:
        torch.random.set_rng_state(generator_state)
        mc = MCDropoutStats(
            mean_probs=sums["p"] / mc_passes,
            mean_entropy=sums["entropy"] / mc_passes,
            mean_confidence=sums["confidence"] / mc_passes,
            mean_set_confidence=set_confidence / mc_passes,
            passes=mc_passes,
        )
    return ModelOutputs(probs=probs, embeddings=embeddings, mc=mc)
