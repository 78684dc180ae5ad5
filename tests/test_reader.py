"""Reading logs: file kinds, format detection per line, malformed input, strict mode, parallel reads."""

from __future__ import annotations

import gzip
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from routecost import paths, workers
from routecost.errors import InputError, UsageError
from routecost.prices.pricing import NO_MODEL
from routecost.sources import parallel
from routecost.sources.reader import ReaderConfig, read_logs
from tests.conftest import audit_records, write_jsonl


def chat(index: int, prompt: int = 100, completion: int = 10) -> dict[str, object]:
    return {"id": f"chatcmpl-{index}", "object": "chat.completion", "created": 1_791_036_125 + index,
            "model": "gpt-4o-mini-2024-07-18",
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def message(index: int) -> dict[str, object]:
    return {"id": f"msg_{index}", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
            "content": [{"type": "text", "text": "ok"}], "usage": {"input_tokens": 5, "output_tokens": 7}}


def read(*paths: Path | str, **config: object) -> object:
    return read_logs([str(path) for path in paths], ReaderConfig(workers=1, **config))  # type: ignore[arg-type]


def test_a_file_may_mix_formats_and_each_line_is_detected(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [chat(1), message(2), chat(3), message(4)])
    result = read(path)
    assert result.requests["format"].to_list() == ["openai-chat", "anthropic-message", "openai-chat",
                                                   "anthropic-message"]
    assert result.requests["request_id"].to_list() == ["chatcmpl-1", "msg_2", "chatcmpl-3", "msg_4"]
    assert result.requests["line"].to_list() == [1, 2, 3, 4]


def test_byte_offsets_point_at_each_records_line(tmp_path):
    path = write_jsonl(tmp_path / "log.jsonl", [chat(1), message(2), chat(3)])
    offsets = read(path).requests["offset"].to_list()
    content = path.read_bytes()
    for offset, expected_id in zip(offsets, ["chatcmpl-1", "msg_2", "chatcmpl-3"], strict=True):
        line = content[offset:].split(b"\n", 1)[0]
        assert json.loads(line)["id"] == expected_id


def test_malformed_lines_are_counted_located_and_skipped(tmp_path):
    bad_count = dict(chat(3))
    bad_count["usage"] = {"prompt_tokens": -5, "completion_tokens": 1}
    lines = [json.dumps(chat(1)), '{"id": "truncated', json.dumps(bad_count), json.dumps({"hello": "world"}),
             "", json.dumps(chat(6))]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = read(path)
    assert result.requests["line"].to_list() == [1, 6]
    assert result.malformed == 3
    messages = [example.message() for example in result.malformed_examples]
    assert messages[0].startswith(f"{path}:2: invalid JSON")
    assert messages[1].startswith(f"{path}:3: usage.prompt_tokens: Expected `int` >= 0")
    assert messages[2].startswith(f"{path}:4: no known log format matches (keys: hello)")


def test_only_the_first_few_malformed_lines_are_kept_as_examples(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text("not json\n" * 20 + json.dumps(chat(1)) + "\n")
    result = read(path)
    assert result.malformed == 20
    assert [example.line for example in result.malformed_examples] == [1, 2, 3, 4, 5]
    assert result.requests.height == 1


def test_strict_fails_on_the_first_malformed_line_with_file_line_and_field(tmp_path):
    bad = dict(chat(2))
    bad["usage"] = {"prompt_tokens": "lots", "completion_tokens": 1}
    path = write_jsonl(tmp_path / "log.jsonl", [chat(1), bad, {"hello": 1}])
    with pytest.raises(InputError) as raised:
        read(path, strict=True)
    assert str(raised.value) == f"{path}:2: usage.prompt_tokens: Expected `int`, got `str` (openai-chat record)"


def test_a_billed_request_without_a_model_is_read_and_unpriced_with_the_reason(tmp_path):
    wrapped = {"ts": "2026-10-03T14:22:05Z", "request": {"messages": []},
               "response": {"usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 5}}}
    audit = audit_records(tmp_path, [wrapped, chat(2)])
    assert audit.report.malformed == 0 and audit.report.requests == 2
    unpriced = audit.priced.requests.filter(pl.col("cost_usd").is_null())
    assert unpriced["line"].to_list() == [1]
    assert unpriced["unpriced_reason"].to_list() == [NO_MODEL]


def test_an_unreadable_timestamp_is_malformed(tmp_path):
    wrapped = {"ts": "yesterday at noon", "request": {"model": "gpt-4o"}, "response": chat(1)}
    result = read(write_jsonl(tmp_path / "log.jsonl", [wrapped, chat(2)]))
    assert result.requests["request_id"].to_list() == ["chatcmpl-2"]
    assert [(example.line, example.field) for example in result.malformed_examples] == [(1, "ts")]
    assert "Invalid RFC3339 encoded datetime" in result.malformed_examples[0].problem


@pytest.mark.parametrize("logged", [0, -5, 253_402_214_400, "9999-12-31T00:00:00Z", "1677-09-21T00:12:44Z",
                                    "1600-01-01T00:00:00Z", "1970-01-01T00:00:00Z", 10**30])
def test_an_implausible_time_is_kept_without_a_time_and_reported(tmp_path, logged):
    """Year 9999 as epoch seconds is not read as milliseconds (1978), nor 0 as 1970."""
    wrapped = {"ts": logged, "request": {"model": "gpt-4o"}, "response": chat(1)}
    path = write_jsonl(tmp_path / "log.jsonl", [chat(2), wrapped])
    result = read(path)
    assert result.requests["request_id"].to_list() == ["chatcmpl-2", "chatcmpl-1"]
    assert result.requests["ts"].is_null().to_list() == [False, True]
    assert result.malformed == 0
    assert (result.implausible_times, result.first_implausible_time) == (1, (str(path), 2))


def test_a_time_of_zero_does_not_stretch_the_period(tmp_path):
    records = [{"ts": 0, "request": {"model": "gpt-4o"}, "response": chat(1)}, chat(2), chat(3)]
    path = write_jsonl(tmp_path / "log.jsonl", records)
    report = audit_records(tmp_path, records).report
    assert report.period.start == datetime.fromtimestamp(chat(2)["created"], UTC)
    assert report.period.end == datetime.fromtimestamp(chat(3)["created"], UTC)
    assert report.requests == 3
    assert any(note.startswith(f"1 requests have a logged time outside 2015-2099 (the first at {path}:1)")
               for note in report.assumptions)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-03T14:22:05.123Z", "2026-10-03T14:22:05.123000+00:00"),
        ("2026-10-03T16:22:05+02:00", "2026-10-03T14:22:05+00:00"),
        ("2026-10-03 14:22:05.123456", "2026-10-03T14:22:05.123456+00:00"),
        ("2026-10-03T14:22:05", "2026-10-03T14:22:05+00:00"),
        (1_791_036_125, "2026-10-03T14:02:05+00:00"),
        (1_791_036_125_500, "2026-10-03T14:02:05.500000+00:00"),
        (1_791_036_125_500_250, "2026-10-03T14:02:05.500250+00:00"),
        (1_791_036_125_500_250_000, "2026-10-03T14:02:05.500250+00:00"),
        (1_791_036_125.25, "2026-10-03T14:02:05.250000+00:00"),
    ],
)
def test_timestamps_in_the_shapes_loggers_write_are_utc(tmp_path, text, expected):
    wrapped = {"ts": text, "request": {"model": "gpt-4o"}, "response": chat(1)}
    ts = read(write_jsonl(tmp_path / "log.jsonl", [wrapped])).requests["ts"][0]
    assert ts.isoformat() == expected


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file or directory"):
        read(tmp_path / "nope.jsonl")


def test_gzip_directory_and_glob_inputs(tmp_path):
    (tmp_path / "logs" / "day2").mkdir(parents=True)
    write_jsonl(tmp_path / "logs" / "a.jsonl", [chat(1)])
    with gzip.open(tmp_path / "logs" / "day2" / "b.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(chat(2)) + "\n" + json.dumps(message(3)) + "\n")
    (tmp_path / "logs" / "notes.txt").write_text("not a log")
    by_directory = read(tmp_path / "logs")
    assert sorted(by_directory.requests["request_id"].to_list()) == ["chatcmpl-1", "chatcmpl-2", "msg_3"]
    by_glob = read(str(tmp_path / "logs" / "**" / "*.gz"))
    assert by_glob.requests["request_id"].to_list() == ["chatcmpl-2", "msg_3"]


def test_a_json_document_with_a_data_array_is_read_item_by_item(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"data": [chat(1), chat(2)]}, indent=2))
    result = read(path)
    assert result.requests["request_id"].to_list() == ["chatcmpl-1", "chatcmpl-2"]
    assert result.requests["line"].to_list() == [1, 2]


def test_forced_format_reports_records_that_do_not_fit_it(tmp_path):
    path = write_jsonl(tmp_path / "log.jsonl", [chat(1), message(2)])
    result = read(path, forced_format="openai-chat")
    assert result.requests["request_id"].to_list() == ["chatcmpl-1"]
    assert result.malformed == 1
    with pytest.raises(UsageError, match="unknown format 'nope'"):
        read(path, forced_format="nope")


@pytest.mark.parametrize("range_bytes", [None, 40_000], ids=["a range per reader", "many ranges, folded in order"])
def test_parallel_read_matches_the_sequential_read(tmp_path, monkeypatch, range_bytes):
    bad = {"not": "a log"}  # and two formats, so the ranges' parts leave different columns empty
    records = [bad if index % 97 == 0 else chat(index) if index <= 2000 else message(index) for index in range(1, 3001)]
    path = write_jsonl(tmp_path / "big.jsonl", records)
    sequential = read_logs([str(path)], ReaderConfig(workers=1))
    assert sequential.requests["ts"].null_count() == 1000 - 10
    monkeypatch.setattr(paths, "PARALLEL_MIN_BYTES", 1)
    if range_bytes is not None:
        monkeypatch.setattr(parallel, "RANGE_BYTES", range_bytes)
        assert parallel.range_count(path.stat().st_size, 3) > 10
    in_parallel = read_logs([str(path)], ReaderConfig(workers=3))
    assert in_parallel.requests.equals(sequential.requests)
    assert in_parallel.malformed == sequential.malformed == 30
    assert in_parallel.malformed_examples == sequential.malformed_examples
    assert not list(tmp_path.glob("routecost-*"))


@pytest.mark.parametrize("range_bytes", [None, 30_000], ids=["a range per reader", "many ranges"])
def test_parallel_strict_failure_names_the_right_line(tmp_path, monkeypatch, range_bytes):
    records = [chat(index) for index in range(1, 2001)]
    records[1499] = {"not": "a log"}
    path = write_jsonl(tmp_path / "big.jsonl", records)
    monkeypatch.setattr(paths, "PARALLEL_MIN_BYTES", 1)
    if range_bytes is not None:
        monkeypatch.setattr(parallel, "RANGE_BYTES", range_bytes)
    with pytest.raises(InputError) as raised:
        read_logs([str(path)], ReaderConfig(workers=2, strict=True))
    assert raised.value.line == 1500


def test_line_aligned_ranges_cover_the_file_exactly(tmp_path):
    path = write_jsonl(tmp_path / "log.jsonl", [chat(index) for index in range(50)])
    ranges = parallel.line_aligned_ranges(str(path), 4)
    content = path.read_bytes()
    assert ranges[0][0] == 0 and ranges[-1][1] == len(content)
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(ranges))
    assert all(content[start - 1:start] == b"\n" for start, _ in ranges[1:])


