"""Every data file that cannot be read ends in ONE UsageError line naming the file (and line where known)
and what to fix; the CLI turns it into exit 2 before anything is written."""

import gzip
import json

import pandas as pd
import pytest

from mlal.config import DataArguments
from mlal.data import load_multilabel_data
from mlal.errors import UsageError

GOOD = "".join(json.dumps({"text": f"doc {i}", "labels": ["a", "b"][: 1 + i % 2]}) + "\n" for i in range(30))


def _bad_jsonl_line(tmp_path):
    lines = GOOD.splitlines(keepends=True)
    lines[6] = '{"text": "broken", "labels": ["a"]\n'
    (tmp_path / "train.jsonl").write_text("".join(lines))
    return "train.jsonl, line 7: not valid JSON"


def _jsonl_not_object(tmp_path):
    (tmp_path / "train.jsonl").write_text(GOOD + '["doc", ["a"]]\n')
    return "train.jsonl, line 31: expected a JSON object"


def _json_array_broken(tmp_path):
    (tmp_path / "train.json").write_text('[{"text": "a", "labels": ["x"]},\n {"text": "b" "labels": []}]')
    return "train.json, line 2: not valid JSON"


def _empty_file(tmp_path):
    (tmp_path / "train.jsonl").write_text("")
    return "train.jsonl: the file is empty"


def _blank_file(tmp_path):
    (tmp_path / "train.csv").write_text("\n\n  \n")
    return "train.csv: the file is empty"


def _csv_header_only(tmp_path):
    (tmp_path / "train.csv").write_text("text,labels\n")
    return "train.csv: no examples"


def _not_utf8(tmp_path):
    (tmp_path / "train.jsonl").write_bytes(GOOD.encode() + '{"text": "caf\xe9", "labels": ["a"]}\n'.encode("latin-1"))
    return r"train.jsonl, line 31: byte 0xe9 is not valid utf-8; .*--encoding"


def _not_utf8_in_label_list(tmp_path):
    (tmp_path / "train.jsonl").write_text(GOOD)
    (tmp_path / "labels.txt").write_bytes("a\nb\ncaf\xe9\n".encode("latin-1"))
    return r"labels.txt, line 3: byte 0xe9 is not valid utf-8"


def _csv_broken_quote(tmp_path):
    (tmp_path / "train.csv").write_text('text,labels\n"doc 1,a\ndoc 2,b\n')
    return "train.csv, line 2: malformed CSV"


def _csv_stray_quote(tmp_path):
    (tmp_path / "train.csv").write_text('text,labels\n"doc" 1,a\ndoc 2,b\n')
    return "train.csv, line 2: malformed CSV"


def _csv_too_many_cells(tmp_path):
    (tmp_path / "train.csv").write_text("text,labels\ndoc 1,a\ndoc, 2,b\n")
    return "train.csv, line 3: 3 cells but the header has 2"


def _csv_repeated_header(tmp_path):
    (tmp_path / "train.csv").write_text("text,text\ndoc 1,a\n")
    return "train.csv, line 1: the header repeats a column name"


def _parquet_not_parquet(tmp_path):
    (tmp_path / "train.parquet").write_text("text,labels\ndoc,a\n")
    return "train.parquet: not a readable Parquet file"


def _gzip_not_gzip(tmp_path):
    (tmp_path / "train.jsonl.gz").write_text(GOOD)
    return "train.jsonl.gz: not a gzip file"


def _gzip_truncated(tmp_path):
    (tmp_path / "train.jsonl.gz").write_bytes(gzip.compress(GOOD.encode())[:-12])
    return "train.jsonl.gz: the gzip data is truncated or corrupt"


def _missing_label_key(tmp_path):
    (tmp_path / "train.jsonl").write_text(GOOD + '{"text": "no labels key"}\n')
    return "train.jsonl, line 31: the label cell is missing; .*write \\[\\]"


def _null_label(tmp_path):
    (tmp_path / "train.jsonl").write_text(GOOD + '{"text": "x", "labels": null}\n')
    return "train.jsonl, line 31: the label cell is missing"


def _empty_csv_label_cell(tmp_path):
    (tmp_path / "train.csv").write_text("text,labels\ndoc 1,a\ndoc 2,\ndoc 3,b\n")
    return "train.csv, line 3: the label cell is empty"


def _empty_parquet_label(tmp_path):
    pd.DataFrame({"text": ["a", "b", "c"], "labels": [["x"], None, ["y"]]}).to_parquet(tmp_path / "train.parquet")
    return "train.parquet, row 2: the label cell is missing"


