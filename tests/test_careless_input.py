"""Careless input: byte-order marks, UTF-16, huge CSV cells, empty files, pipes, CSV on stdin, a file
that changes while it is read, request ids logged twice."""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import pytest

from routecost.errors import UsageError
from routecost.sources import reader
from routecost.sources.reader import ReaderConfig, read_logs
from tests.conftest import write_jsonl
from tests.test_cli import run


def chat(index: int) -> dict[str, object]:
    return {"id": f"chatcmpl-{index}", "object": "chat.completion", "created": 1_791_036_125 + index,
            "model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 1_000, "completion_tokens": 100}}


def read(*paths: Path | str, **config: object):
    return read_logs([str(path) for path in paths], ReaderConfig(workers=1, **config))  # type: ignore[arg-type]


def write_csv(path: Path, rows: list[dict[str, object]], bom: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["ts", "request", "response"])
        writer.writeheader()
        for row in rows:
            writer.writerow({key: json.dumps(value) if isinstance(value, dict) else value for key, value in row.items()})
    return path


def wrapped(index: int, note: str = "") -> dict[str, object]:
    return {"ts": f"2026-10-0{index}T12:00:00Z", "request": {"model": "gpt-4o", "note": note}, "response": chat(index)}


def test_a_utf8_byte_order_mark_does_not_cost_the_first_record(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(chat(i)) + "\n" for i in (1, 2)).encode())
    result = read(path)
    assert (result.requests.height, result.malformed) == (2, 0)
    assert result.requests["offset"].to_list() == [3, 3 + len(json.dumps(chat(1))) + 1]


def test_a_csv_with_a_byte_order_mark_reads_every_row(tmp_path):
    result = read(write_csv(tmp_path / "log.csv", [wrapped(1), wrapped(2)], bom=True))
    assert (result.requests.height, result.malformed) == (2, 0)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_input_is_a_one_line_error_naming_the_encoding(tmp_path, encoding):
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(chat(1)) + "\n", encoding=encoding)
    with pytest.raises(UsageError, match="UTF-16"):
        read(path)
    result = run("audit", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "convert it first" in result.stderr


def test_a_csv_cell_over_the_limit_is_one_malformed_row_on_its_own_line(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "CSV_CELL_LIMIT", 4_096)
    rows = [wrapped(1), wrapped(2, note="x" * 10_000), wrapped(3)]
    result = read(write_csv(tmp_path / "log.csv", rows))
    assert result.requests["request_id"].to_list() == ["chatcmpl-1", "chatcmpl-3"]
    assert [(example.line, example.field) for example in result.malformed_examples] == [(3, None)]
    assert "field larger than field limit" in result.malformed_examples[0].problem


def test_a_csv_cell_of_a_few_hundred_kilobytes_is_read(tmp_path):
    result = read(write_csv(tmp_path / "log.csv", [wrapped(1, note="x" * 300_000), wrapped(2)]))
    assert (result.requests.height, result.malformed) == (2, 0)


def test_an_empty_file_is_noted_not_malformed(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    result = read(empty, write_jsonl(tmp_path / "log.jsonl", [chat(1)]), strict=True)
    assert (result.requests.height, result.malformed) == (1, 0)
    assert f"{empty}: empty: no log records" in result.notes


def test_a_named_pipe_is_read(tmp_path):
    pipe = tmp_path / "live.jsonl"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text(json.dumps(chat(1)) + "\n", encoding="utf-8"))
    writer.start()
    result = read(pipe)
    writer.join()
    assert result.requests["request_id"].to_list() == ["chatcmpl-1"]


def test_csv_on_standard_input_is_read_as_csv(tmp_path):
    text = write_csv(tmp_path / "log.csv", [wrapped(1), wrapped(2)]).read_text(encoding="utf-8")
    result = run("audit", "-", "--format", "json", stdin=text)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["requests"], report["malformed"]) == (2, 0)


def test_a_file_that_grows_while_it_is_read_is_noted(tmp_path):
    path = write_jsonl(tmp_path / "log.jsonl", [chat(index) for index in range(1, 2_001)])

    appended: list[int] = []

    def append(_consumed: int) -> None:  # called after each block read: the file grows once, mid-read
        if not appended:
            appended.append(1)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(chat(9_999)) + "\n")

    result = read_logs([str(path)], ReaderConfig(workers=1), on_progress=append)
    assert any(note.startswith(f"{path}: changed while it was read") for note in result.notes)


def test_request_ids_logged_twice_are_counted_and_noted(tmp_path):
    path = write_jsonl(tmp_path / "log.jsonl", [chat(1), chat(2), chat(1)])
    result = read(path)
    assert result.requests.height == 3
    assert (f"1 request ids appear more than once (2 requests; e.g. chatcmpl-1 at {path}:1 and {path}:3): each is "
            "counted every time it appears; if a gateway logged them twice, their cost is counted twice") in result.notes
