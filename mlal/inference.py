"""Scoring a set of examples in one pass: probabilities, embeddings and MC-dropout statistics.

Examples are batched in order of length (dynamic padding wastes little), and the results are
put back in the original order. MC-dropout statistics are running sums of the per-pass terms the
strategy declares (``Needs.mc_statistics``, :mod:`mlal.acquisition.mc`), so memory is O(N * L) per
statistic whatever the number of passes T.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Optional

import numpy as np
import torch
from tqdm.auto import tqdm

from mlal.acquisition import MCAccumulator, ModelOutputs, Needs

from .batching import PaddedBatches
from .calibration import LogitMap
from .distributed import gather_rows, rank, world_size


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


def encoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The stack of transformer layers of a Hugging Face encoder (BERT, RoBERTa, DistilBERT, ...)."""
    base = model.base_model
    for path in ("encoder.layer", "transformer.layer", "encoder.layers", "layers", "layer"):
        module = base
        for attribute in path.split("."):
            module = getattr(module, attribute, None)
        if isinstance(module, torch.nn.ModuleList):
            return module
    raise ValueError(f"cannot find the encoder layers of {type(model).__name__} for partial MC dropout")


class _Replay(torch.nn.Module):
    """Stands in for a layer and returns a stored output, whatever its input."""

    def __init__(self, output):
        super().__init__()
        self.output = output

    def forward(self, *args, **kwargs):
        return self.output


@contextlib.contextmanager
def replay_lower_layers(model: torch.nn.Module, sampled_layers: int):
    """Partial MC dropout: record the output of the deterministic lower layers once, then make them
    replay it, so that each stochastic pass runs only the top ``sampled_layers`` layers and the head.

    Usage: run one forward pass inside ``record()`` (eval mode), then the stochastic passes inside
    ``replay()``. With 0 (or at least the number of layers) nothing is replayed: full MC dropout.
    """
    layers = encoder_layers(model) if sampled_layers > 0 else None
    if layers is None or sampled_layers >= len(layers):
        yield None
        return
    boundary = len(layers) - sampled_layers - 1  # last deterministic layer
    originals = list(layers[: boundary + 1])
    stored = {}

    @contextlib.contextmanager
    def record():
        handle = layers[boundary].register_forward_hook(lambda _m, _i, output: stored.__setitem__("out", output))
        try:
            yield
        finally:
            handle.remove()

    @contextlib.contextmanager
    def replay(repeat: int = 1):
        output = stored["out"]
        if repeat > 1:  # batched MC passes: the batch is repeated T times
            tile = lambda t: t.repeat(repeat, *([1] * (t.dim() - 1)))  # noqa: E731
            output = tile(output) if torch.is_tensor(output) else (tile(output[0]), *output[1:])
        replacement = _Replay(output)
        for i in range(boundary + 1):
            layers[i] = replacement
        try:
            yield
        finally:
            for i, layer in enumerate(originals):
                layers[i] = layer

    try:
        yield record, replay
    finally:
        for i, layer in enumerate(originals):
            layers[i] = layer


def _logits(model, inputs, dtype: torch.dtype, logit_map: Optional[LogitMap]) -> torch.Tensor:
    """The model's logits in ``dtype``, through ``logit_map`` when one is given."""
    logits = model(**inputs).logits.to(dtype)
    return logits if logit_map is None else logit_map.apply(logits)


