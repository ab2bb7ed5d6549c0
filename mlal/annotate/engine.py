"""One annotate round, phase by phase, reusing the simulation's training, scoring and acquisition.

Phases of round k (committed to project.json after each; a rerun resumes at the phase reached):

    start     -> trained   fine-tune a fresh model on every labeled example (mlal.training.fine_tune), or load
                           --trained_model; with nothing labeled, skip to a label-free cold-start batch
    trained   -> scored    score the pool (mlal.round.acquisition_input) and the stop set; stopping advice
    scored    -> exported  acquisition (acquisition.get_strategy) and the batch files of round_<k>/
    exported  -> start of round k+1, once the labels people return are imported (importer.py)

Seeds follow the simulation exactly (``t`` = the index of this training): set_seed(seed + t) before the
model is built, MC dropout seeded with seed + t, pool subsample with seed * 1_000_003 + t, acquisition with
random_state seed * 1000 + t; the cold start draws the same k-means medoids as ``--initial_sampling kmeans``.
So a person who labels each batch as the dataset would gets the same batches as a simulation run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mlal.acquisition import AcquisitionInput
from ..coldstart import candidate_embeddings, kmeans_medoids
from ..errors import UsageError
from ..faults import maybe_fail, set_context
from ..results import atomic_write_json, atomic_write_npz, now_iso
from ..sampling import subsample_ids
from ..state import arrays_to_outputs, outputs_to_arrays
from ..stopping import advice_line, stopping_advice
from .batch_files import batch_rows, write_batch
from .importer import validate_import
from .project import Project, sha256_bytes


@dataclass
class Session:
    """What every phase needs: the project, the parsed config and the loaded corpus and tokenizer."""

    project: Project
    config: Any  # mlal.config.ExperimentConfig
    strategy: Any
    ids: list[str]
    texts: list[str]
    tokenized: Any  # datasets.Dataset with input_ids, attention_mask (corpus order)
    tokenizer: Any
    model_config: Any
    trained_model: str | None
    log: Callable[[str], None]
    model: Any = None

    @property
    def seed(self) -> int:
        return int(self.config.training.seed)

    @property
    def label_names(self) -> list[str]:
        return self.project.data["label_names"]

    def targets(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted labeled rows, multi-hot targets (N, L) with zeros for unlabeled rows)."""
        index = {name: j for j, name in enumerate(self.label_names)}
        targets = np.zeros((len(self.ids), len(self.label_names)), dtype=np.float32)
        rows = np.sort(np.asarray([int(r) for r in self.project.data["labels"]], dtype=np.int64))
        for row, names in self.project.data["labels"].items():  # labeled rows, not the pool
            targets[int(row), [index[n] for n in names]] = 1.0
        return rows, targets

    def scoring(self) -> dict:
        from ..loop import autocast_dtype

        args = self.config.training
        return {"batch_size": int(args.per_device_eval_batch_size), "progress": not args.disable_tqdm,
                "autocast_dtype": autocast_dtype(args, self.config.model.scoring_precision)}


def advance(session: Session) -> None:
    """Run phases until the current batch is exported (or the pool is empty)."""
    project = session.project
    while True:
        phase, k = project.data["phase"], project.data["round"]
        if phase == "exported":
            batch = project.data["batches"][str(k)]
            session.log(f"round {k}: {len(batch['ids'])} examples to label in {project.round_dir(k)}/to_label.csv "
                        f"(or .jsonl, or Label Studio tasks); then run: run_active_learning.py annotate "
                        f"--project_dir {project.folder} --import FILE")
            return
        set_context(k, "annotate")
        labeled, _ = session.targets()
        if len(labeled) == len(session.ids):
            session.log(f"every example of the corpus is labeled ({len(labeled)}); nothing left to query")
            return
        {"start": _start, "trained": _score, "scored": _acquire}[phase](session)


