"""Hardening (issue 15), the command line as a user meets it: every input a user can get wrong ends in one
``error:`` line naming the problem (file and line for data) and the fix, exit code 2, and no run folder.

Each case stops before training (while reading the data or checking the options), so the family is cheap.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import tiny_run_argv
from conftest import run_cli as _main

TEXTS = [f"example text number {i} about things" for i in range(40)]
NAMES = ["sports", "politics", "tech", "finance"]


def _jsonl(path: Path, labels: list) -> Path:
    path.write_text("".join(json.dumps({"text": t, "labels": y}) + "\n" for t, y in zip(TEXTS, labels)))
    return path


def _csv(path: Path, cells: list[str]) -> Path:
    path.write_text("text,labels\n" + "".join(f"{t},{c}\n" for t, c in zip(TEXTS, cells)))
    return path


def _names(i: int) -> list[str]:
    return [NAMES[i % 4]] + ([NAMES[(i + 1) % 4]] if i % 3 == 0 else [])


def _not_utf8_jsonl(folder: Path) -> Path:
    path = _jsonl(folder / "train.jsonl", [_names(i) for i in range(40)])
    path.write_bytes(path.read_bytes().replace(b"number 3 about", b"number 3 caf\xe9 about"))
    return path


def _not_utf8_csv(folder: Path) -> Path:
    path = _csv(folder / "train.csv", [NAMES[i % 4] for i in range(40)])
    path.write_bytes(path.read_bytes().replace(b"number 7 about", b"number 7 \xff about"))
    return path


# (name, writes the data file and returns its path, the words the one error line must hold)
BAD_DATA = [
    ("not-utf8-jsonl", _not_utf8_jsonl, r"train.jsonl, line 4: byte 0xe9 is not valid utf-8; .*--encoding"),
    ("not-utf8-csv", _not_utf8_csv, r"train.csv, line 9: byte 0xff is not valid utf-8; .*--encoding"),
    ("csv-empty-label-cell", lambda f: _csv(f / "train.csv", ["" if i == 4 else NAMES[i % 4] for i in range(40)]),
     r"train.csv, line 6: the label cell is empty; fill in the labels, or write \[\]"),
    ("csv-numeric-cell-among-names",
     lambda f: _csv(f / "train.csv", ["3" if i == 6 else NAMES[i % 4] for i in range(40)]),
     r"labels mix names and numbers .*train.csv, line 8: labels '3'.*--label_format names"),
    ("multi-hot-vectors", lambda f: _jsonl(f / "train.jsonl", [[i % 2, 0, (i // 2) % 2, 1] for i in range(40)]),
     r"labels look like multi-hot vectors of length 4 but the label count is unknown .*--label_format multi_hot"),
    ("ids-mixed-with-names",
     lambda f: _jsonl(f / "train.jsonl", [[2] if i == 5 else _names(i) for i in range(40)]),
     r"labels mix names and numbers .*line 6: labels \[2\].*--label_format names"),
    ("numeric-codes-100-to-1000",
     lambda f: _jsonl(f / "train.jsonl", [[str(100 + 225 * (i % 5))] for i in range(40)]),
     r"numeric labels as ids would make 1001 labels \(0..1000\) of which 996 never occur .*--label_format names"),
]


@pytest.mark.parametrize("name, write, expected", BAD_DATA, ids=[case[0] for case in BAD_DATA])
def test_bad_data_file_gives_one_line_exit_2_and_no_run_folder(tiny_bert_dir, tmp_path, capsys, name, write,
                                                                expected):
    data = tmp_path / "data"
    data.mkdir()
    path = write(data)
    before = path.read_bytes()
    out = tmp_path / "out"
    code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, out, dataset=str(path), rounds=1))
    assert code == 2 and len(errors) == 1, errors
    assert re.search(expected, errors[0]), errors[0]
    assert not out.exists() and path.read_bytes() == before


@pytest.mark.parametrize("name, flag", [("multi-hot-vectors", ["--label_format", "multi_hot"]),
                                        ("numeric-codes-100-to-1000", ["--label_format", "names"]),
                                        ("not-utf8-jsonl", ["--encoding", "latin-1"])])
def test_the_flag_named_in_the_line_resolves_it(tiny_bert_dir, tmp_path, capsys, caplog, name, flag):
    write = dict((case[0], case[1]) for case in BAD_DATA)[name]
    data = tmp_path / "data"
    data.mkdir()
    path = write(data)
    out = tmp_path / "out"
    argv = tiny_run_argv(tiny_bert_dir, out, dataset=str(path), rounds=1, learning_rate=-1) + flag
    code, errors = _main(capsys, argv)  # the data loads; the run stops at the next check (learning rate)
    assert code == 2 and len(errors) == 1 and "--learning_rate must be >= 0" in errors[0], errors
    labels = {"multi-hot-vectors": "4 labels; most frequent: 3 (40), 0 (20), 2 (20), 1 (0)",
              "numeric-codes-100-to-1000": "5 labels; most frequent: 100 (8), 325 (8), 550 (8), 775 (8), 1000 (8)",
              "not-utf8-jsonl": "4 labels; most frequent: "}[name]
    assert labels in caplog.text  # the label count and the five most frequent labels, logged at load
    assert not out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--test_size", "1.0"], "--test_size 1 is neither a fraction between 0 and 1"),
    (["--validation_size", "1"], "--validation_size 1 is neither a fraction between 0 and 1"),
    (["--test_size", "0.6", "--validation_size", "0.6"], "cannot carve"),
    (["--test_size", "300"], "cannot carve"),
    (["--encoding", "utf-9", "--dataset", "DATA"], "unknown text encoding 'utf-9'; fix --encoding"),
    (["--pool_subsample", "9", "--query_size", "10"], "--pool_subsample 9 is smaller than --query_size 10"),
])
def test_split_and_pool_sizes_that_cannot_work_are_refused(tiny_bert_dir, tmp_path, capsys, extra, message):
    data = _jsonl(tmp_path / "train.jsonl", [_names(i) for i in range(40)])
    extra = [str(data) if value == "DATA" else value for value in extra]
    out = tmp_path / "out"
    code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, out, rounds=2) + extra)  # 2: a round acquires
    assert code == 2 and len(errors) == 1 and message in errors[0], errors
    assert not out.exists()


@pytest.mark.parametrize("where, message", [
    ("a-file", "is a file; choose a folder"),
    ("a-file/run", "cannot be created"),
    ("/proc/mlal-run", "not writable"),
])
def test_output_folder_that_cannot_be_written_is_refused_before_anything(tiny_bert_dir, tmp_path, capsys, where,
                                                                         message):
    (tmp_path / "a-file").write_text("my file")
    target = where if where.startswith("/") else tmp_path / where
    code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, target, rounds=1))
    assert code == 2 and len(errors) == 1 and message in errors[0], errors
    assert (tmp_path / "a-file").read_text() == "my file"  # the file is kept as it was
    assert where == "a-file" or not Path(target).exists()


@pytest.mark.parametrize("option, value, flag", [("tokenizer", "no-such-folder", "--tokenizer"),
                                                 ("model", "no-such-folder", "--model")])
def test_a_model_or_tokenizer_path_that_does_not_exist_is_named(tiny_bert_dir, tmp_path, capsys, option, value,
                                                                flag):
    missing = tmp_path / value
    out = tmp_path / "out"
    code, errors = _main(capsys, tiny_run_argv(tiny_bert_dir, out, rounds=1, **{option: str(missing)}))
    assert code == 2 and len(errors) == 1, errors
    assert f"{flag} {missing} does not exist; fix {flag}" in errors[0]
    assert not out.exists()