def test_frame_has_the_canonical_schema(tmp_path):
    from routecost.records import CANONICAL_SCHEMA

    frame = read(write_jsonl(tmp_path / "log.jsonl", [chat(1)])).requests
    assert dict(frame.schema) == CANONICAL_SCHEMA
    assert frame["tokens_estimated"].to_list() == [False]
    assert isinstance(frame, pl.DataFrame)


# ---------------------------------------------------------------------------------------------
# Prompt fingerprints (read when a policy simulates caches)
# ---------------------------------------------------------------------------------------------

def wrapped(messages: list[dict[str, str]], **request: object) -> dict[str, object]:
    """An in-house wrapper record around a chat completion with these request messages."""
    return {"ts": "2026-10-01T00:00:00Z", "request": {"model": "gpt-4o-mini", "messages": messages, **request},
            "response": chat(1)}


def fingerprints(tmp_path: Path, records: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each record's fingerprint columns; the log is written the way Python's json module writes it
    (``{"role": "system", ...}``, with spaces)."""
    path = write_jsonl(tmp_path / "log.jsonl", records)
    frame = read(path, fingerprint_prompts=True).requests  # type: ignore[attr-defined]
    return frame.select("system_key", "system_bytes", "history_key", "history_bytes", "prompt_key",
                        "prompt_bytes").to_dicts()


def as_logged(value: object) -> int:
    """Bytes of a value's JSON as ``write_jsonl`` writes it."""
    return len(json.dumps(value).encode())


SYSTEM = {"role": "system", "content": "You are a careful assistant."}
ASK = {"role": "user", "content": "Summarize this ticket."}
ANSWER = {"role": "assistant", "content": "The customer was billed twice."}
FOLLOW_UP = {"role": "user", "content": "Draft a reply."}


def test_fingerprint_sizes_are_the_logged_bytes_up_to_each_boundary(tmp_path):
    [single, conversation] = fingerprints(tmp_path, [wrapped([SYSTEM, ASK]),
                                                     wrapped([SYSTEM, ASK, ANSWER, FOLLOW_UP])])
    assert single["system_bytes"] == single["history_bytes"] == as_logged(SYSTEM)
    assert single["prompt_bytes"] == as_logged(SYSTEM) + as_logged(ASK)
    assert conversation["system_bytes"] == as_logged(SYSTEM)
    assert conversation["history_bytes"] == as_logged(SYSTEM) + as_logged(ASK) + as_logged(ANSWER)
    assert conversation["prompt_bytes"] == conversation["history_bytes"] + as_logged(FOLLOW_UP)


def test_fingerprint_keys_match_exactly_where_the_prefixes_match(tmp_path):
    first, same, other_question, other_system, follow_up, follow_up_again = fingerprints(tmp_path, [
        wrapped([SYSTEM, ASK]),
        wrapped([SYSTEM, ASK]),
        wrapped([SYSTEM, FOLLOW_UP]),
        wrapped([{"role": "system", "content": "Be brief."}, ASK]),
        wrapped([SYSTEM, ASK, ANSWER, FOLLOW_UP]),
        wrapped([SYSTEM, ASK, ANSWER, {"role": "user", "content": "Translate it."}]),
    ])
    assert first == same
    assert other_question["system_key"] == first["system_key"]
    assert other_question["prompt_key"] != first["prompt_key"]
    assert other_system["system_key"] != first["system_key"]
    assert other_system["prompt_key"] != first["prompt_key"]
    assert follow_up["system_key"] == first["system_key"]
    assert follow_up_again["history_key"] == follow_up["history_key"]
    assert follow_up_again["prompt_key"] != follow_up["prompt_key"]


def test_sampling_parameters_change_only_the_whole_prompts_key(tmp_path):
    plain, capped = fingerprints(tmp_path, [wrapped([SYSTEM, ASK]), wrapped([SYSTEM, ASK], max_tokens=50)])
    assert capped["history_key"] == plain["history_key"]
    assert capped["prompt_key"] != plain["prompt_key"]


def test_system_prompt_outside_the_messages_belongs_to_the_system_segment(tmp_path):
    """Anthropic's ``system`` field and OpenAI tools sit before the messages; a first message that is not
    a system message starts the conversation."""
    anthropic_style, tools, no_system = fingerprints(tmp_path, [
        wrapped([ASK], system="You are a careful assistant."),
        wrapped([SYSTEM, ASK], tools=[{"type": "function", "function": {"name": "lookup"}}]),
        wrapped([ASK, ANSWER, FOLLOW_UP]),
    ])
    assert anthropic_style["system_bytes"] == as_logged("You are a careful assistant.")
    assert anthropic_style["prompt_bytes"] == anthropic_style["system_bytes"] + as_logged(ASK)
    tool_bytes = as_logged([{"type": "function", "function": {"name": "lookup"}}])
    assert tools["system_bytes"] == tool_bytes + as_logged(SYSTEM)
    assert no_system["system_bytes"] == 0
    assert no_system["history_bytes"] == as_logged(ASK) + as_logged(ANSWER)


def test_requests_without_messages_have_no_fingerprint(tmp_path):
    [row] = fingerprints(tmp_path, [{"ts": "2026-10-01T00:00:00Z", "request": {"model": "gpt-4o-mini"},
                                     "response": chat(1)}])
    assert set(row.values()) == {None}


@pytest.mark.parametrize(("name", "split"), [("log.jsonl", True), ("log.json", False), ("capture.har", False),
                                              ("log.jsonl.gz", False)])
def test_only_json_lines_files_are_split_between_readers(tmp_path, monkeypatch, name, split):
    """A whole-file document (a .json array, a HAR capture) cut into byte ranges would not parse."""
    monkeypatch.setattr(paths, "PARALLEL_MIN_BYTES", 1)
    path = tmp_path / name
    path.write_text('{"log": {"entries": []}}\n' * 10, encoding="utf-8")
    assert paths.splittable(str(path)) is split


def test_reader_processes_start_early_only_for_a_file_worth_splitting(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PARALLEL_MIN_BYTES", 1)
    document = tmp_path / "log.json"
    document.write_text("[]", encoding="utf-8")
    workers.start_early([str(document), "-"], 2)
    assert workers._early is None
    log = write_jsonl(tmp_path / "big.jsonl", [chat(index) for index in range(1, 301)])
    workers.start_early([str(log)], 2)
    early = workers._early
    assert early is not None
    try:
        in_parallel = read_logs([str(log)], ReaderConfig(workers=2))
    finally:
        early.executor.shutdown()
    assert workers._early is None  # the read took them, and closed them
    assert in_parallel.requests.equals(read_logs([str(log)], ReaderConfig(workers=1)).requests)


def test_more_reader_processes_than_cpus_are_never_started(monkeypatch):
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 2)
    assert workers.worker_count(200) == 2
    assert workers.worker_count(None) == 2
    assert workers.worker_count(1) == 1
    monkeypatch.setattr(workers.os, "cpu_count", lambda: 64)
    assert workers.worker_count(200) == workers.MAX_WORKERS