def _start(session: Session) -> None:
    from transformers import set_seed

    from ..modeling import load_model
    from ..training import fine_tune, positive_weights

    project, al = session.project, session.config.al
    labeled, targets = session.targets()
    t = int(project.data["trainings"])
    if session.trained_model:
        session.model = load_trained_model(session.trained_model, session.config.model, session.label_names)
        project.commit(phase="trained", model=str(Path(session.trained_model).resolve()), seed_index=t)
        session.log(f"round {project.data['round']}: querying with {session.trained_model} (no training)")
        return
    if len(labeled) == 0:
        _cold_start(session)
        return
    set_seed(session.seed + t)
    session.model = load_model(session.config.model, session.model_config)
    pos_weight = positive_weights(targets[labeled], al.pos_weight_max) if al.loss == "weighted_bce" else None
    train = session.tokenized.select(labeled).add_column("labels", targets[labeled].tolist())
    session.log(f"round {project.data['round']}: training on {len(labeled)} labeled examples")
    fit = fine_tune(session.model, train, session.tokenizer, session.config.training, pos_weight)
    model_path = project.save_model(session.model, session.tokenizer, t)
    project.commit(phase="trained", model=model_path, seed_index=t, trainings=t + 1,
                   fit={"train_loss": fit["train_loss"], "seconds": fit["seconds"]})
    maybe_fail("after_train")


def _cold_start(session: Session) -> None:
    project, al = session.project, session.config.al
    labeled, _ = session.targets()
    pool = np.setdiff1d(np.arange(len(session.ids)), labeled)
    size = min(al.initial_size, len(pool))
    session.log(f"round {project.data['round']}: nothing labeled yet: label-free cold start, {size} k-means medoids "
                f"of {len(pool)} examples")
    embeddings = candidate_embeddings(session.config.model, session.model_config, session.tokenizer,
                                      [session.texts[i] for i in pool], session.config.data.max_length, session.seed,
                                      session.scoring()["batch_size"])
    positions, sizes = kmeans_medoids(embeddings, size, session.seed)
    _export(session, pool[positions], sizes.astype(np.float64), None, model_version=None)


def _score(session: Session) -> None:
    from ..round import acquisition_input as _acquisition_input

    project, al = session.project, session.config.al
    k, t = project.data["round"], int(project.data["seed_index"])
    labeled, targets = session.targets()
    model = _model(session)
    pool = np.setdiff1d(np.arange(len(session.ids)), labeled)
    scored = subsample_ids(pool, al.pool_subsample, session.seed * 1_000_003 + t)
    scoring = session.scoring()
    inputs = _acquisition_input(model, session.tokenized, session.tokenizer, session.strategy.needs, scored, labeled,
                                targets, al.mc_passes, session.seed + t, al.mc_batched, al.mc_dropout_layers, scoring)
    from ..inference import predict_outputs

    stop_set = np.asarray(project.data["stop_set"], dtype=np.int64)
    stop_probs = predict_outputs(model, session.tokenized.select(stop_set), session.tokenizer, description="stop set",
                                 **scoring).probs
    arrays = {"scored_ids": scored, **outputs_to_arrays("pool_", inputs.pool)}
    if inputs.labeled is not None:
        arrays.update(outputs_to_arrays("labeled_", inputs.labeled))
    atomic_write_npz(project.phase_dir / f"pool-{k}.npz", **arrays)
    atomic_write_npz(project.round_dir(k) / "stop_set_probs.npz", probs=stop_probs)
    history = project.data["stopping"]
    previous = project.round_dir(history[-1]["round"]) / "stop_set_probs.npz" if history else None
    previous_probs = np.load(previous)["probs"] if previous is not None and previous.is_file() else None
    record = stopping_advice(previous_probs, stop_probs, [h["kappa"] for h in history], al.stop_kappa, al.stop_window)
    record.update(round=k, labeled=int(len(labeled)), pool_mean_uncertainty=_mean_entropy(inputs.pool.probs))
    atomic_write_json(project.round_dir(k) / "stopping.json", record)
    project.commit(phase="scored", pending_stopping=record)
    maybe_fail("after_scoring")


def _mean_entropy(probs: np.ndarray) -> float:
    from ..stopping import mean_uncertainty

    return mean_uncertainty(probs)


