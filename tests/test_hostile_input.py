"""Hostile or careless records: each one is malformed and named, the rest of the file is read, and
nothing is priced below zero or beyond what a request can plausibly cost."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routecost.audit import AuditOptions, run_audit
from routecost.sources.base import MAX_COUNT
from routecost.sources.reader import ReaderConfig
from tests.conftest import MTOK, audit_records

# gpt-4o-2024-08-06: $2.50 per million input tokens, $1.25 cached, $10.00 output (OpenAI's price sheet)
GOOD_COST = (1_000 * 2.50 + 100 * 10.00) / MTOK


def chat(index: int, prompt: object = 1_000, completion: object = 100, cached: object = None) -> dict[str, object]:
    usage: dict[str, object] = {"prompt_tokens": prompt, "completion_tokens": completion}
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    return {"id": f"chatcmpl-{index}", "object": "chat.completion", "created": 1_790_812_800 + index,
            "model": "gpt-4o-2024-08-06", "usage": usage}


def test_a_line_nested_a_thousand_deep_is_malformed_and_the_rest_is_read(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"a":' * 1000 + "1" + "}" * 1000 + "\n" + json.dumps(chat(1)) + "\n", encoding="utf-8")
    report = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1))).report
    assert report.malformed == 1
    assert report.malformed_examples[0].line == 1
    assert "nested too deeply" in report.malformed_examples[0].problem
    assert report.requests == 1
    assert report.cost_usd == pytest.approx(GOOD_COST, rel=1e-9)


@pytest.mark.parametrize("tokens", [10**15, 2**63 - 1, 2**63 + 5, MAX_COUNT + 1])
def test_an_implausible_token_count_is_malformed_never_priced_or_summed(tmp_path, tokens):
    audit = audit_records(tmp_path, [chat(1, prompt=tokens), chat(2)])
    report = audit.report
    assert report.malformed == 1
    assert report.malformed_examples[0].field == "usage.prompt_tokens"
    assert report.requests == 1
    assert report.cost_usd == pytest.approx(GOOD_COST, rel=1e-9)


def test_the_largest_plausible_count_is_priced(tmp_path):
    report = audit_records(tmp_path, [chat(1, prompt=MAX_COUNT, completion=0)]).report
    assert report.malformed == 0
    # gpt-4o has no long-context tier: 100M input tokens at $2.50 per million
    assert report.cost_usd == pytest.approx(MAX_COUNT * 2.50 / MTOK, rel=1e-9)


counts = st.one_of(st.none(), st.integers(min_value=-(2**64), max_value=2**64), st.floats(allow_nan=True),
                   st.text(max_size=3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(counts, counts, counts), min_size=1, max_size=8))
def test_every_record_is_counted_once_and_no_cost_is_negative(usages):
    """requests + malformed + skipped = records in the input, and every price is >= 0, whatever the counts."""
    records = [chat(index, prompt, completion, cached) for index, (prompt, completion, cached) in enumerate(usages)]
    with tempfile.TemporaryDirectory() as directory:
        audit = audit_records(Path(directory), records)
    report = audit.report
    assert report.requests + report.malformed + sum(report.skipped.values()) == len(records)
    costs = audit.priced.requests["cost_usd"].drop_nulls()
    assert (costs >= 0).all()
    assert report.cost_usd >= 0


ALIAS_BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, level in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(("text", "problem"), [
    (ALIAS_BOMB, "its aliases expand 28 written values to"),
    ("name: p\nroutes: &r [*r]\n", "2:9: invalid YAML: an alias refers to itself"),
    ("name: p\nroutes: " + "[" * 5_000 + "]" * 5_000 + "\n", "nest"),  # libyaml or routecost says how deep
    ("name: p\nroutes: " + "[" * 150 + "]" * 150 + "\n", "invalid YAML: nested deeper than 100"),
])
@pytest.mark.parametrize("flag", ["policy", "prices"])
def test_a_hostile_yaml_file_is_a_one_line_error(tmp_path, text, problem, flag):
    from tests.test_cli import run

    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(chat(1)) + "\n", encoding="utf-8")
    result = run("audit", str(log), f"--{flag}", str(path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert problem in result.stderr


def test_yaml_anchors_and_aliases_of_a_sensible_size_are_read(tmp_path):
    from routecost.yamlfile import parse_yaml

    document = parse_yaml("defaults: &d {to: gpt-4o-mini}\nroutes:\n  - *d\n  - *d\n", "p.yaml")
    assert document.data == {"defaults": {"to": "gpt-4o-mini"}, "routes": [{"to": "gpt-4o-mini"}] * 2}


def test_a_gzip_bomb_line_is_malformed_read_in_pieces_and_the_rest_is_read(tmp_path, monkeypatch):
    """A line that unpacks past the record limit (a gzip bomb: megabytes of zeros, no newline) is
    skipped in pieces, never held whole."""
    import gzip

    from routecost.sources import reader

    monkeypatch.setattr(reader, "MAX_RECORD_BYTES", 1 << 16)
    monkeypatch.setattr(reader, "READ_BLOCK_BYTES", 1 << 12)
    path = tmp_path / "log.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.write(json.dumps(chat(1)).encode() + b"\n")
        out.write(b'{"a": "' + b"0" * (1 << 22) + b'"}\n')  # 4 MiB unpacked, a few KiB packed
        out.write(json.dumps(chat(2)).encode() + b"\n")
    assert path.stat().st_size < 20_000
    report = run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1))).report
    assert report.requests == 2
    assert report.cost_usd == pytest.approx(2 * GOOD_COST, rel=1e-9)
    assert [(example.line, example.problem) for example in report.malformed_examples] == [
        (2, "a line over 0 MiB: too long to be one record")]


def test_a_whole_file_document_past_the_limit_is_a_one_line_error(tmp_path, monkeypatch):
    from routecost.errors import UsageError
    from routecost.sources import reader

    monkeypatch.setattr(reader, "MAX_DOCUMENT_BYTES", 1 << 12)
    path = tmp_path / "export.json"
    path.write_text(json.dumps([chat(index) for index in range(100)]), encoding="utf-8")
    with pytest.raises(UsageError, match="too large to read whole; write its records as JSON lines"):
        run_audit(AuditOptions(paths=[str(path)], reader=ReaderConfig(workers=1)))