def _mc_pass_probabilities(model, inputs, passes: int, batched: bool, logit_map: Optional[LogitMap] = None):
    """Yield (B, L) float64 probabilities for each of ``passes`` dropout-on forward passes."""
    if batched:
        repeated = {name: tensor.repeat(passes, *([1] * (tensor.dim() - 1))) for name, tensor in inputs.items()}
        logits = _logits(model, repeated, torch.float64, logit_map)
        yield from torch.sigmoid(logits).reshape(passes, -1, logits.shape[-1])
    else:
        for _ in range(passes):
            yield torch.sigmoid(_logits(model, inputs, torch.float64, logit_map))


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
    mc_dropout_layers: int = 0,
    on_batch: Optional[Callable[[], None]] = None,
    logit_map: Optional[LogitMap] = None,
) -> ModelOutputs:
    """Sigmoid probabilities (N, L) for every row of a tokenised ``dataset``, plus embeddings (N, D)
    and MC-dropout statistics when ``needs`` asks for them, all from one pass over the data.

    ``mc_dropout_layers`` k > 0 samples only the top k encoder layers and the head in the MC passes
    (partial MC dropout; the lower layers run once, deterministically); 0 samples the whole model.
    ``logit_map`` (``mlal.calibration.LogitMap``) maps every pass's logits before the sigmoid (calibrated
    acquisition, mlal.calibration); the embeddings are the classifier's inputs and do not change."""
    n = len(dataset)
    n_labels = model.config.num_labels
    device = next(model.parameters()).device
    probs = np.zeros((n, n_labels), dtype=np.float32)
    embeddings = None
    if needs.mc_dropout:
        accumulator = MCAccumulator(needs.mc_statistics, n, n_labels, mc_passes)
        generator_state = torch.random.get_rng_state()
    autocast = (
        torch.autocast(device_type=device.type, dtype=autocast_dtype) if autocast_dtype else contextlib.nullcontext()
    )
    model.eval()
    world, my_rank, mine = world_size(), rank(), []
    partial = mc_dropout_layers if needs.mc_dropout else 0
    with (
        torch.inference_mode(),
        autocast,
        capture_classifier_input(model, needs.embeddings) as captured,
        replay_lower_layers(model, partial) as replayer,
    ):
        batches = PaddedBatches(dataset, tokenizer, batch_size)
        bar = tqdm(batches.batches, desc=description, leave=False, disable=None if progress else True)  # TTY only
        for batch_index, positions in enumerate(bar):
            if batch_index % world != my_rank:  # another process scores this batch
                continue
            mine.append(positions)
            if on_batch is not None:
                on_batch()
            inputs = {name: tensor.to(device) for name, tensor in batches.batch(positions).items()}
            with replayer[0]() if replayer else contextlib.nullcontext():
                p = torch.sigmoid(_logits(model, inputs, torch.float32, logit_map))
            probs[positions] = p.cpu().numpy()
            if needs.embeddings:
                features = captured.pop().float().cpu().numpy()
                if embeddings is None:
                    embeddings = np.zeros((n, features.shape[1]), dtype=np.float32)
                embeddings[positions] = features
            captured.clear()
            if needs.mc_dropout:
                # Seeded per batch: the masks do not depend on which process scores which batch.
                torch.manual_seed(seed * 1_000_003 + batch_index)
                with dropout_only_train_mode(model), (
                    replayer[1](mc_passes if mc_batched else 1) if replayer else contextlib.nullcontext()
                ):
                    batch_passes = []  # (T, B, L) for this batch only, reduced to running sums below
                    for pt in _mc_pass_probabilities(model, inputs, mc_passes, mc_batched, logit_map):
                        batch_passes.append(pt.cpu().numpy())
                        captured.clear()
                    accumulator.add_stacked(positions, np.stack(batch_passes))
    if world > 1:
        if embeddings is None and needs.embeddings:  # this process scored no batch
            embeddings = np.zeros((n, model.config.hidden_size), dtype=np.float32)
        rows = np.concatenate(mine) if mine else np.zeros(0, dtype=np.int64)
        local = {"probs": probs[rows]}
        if needs.embeddings:
            local["embeddings"] = embeddings[rows]
        if needs.mc_dropout:
            local.update({f"mc_{key}": value[rows] for key, value in accumulator.sums.items()})
        full = gather_rows(rows, local, n)
        probs, embeddings = full["probs"], full.get("embeddings", embeddings)
        if needs.mc_dropout:
            accumulator.sums = {key: full[f"mc_{key}"] for key in accumulator.sums}
    mc = None
    if needs.mc_dropout:
        torch.random.set_rng_state(generator_state)
        mc = accumulator.result()
    return ModelOutputs(probs=probs, embeddings=embeddings, mc=mc)