def _acquire(session: Session) -> None:
    project, al = session.project, session.config.al
    k, t = project.data["round"], int(project.data["seed_index"])
    labeled, targets = session.targets()
    with np.load(project.phase_dir / f"pool-{k}.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    inputs = AcquisitionInput(pool=arrays_to_outputs("pool_", arrays), pool_ids=arrays["scored_ids"],
                              labeled_targets=targets[labeled], labeled=arrays_to_outputs("labeled_", arrays))
    query = int(min(al.query_size, len(inputs.pool_ids)))
    selection = session.strategy.select(inputs, query, random_state=session.seed * 1000 + t)
    record = project.data.pop("pending_stopping")
    session.log(advice_line(record))
    _export(session, inputs.pool_ids[selection.positions], np.asarray(selection.scores, dtype=np.float64),
            inputs.pool.probs[selection.positions], model_version=f"mlal-round-{k}",
            stopping=[*project.data["stopping"], record])
    (project.phase_dir / f"pool-{k}.npz").unlink(missing_ok=True)


def _export(session: Session, rows: np.ndarray, scores: np.ndarray, probs, model_version, stopping=None) -> None:
    project = session.project
    k = project.data["round"]
    ids = [session.ids[i] for i in rows]
    batch = batch_rows(ids, [session.texts[i] for i in rows], scores, probs, session.label_names)
    write_batch(project.round_dir(k), batch, session.label_names, model_version)
    batches = {**project.data["batches"], str(k): {"ids": ids, "rows": [int(i) for i in rows], "at": now_iso()}}
    changes = {"phase": "exported", "batches": batches}
    if stopping is not None:
        changes["stopping"] = stopping
    project.commit(**changes)


def _model(session: Session):
    from ..modeling import load_model

    if session.model is None:
        session.model = load_model(session.config.model, session.model_config,
                                   weights_from=str(session.project.model_dir()))
    return session.model


def load_trained_model(path: str, model_args, label_names: list[str]):
    """A trained classifier from ``path``, checked to have a head for exactly ``label_names``."""
    from transformers import AutoConfig

    from ..modeling import load_model

    try:
        config = AutoConfig.from_pretrained(path)
    except Exception as exc:
        raise UsageError(f"--trained_model {path}: not a model folder ({exc.__class__.__name__}); pass the folder "
                         "of a trained classifier (e.g. proj/state/model-<t>)") from None
    names = [config.id2label[i] for i in range(config.num_labels)] if config.num_labels else []
    generic = all(str(name).startswith("LABEL_") for name in names)
    if config.num_labels != len(label_names) or (not generic and names != list(label_names)):
        raise UsageError(f"--trained_model {path} predicts {config.num_labels} labels ({', '.join(map(str, names[:4]))}"
                         f"...), not the project's {len(label_names)}; pass a model trained on this label list")
    return load_model(model_args, config, weights_from=path)


def import_labels(project: Project, path: Path, log: Callable[[str], None]) -> None:
    """Validate ``path`` against the exported batch and merge it (all or nothing); the next round starts."""
    data = Path(path).read_bytes() if Path(path).is_file() else None
    digest = sha256_bytes(data) if data is not None else None
    if digest is not None and any(item["sha256"] == digest for item in project.data["imports"]):
        log(f"{path} was already imported; continuing the project")
        return
    k = project.data["round"]
    if project.data["phase"] != "exported":
        raise UsageError(f"round {k}'s batch is not exported yet (phase {project.data['phase']}); run annotate "
                         f"--project_dir {project.folder} without --import first to finish it")
    batch = project.data["batches"][str(k)]
    labeled = validate_import(Path(path), batch["ids"], project.data["label_names"], f"round_{k}'s batch")
    row_of = dict(zip(batch["ids"], batch["rows"]))
    labels = {**project.data["labels"], **{str(row_of[i]): names for i, names in labeled.items()}}
    imports = [*project.data["imports"], {"round": k, "file": str(path), "sha256": digest, "labeled": len(labeled),
                                          "at": now_iso()}]
    project.commit(labels=labels, imports=imports, round=k + 1, phase="start", model=project.data.get("model"))
    log(f"imported {len(labeled)} of {len(batch['ids'])} examples of round {k} "
                f"({len(batch['ids']) - len(labeled)} left in the pool); {len(labels)} labeled in all")
