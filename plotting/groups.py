"""Grouping runs for the gallery: runs are seeds of one group only when their configs match except for the
seed and the run-location keys (output folder, logging; :data:`mlal.run_format.NON_SEMANTIC`).

* a *group* (a line with a band in the curves) = one config-minus-seed hash; its ``label`` names what
  differs between the groups of its comparison (the strategy, and e.g. ``query_size=50``);
* a *comparison* (one set of curve figures) = the groups whose configs match except for the strategy;
  its ``slug`` (a file-name suffix) names what differs between comparisons (dataset, model, ...).

Names are made unique (a short hash is appended on a clash), so no figure of one group or comparison
ever overwrites another's. Two runs of the same config and seed are refused: they are not two seeds.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlal.run_format import NON_SEMANTIC, SEED_KEYS  # names only: no model, no loop

from .runs import Run


def flat_config(run: Run, drop: frozenset[str] = frozenset(),
                defaults: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``section.key -> value`` of the run's config, without run-location keys, the seed and ``drop``; an option the
    run's config lacks (saved by a version before the option existed) is taken from ``defaults`` (section -> option
    -> the default it ran as; :func:`recorded_defaults`)."""
    config = {section: dict(values) for section, values in run.statistics.get("config", {}).items()
              if isinstance(values, dict)}
    for section, values in (defaults or {}).items():
        if section in config:
            config[section] = {**values, **config[section]}
    return {
        f"{section}.{key}": value
        for section, values in config.items()
        for key, value in values.items() if key not in NON_SEMANTIC | SEED_KEYS | drop
    }


def recorded_defaults(runs: list[Run]) -> dict[str, dict[str, Any]]:
    """The option defaults saved with the runs (``option_defaults`` of statistics.json; runs of older versions have
    none), merged, the newest run's first (by ``start_time``): what a run saved before an option existed ran as, so
    its seeds group with newer runs' seeds."""
    merged: dict[str, dict[str, Any]] = {}
    for run in sorted(runs, key=lambda r: str(r.statistics.get("start_time") or ""), reverse=True):
        for section, values in (run.statistics.get("option_defaults") or {}).items():
            for key, value in values.items():
                merged.setdefault(section, {}).setdefault(key, value)
    return merged


def config_hash(flat: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(flat, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _value(value: Any) -> str:
    return Path(value).name if isinstance(value, str) and "/" in value else str(value)


def differing_keys(configs: list[dict[str, Any]]) -> list[str]:
    keys = sorted(set().union(*configs)) if configs else []
    return [k for k in keys if len({json.dumps(c.get(k), default=str) for c in configs}) > 1]


def describe(flat: dict[str, Any], keys: list[str]) -> str:
    """``strategy, key=value, ...`` for the keys that differ (the strategy shown by its value alone)."""
    parts = []
    for key in keys:
        short = key.split(".", 1)[-1]
        parts.append(_value(flat.get(key)) if short in ("strategy", "dataset") else f"{short}={_value(flat.get(key))}")
    return ", ".join(parts)


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", text).strip("_")


@dataclass
class Comparison:
    """Groups that differ only in strategy: drawn together in one set of curve figures."""

    slug: str
    title: str
    groups: dict[str, list[Run]] = field(default_factory=dict)  # group label -> its runs (one per seed)

    @property
    def runs(self) -> list[Run]:
        return [run for runs in self.groups.values() for run in runs]


def _unique(names: list[str], hashes: list[str]) -> list[str]:
    """Append the hash to every name that is shared by different hashes."""
    owners: dict[str, set[str]] = {}
    for name, digest in zip(names, hashes):
        owners.setdefault(name, set()).add(digest)
    return [f"{name}-{digest}" if len(owners[name]) > 1 else name for name, digest in zip(names, hashes)]


def group_runs(runs: list[Run]) -> list[Comparison]:
    """Partition ``runs`` into comparisons and groups (see the module docstring); set ``run.group``."""
    strategy_key = frozenset({"strategy"})
    defaults = recorded_defaults(runs)

    def flat(run: Run, drop: frozenset[str] = frozenset()) -> dict[str, Any]:
        return flat_config(run, drop, defaults)

    by_group: dict[str, list[Run]] = {}
    for run in runs:
        by_group.setdefault(config_hash(flat(run)), []).append(run)
    for digest, members in by_group.items():
        seeds = [run.seed for run in members]
        duplicated = sorted({s for s in seeds if seeds.count(s) > 1})
        if duplicated:
            paths = ", ".join(str(r.path) for r in members if r.seed == duplicated[0])
            raise ValueError(f"runs {paths} have the same config and seed {duplicated[0]}: they are not different "
                             "seeds; pass only one of them")
    by_comparison: dict[str, list[str]] = {}
    for digest, members in by_group.items():
        by_comparison.setdefault(config_hash(flat(members[0], strategy_key)), []).append(digest)

    comparison_digests = list(by_comparison)
    comparison_configs = [flat(by_group[by_comparison[d][0]][0], strategy_key) for d in comparison_digests]
    outer = differing_keys(comparison_configs)
    dataset_key = "data.dataset"
    titles = [describe(c, [dataset_key] + [k for k in outer if k != dataset_key]) for c in comparison_configs]
    slugs = [slugify(describe(c, outer)) for c in comparison_configs] if len(comparison_digests) > 1 else [""]
    slugs = _unique(slugs, comparison_digests)

    comparisons = []
    for digest, slug, title in zip(comparison_digests, slugs, titles):
        group_digests = by_comparison[digest]
        configs = [flat(by_group[g][0]) for g in group_digests]
        inner = differing_keys(configs) or ["active_learning.strategy"]
        labels = _unique([describe(c, inner) for c in configs], group_digests)
        comparison = Comparison(slug, title)
        for label, g in sorted(zip(labels, group_digests)):
            comparison.groups[label] = sorted(by_group[g], key=lambda r: r.seed)
            for run in by_group[g]:
                run.group = label
        comparisons.append(comparison)
    return comparisons
