"""The command line: run a multi-label active-learning experiment (``mlal``, ``python -m mlal``).

    mlal --config demo                      # a shipped config by name (demo, fast, fast_tuned, paper)
    mlal --config configs/fast.yaml --dataset ../shared/data/goemotions --strategy entropy --seed 1
    mlal --list-strategies                  # with what each costs (MC passes, embeddings, ...)
    mlal --config demo --strategy my_module:MyStrategy   # your own strategy
    mlal --config demo --strategy random,entropy --seed 1,2,3   # a sweep
    mlal annotate --unlabeled corpus.jsonl --label_names labels.txt --project_dir proj/
        # annotate mode: people label the batches (see `annotate --help` and the README)

``mlal`` is the installed console command; ``python -m mlal`` (also ``accelerate launch -m mlal`` and
``torchrun -m mlal``) and, in a clone, ``python run_active_learning.py`` run the same :func:`main`.
Every option can come from the YAML file given with --config and be overridden on the command
line; `--help` lists them all (Trainer's TrainingArguments included).
"""

from __future__ import annotations

import errno
import logging
import os
import sys

from mlal.errors import EXIT_USAGE, UsageError

WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def push_final_model(config, statistics: dict, sweep: bool = False) -> None:
    """Upload the run's final model, model card and thresholds (see mlal/hub.py); a sweep run to its own repo."""
    from mlal.hub import push_run

    push_run(config, statistics, sweep=sweep)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    logging.getLogger("mlal").setLevel(logging.INFO)  # e.g. "no validation split: carved 126 examples"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        if argv[:1] == ["annotate"]:  # annotate mode (mlal/annotate): a corpus without labels, people who label
            from mlal.annotate.cli import run_annotate

            return run_annotate(argv[1:])
        from mlal.config import parse_configs

        configs = parse_configs(argv)  # one per run of a sweep, all checked before any run starts
        if configs[0].al.list_strategies:
            from mlal.strategy_options import describe_strategies

            print(describe_strategies())
            return 0
        from mlal.strategy_options import strategy_from_config

        for config in configs:  # every strategy of a sweep (plug-ins included) resolves before any run starts
            strategy_from_config(config.al)
        from mlal.distributed import is_main_process
        from mlal.loop import run_experiment

        for index, config in enumerate(configs):
            if len(configs) > 1:
                print(f"== sweep run {index + 1}/{len(configs)}: strategy {config.al.strategy}, seed {config.training.seed}")
            statistics = run_experiment(config)
            if config.training.push_to_hub and is_main_process():  # one upload, not one per process
                push_final_model(config, statistics, sweep=len(configs) > 1)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a write outside a run's own handling (mlal.loop maps those): one line, exit 2
        if exc.errno not in WRITE_ERRORS:
            raise
        print(f"error: {exc.strerror} ({exc.filename or 'writing'}); free some space or fix the folder's "
              "permissions, then rerun the same command (finished runs are kept)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130
    return 0