def _empty_text(tmp_path):
    (tmp_path / "train.csv").write_text('text,labels\ndoc 1,a\n"  ",b\n')
    return "train.csv, line 3: empty text"


def _text_not_string(tmp_path):
    (tmp_path / "train.jsonl").write_text(GOOD + '{"text": ["a", "b"], "labels": ["a"]}\n')
    return "train.jsonl, line 31: the text is a list"


def _broken_list_literal(tmp_path):
    (tmp_path / "train.csv").write_text('text,labels\ndoc 1,"[a, b]"\n')
    return r"train.csv, line 2: label cell '\[a, b\]' looks like a list"


def _goemotions_short_line(tmp_path):
    (tmp_path / "emotions.txt").write_text("joy\nanger\n")
    (tmp_path / "train.tsv").write_text("hi\t0\tid1\nno tab here\n")
    return "train.tsv, line 2: expected 'text<TAB>label ids<TAB>comment id'"


def _goemotions_not_utf8(tmp_path):
    (tmp_path / "emotions.txt").write_text("joy\nanger\n")
    (tmp_path / "train.tsv").write_bytes(b"hi\t0\tid1\nol\xe9\t1\tid2\n")
    return "train.tsv, line 2: byte 0xe9 is not valid utf-8"


def _repeated_label_name(tmp_path):
    (tmp_path / "train.jsonl").write_text(GOOD)
    (tmp_path / "labels.txt").write_text("a\nb\na\n")
    return "labels.txt repeats the label 'a'"


def _unsupported_single_file(tmp_path):
    (tmp_path / "data.txt").write_text("hello\n")
    return "data.txt: unsupported file type"


def _unreadable_file(tmp_path):
    (tmp_path / "train.jsonl").mkdir()  # a folder where a file is expected: the read fails with an OSError
    return "train.jsonl: cannot read the file"


CASES = [_bad_jsonl_line, _jsonl_not_object, _json_array_broken, _empty_file, _blank_file, _csv_header_only,
         _not_utf8, _not_utf8_in_label_list, _csv_broken_quote, _csv_stray_quote, _csv_too_many_cells,
         _csv_repeated_header, _parquet_not_parquet, _gzip_not_gzip, _gzip_truncated, _missing_label_key,
         _null_label, _empty_csv_label_cell, _empty_parquet_label, _empty_text, _text_not_string,
         _broken_list_literal, _goemotions_short_line, _goemotions_not_utf8, _repeated_label_name,
         _unsupported_single_file, _unreadable_file]


@pytest.mark.parametrize("make", CASES, ids=[case.__name__.strip("_") for case in CASES])
def test_unreadable_data_gives_one_line_naming_file_and_fix(tmp_path, make):
    expected = make(tmp_path)
    target = tmp_path / "data.txt" if make is _unsupported_single_file else tmp_path
    with pytest.raises(UsageError, match=expected) as info:
        load_multilabel_data(DataArguments(dataset=str(target)), seed=0)
    message = str(info.value)
    assert "\n" not in message and str(tmp_path) in message


def test_encoding_option_reads_latin1_and_unknown_encoding_is_refused(tmp_path):
    _not_utf8(tmp_path)
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path), encoding="latin-1"), seed=0)
    texts = [t for s in ("train", "validation", "test") for t in data.splits[s]["text"]]
    assert "café" in texts
    with pytest.raises(UsageError, match="unknown text encoding 'utf-9'; fix --encoding"):
        load_multilabel_data(DataArguments(dataset=str(tmp_path), encoding="utf-9"), seed=0)


def test_utf8_byte_order_mark_and_na_cells_are_read_as_written(tmp_path):
    (tmp_path / "train.csv").write_bytes("text,labels\nNA,a\nnull,b\n".encode("utf-8-sig") + b"doc,a\n" * 20)
    data = load_multilabel_data(DataArguments(dataset=str(tmp_path / "train.csv"), test_size=2, validation_size=2), 0)
    texts = [t for s in ("train", "validation", "test") for t in data.splits[s]["text"]]
    assert "NA" in texts and "null" in texts  # not turned into missing values


def test_cli_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    from run_active_learning import main

    _csv_broken_quote(tmp_path)
    out = tmp_path / "run"
    code = main(["--dataset", str(tmp_path), "--output_dir", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and not out.exists()
    assert err.count("\n") == 0 and err.startswith("error: ") and "train.csv, line 2" in err
