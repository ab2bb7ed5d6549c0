"""Annotate mode: active learning on a corpus without labels, with people who label it.

One project folder holds everything (see :mod:`mlal.annotate.project`). Each round trains on what is
labeled (or, with nothing labeled, picks a label-free cold-start batch), scores the pool, and writes
``round_<k>/to_label.csv`` / ``.jsonl`` / Label Studio tasks; importing the returned labels merges them
and starts the next round. Modules (one writer per folder through :mod:`mlal.lock`): ``project`` (crash-safe state),
``corpus`` (reading the input files), ``batch_files`` (writing a batch), ``label_studio`` (tasks, config and
export), ``importer`` (validating returned labels), ``engine`` (the round), ``cli`` (the subcommand).
"""
