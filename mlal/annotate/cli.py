"""``run_active_learning.py annotate``: the command line of annotate mode.

    run_active_learning.py annotate --unlabeled corpus.jsonl --label_names labels.txt [--labeled seed.jsonl] \\
        --project_dir proj/ [--strategy beal --query_size 50 --model minilm-l6 ... any simulation option]
    run_active_learning.py annotate --project_dir proj/ --import proj/round_0/to_label.csv
    run_active_learning.py annotate --project_dir proj/                 # resume / show the batch to label

Annotate's own flags are below; every model, training and active-learning option of the simulation (and
--config YAML) is accepted too. Options given when the project is created are saved in it; options given
later override them from then on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..results import now_iso
from ..lock import LOCK_NAME, FolderLock
from .project import Project

DEFAULT_STOP_SET = 1000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_active_learning.py annotate", add_help=False,
        description="Active learning with people who label: each round writes the batch to label into "
        "PROJECT_DIR/round_<k>/ (CSV, JSONL, Label Studio tasks); --import the labels to go on. Model, training "
        "and AL options (--strategy, --query_size, --initial_size, --model, --seed, --config, ...) are those of "
        "the simulation; see run_active_learning.py --help. With nothing labeled, round 0 is a label-free cold "
        "start: the --initial_size k-means medoids of the pretrained encoder's embeddings (--initial_sampling "
        "stratified reads the labels of the whole pool and exists in simulation only).",
    )
    parser.add_argument("-h", "--help", action="store_true")
    parser.add_argument("--project_dir", required=False, help="The project folder (created on first use).")
    parser.add_argument("--unlabeled", help="Corpus to label: JSONL with a text field and optionally an id field.")
    parser.add_argument("--label_names", "--label_names_file", dest="label_names",
                        help="Text file with one label name per line.")
    parser.add_argument("--labeled", help="Optional labeled seed: JSONL with id (or text) and labels.")
    parser.add_argument("--id_column", default="id", help="Id field of the corpus (default: id; else the row number).")
    parser.add_argument("--import", dest="import_file",
                        help="Labels returned for the current batch: the edited to_label.csv, a JSONL, or a Label "
                        "Studio JSON export. Validated first: any bad row refuses the whole file.")
    parser.add_argument("--trained_model", help="Query with this already-trained classifier folder, without training.")
    parser.add_argument("--stop_set_size", type=int, default=DEFAULT_STOP_SET,
                        help="Unlabeled examples predicted every round for the stopping advice (fixed at creation).")
    return parser


def _split_argv(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    args, rest = build_parser().parse_known_args(argv)
    return args, rest


def _create(project: Project, args, config, log) -> None:
    from ..sampling import subsample_ids
    from .corpus import read_corpus, read_label_names, read_seed

    if project.folder.exists() and any(p.name not in (LOCK_NAME, "corpus.jsonl") for p in project.folder.iterdir()):
        raise UsageError(f"--project_dir {project.folder} is not empty and holds no annotate project; choose a new folder")
    label_names = read_label_names(Path(args.label_names))
    data = config.data
    ids, texts = read_corpus(Path(args.unlabeled), data.text_column, args.id_column)
    labels: dict[str, list[str]] = {}
    if args.labeled:
        row_of = {example_id: row for row, example_id in enumerate(ids)}
        for example_id, text, names in read_seed(Path(args.labeled), data.text_column, args.id_column,
                                                 data.label_column, data.label_delimiter, label_names):
            if example_id not in row_of:
                if not text:
                    raise UsageError(f"{args.labeled}: seed id {example_id!r} is not in the corpus and has no text")
                row_of[example_id] = len(ids)
                ids.append(example_id)
                texts.append(text)
            labels[str(row_of[example_id])] = names
    if args.stop_set_size < 1:
        raise UsageError("--stop_set_size must be at least 1")
    project.data = {
        "created": now_iso(), "label_names": label_names, "options": [], "round": 0, "phase": "start", "trainings": 0,
        "labels": labels, "batches": {}, "imports": [], "stopping": [], "model": None,
        "stop_set": subsample_ids(np.arange(len(ids)), args.stop_set_size, int(config.training.seed)).tolist(),
        "sources": {"unlabeled": str(args.unlabeled), "labeled": args.labeled, "label_names": str(args.label_names)},
    }
    project.write_corpus(ids, texts)
    log(f"created project {project.folder}: {len(ids)} examples, {len(label_names)} labels, {len(labels)} labeled")


def _options(saved: list[str], given: list[str]) -> list[str]:
    """The project's saved options overridden by this command's, without secrets (``*token`` keys), as
    command-line tokens. Both are read by the one option parser (mlal.command_line.read_options)."""
    from ..command_line import options_to_argv, read_options

    values = {**read_options(saved), **read_options(given)}
    return options_to_argv({key: value for key, value in values.items() if not key.endswith("token")})


def run_annotate(argv: list[str], log=print) -> int:
    from ..config import parse_config

    args, rest = _split_argv(argv)
    if args.help:
        build_parser().print_help()
        return 0
    if not args.project_dir:
        raise UsageError("annotate needs --project_dir FOLDER (the project to create or continue)")
    project = Project(Path(args.project_dir))
    if project.folder.exists() and not project.folder.is_dir():
        raise UsageError(f"--project_dir {project.folder} is a file; choose a folder")
    if not project.exists() and args.import_file:
        raise UsageError(f"--import needs an existing project and {project.folder} holds none; create it first with "
                         "--unlabeled corpus.jsonl --label_names labels.txt")
    if not project.exists() and not (args.unlabeled and args.label_names):
        raise UsageError(f"{project.folder} holds no project yet; create one with --unlabeled corpus.jsonl "
                         "--label_names labels.txt")
    with FolderLock(project.folder, purpose="annotate", option="--project_dir"):
        creating = not project.exists()
        if not creating:
            project.load()
            if args.unlabeled or args.labeled or args.label_names:
                raise UsageError(f"{project.folder} already holds a project; drop --unlabeled/--labeled/--label_names "
                                 "(its corpus and labels are saved in it) or choose a new --project_dir")
        options = _options(project.data.get("options", []) if not creating else [], rest)
        config = parse_config(options)  # all options checked before anything is written
        strategy = _check(config)
        if args.import_file:
            from .engine import import_labels

            import_labels(project, Path(args.import_file), log)
        session = _session(project, config, strategy, args, log, creating, options)
        from .engine import advance

        advance(session)
    return 0


def _check(config):
    """The strategy, once the options are checked (the simulation's checks)."""
    from ..options import validate_options
    from ..strategy_options import strategy_from_config

    validate_options(config)
    if config.al.acquisition_calibration != "none":
        raise UsageError("--acquisition_calibration platt fits its map on a labeled validation split, which annotate "
                         "mode does not have; drop the option")
    return strategy_from_config(config.al)


def _session(project: Project, config, strategy, args, log, creating: bool, options: list[str]):
    from datasets import Dataset

    from ..modeling import load_model_config, load_tokenizer
    from .engine import Session

    tokenizer = load_tokenizer(config.model)
    if creating:
        _create(project, args, config, log)
    model_config = load_model_config(config.model, project.data["label_names"])
    project.commit(options=options)  # the project is created here (corpus written first)
    ids, texts = project.read_corpus()
    tokenized = Dataset.from_dict({"text": texts}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=config.data.max_length),
        batched=True, remove_columns=["text"], desc="tokenising",
    )
    return Session(project=project, config=config, strategy=strategy, ids=ids, texts=texts, tokenized=tokenized,
                   tokenizer=tokenizer, model_config=model_config, trained_model=args.trained_model, log=log)
