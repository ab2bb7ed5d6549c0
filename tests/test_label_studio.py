"""Label Studio round trip: our tasks and config into a REAL Label Studio server, annotations submitted
through its HTTP API as an annotator would, its JSON export imported back into the project.

The server comes from a separate virtual environment (label-studio pins many packages): ``make ls-venv``
creates it; the test finds it through MLAL_LABEL_STUDIO_VENV (default: .ls-venv) and
skips, saying so, only where no label-studio executable is installed. The server runs on 127.0.0.1 on a
free port with its default SQLite store in a temporary folder, and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT
from mlal.annotate.importer import validate_import
from mlal.annotate.label_studio import batch_tasks, labeling_config, read_export
from mlal.errors import UsageError
from run_active_learning import main
from test_annotate import _annotate_argv, _batch_ids, _write_corpus, synthetic  # noqa: F401 (a fixture)

TOKEN = "mlal-test-token-0123456789"
STARTUP_SECONDS = 420  # first start runs the database migrations (about 2 minutes on 2 busy CPU cores)


def test_tasks_and_export_parsing_without_a_server():
    rows = [{"id": "a", "text": "x", "rank": 1, "score": 0.9, "suggested_labels": ["joy"]},
            {"id": "b", "text": "y", "rank": 2, "score": 0.5, "suggested_labels": []}]
    tasks = batch_tasks(rows, "mlal-round-1")
    assert tasks[0]["predictions"][0]["score"] == 0.9
    assert tasks[0]["predictions"][0]["result"][0]["value"]["choices"] == ["joy"]
    assert 'choice="multiple"' in labeling_config(["joy", 'a "quoted" & <odd> label'])
    assert "&quot;" in labeling_config(['a "quoted" label']) or "'a \"quoted\" label'" in labeling_config(['a "quoted" label'])
    export = [
        {"data": {"example_id": "a"}, "annotations": [
            {"id": 1, "updated_at": "2026-01-01T00:00:00Z", "was_cancelled": False,
             "result": [{"from_name": "labels", "type": "choices", "value": {"choices": ["joy"]}}]},
            {"id": 2, "updated_at": "2026-01-02T00:00:00Z", "was_cancelled": False,
             "result": [{"from_name": "labels", "type": "choices", "value": {"choices": ["anger", "joy"]}}]}]},
        {"data": {"example_id": "b"}, "annotations": [{"id": 3, "was_cancelled": True, "result": []}]},
        {"data": {"example_id": "c"}, "annotations": [{"id": 4, "was_cancelled": False, "result": []}]},
    ]
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mlal-ls-export-{os.getpid()}.json"
    path.write_text(json.dumps(export))
    try:
        rows = dict(row for _, row in read_export(path) for row in [(row["id"], row["labels"])])
    finally:
        path.unlink()
    assert rows == {"a": ["anger", "joy"], "b": None, "c": []}  # latest annotation; skipped = unlabeled; none


def _choices(names, origin):
    return [{"from_name": "labels", "to_name": "text", "type": "choices", "origin": origin, "value": {"choices": names}}]


def test_export_shapes_seen_in_the_label_studio_web_ui(tmp_path):
    """What Label Studio 1.23.2's web UI wrote when a person labeled a round with pre-annotations: Skip stores a
    cancelled annotation that still carries the pre-ticked choices; Submit on unchanged suggestions stores them
    with origin "prediction"; unticking all of them and submitting stores an empty result."""
    export = [
        {"data": {"example_id": "skipped"}, "annotations": [
            {"id": 1, "was_cancelled": True, "result": _choices(["anger", "joy"], "prediction")}]},
        {"data": {"example_id": "accepted"}, "annotations": [
            {"id": 2, "was_cancelled": False, "result": _choices(["anger", "joy"], "prediction")}]},
        {"data": {"example_id": "changed"}, "annotations": [
            {"id": 3, "was_cancelled": False, "result": _choices(["joy"], "prediction-changed")}]},
        {"data": {"example_id": "none"}, "annotations": [{"id": 4, "was_cancelled": False, "result": []}]},
        {"data": {"example_id": "untouched"}, "annotations": [], "drafts": [{"result": _choices(["joy"], "manual")}]},
    ]
    path = tmp_path / "project-3-at-2026-11-29-11-11-4185d23d.json"
    path.write_text(json.dumps(export))
    batch = [task["data"]["example_id"] for task in export]
    labeled = validate_import(path, batch, ["anger", "joy"], "round_1's batch")
    assert labeled == {"accepted": ["anger", "joy"], "changed": ["joy"], "none": []}  # skipped, drafts: still pool


def test_an_export_of_a_project_reused_across_rounds_is_refused_naming_the_fix(tmp_path):
    export = [{"data": {"example_id": "new"}, "annotations": [{"id": 1, "result": _choices(["joy"], "manual")}]},
              {"data": {"example_id": "from_round_0"}, "annotations": [{"id": 2, "result": _choices(["joy"], "manual")}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    with pytest.raises(UsageError, match="task 2: id 'from_round_0' is not in round_1.*one Label Studio project per round"):
        validate_import(path, ["new"], ["joy"], "round_1's batch")


def _label_studio_executable() -> Path:
    candidates = [os.environ.get("MLAL_LABEL_STUDIO_VENV"), str(ROOT / ".ls-venv")]
    for venv in filter(None, candidates):
        executable = Path(venv) / "bin" / "label-studio"
        if executable.is_file():
            return executable
    pytest.skip("label-studio is not installed: run `make ls-venv` (a separate virtual environment) or point "
                "MLAL_LABEL_STUDIO_VENV at a venv that has it")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudio:
    """A Label Studio server in a subprocess and a tiny client of its HTTP API (legacy token auth)."""

    def __init__(self, executable: Path, data_dir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LABEL_STUDIO_USERNAME": "annotator@example.com", "LABEL_STUDIO_PASSWORD": "not-secret-1",
               "LABEL_STUDIO_USER_TOKEN": TOKEN, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
               "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true"}
        self.log = open(data_dir / "server.log", "wb")
        self.process = subprocess.Popen(
            [str(executable), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(data_dir)], env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.data_dir = data_dir

    def wait_until_up(self) -> float:
        start = time.monotonic()
        while time.monotonic() - start < STARTUP_SECONDS:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=5) as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(2)
        tail = (self.data_dir / "server.log").read_bytes()[-1500:].decode(errors="replace")
        raise AssertionError(f"Label Studio did not come up in {STARTUP_SECONDS}s:\n{tail}")

    def call(self, method: str, path: str, body=None):
        request = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"null")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the server and the workers it started
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def test_round_trip_through_a_real_label_studio_server(synthetic, tiny_bert_dir, tmp_path):
    executable = _label_studio_executable()
    corpus, labels = _write_corpus(tmp_path, synthetic["texts"][:60])
    project = tmp_path / "proj"
    assert main(["annotate", "--unlabeled", str(corpus), "--label_names", str(labels),
                 *_annotate_argv(tiny_bert_dir, project, initial_size=6)]) == 0
    truth = synthetic["truth"]
    (tmp_path / "ls-data").mkdir()
    server = LabelStudio(executable, tmp_path / "ls-data")
    try:
        seconds = server.wait_until_up()
        print(f"Label Studio up after {seconds:.0f}s")
        created = server.call("POST", "/api/projects", {
            "title": "mlal round 0", "label_config": (project / "round_0" / "label_studio_config.xml").read_text()})
        tasks = json.loads((project / "round_0" / "label_studio_tasks.json").read_text())
        assert server.call("POST", f"/api/projects/{created['id']}/import", tasks)["task_count"] == len(tasks)
        listed = server.call("GET", f"/api/tasks?project={created['id']}&page_size=1000")["tasks"]
        expected = {}
        for position, task in enumerate(sorted(listed, key=lambda t: t["data"]["rank"])):
            example_id = task["data"]["example_id"]
            if position == 0:  # the annotator skips one task: it stays unlabeled
                server.call("POST", f"/api/tasks/{task['id']}/annotations", {"result": [], "was_cancelled": True})
                continue
            choices = truth[example_id]
            result = [{"from_name": "labels", "to_name": "text", "type": "choices", "value": {"choices": choices}}]
            server.call("POST", f"/api/tasks/{task['id']}/annotations",
                        {"result": result if choices else [], "was_cancelled": False})
            expected[example_id] = sorted(choices)
        export = server.call("GET", f"/api/projects/{created['id']}/export?exportType=JSON&download_all_tasks=true")
    finally:
        server.stop()
    export_path = tmp_path / "label_studio_export.json"
    export_path.write_text(json.dumps(export))
    assert main(["annotate", "--project_dir", str(project), "--import", str(export_path)]) == 0
    state = json.loads((project / "project.json").read_text())
    batch = state["batches"]["0"]
    imported = {batch["ids"][batch["rows"].index(int(row))]: names for row, names in state["labels"].items()}
    assert imported == expected and len(expected) == len(_batch_ids(project, 0)) - 1
