"""A streamed audit (read, priced and projected a segment at a time, summaries from disk) reports what
the audit that keeps every request in memory reports, whatever the segments' size.

Segments of a few rows, with the reader building a frame every few lines, put every boundary the
streaming has inside these small logs: a stream's events read in several frames, batch results read
before their request lines, a request id repeated across segments, a policy clause that matches
requests of one segment only.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import polars as pl
import polars.selectors as cs
import pytest
from polars.testing import assert_frame_equal

from routecost.audit import AuditOptions, run_audit
from routecost.output import PerRequestFile
from routecost.report.json import report_dict
from routecost.segment_audit import per_request_rows
from routecost.sources.reader import ReaderConfig
from tests.conftest import assert_same_values
from tests.test_reader import chat

ROOT = Path(__file__).parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"
CORPUS = ROOT / "tests" / "conformance" / "records"
POLICIES = [ROOT / "policies" / name for name in ("by-category.yaml", "code-cascade.yaml", "batching.yaml")]


def assert_same(whole: Any, streamed: Any) -> None:
    """Equal; floats to 1e-9 relative or a ten-millionth of a dollar (sums taken in another order differ
    in the last bits, and savings are rounded to a billionth of a dollar per segment)."""
    assert_same_values(whole, streamed, rel=1e-9, abs_tol=1e-7)


def audits(monkeypatch: pytest.MonkeyPatch, options: AuditOptions, segment_rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report kept whole, and streamed in segments of ``segment_rows`` (frames of 3 lines)."""
    whole = report_dict(run_audit(options).report)
    monkeypatch.setattr("routecost.audit.SEGMENT_ROWS", segment_rows)
    monkeypatch.setattr("routecost.sources.reader.CHUNK_ROWS", 3)
    streamed = report_dict(run_audit(options, keep_requests=False).report)
    return whole, streamed


@pytest.mark.parametrize("segment_rows", [1, 7, 10_000])
def test_the_sample_logs_streamed_under_four_policies_report_what_they_report_whole(monkeypatch, tmp_path,
                                                                                    segment_rows):
    """The three bundled policies without a cache, and a route for half the requests (picked by their
    place in the logs, which the segments keep)."""
    half = tmp_path / "half.yaml"
    half.write_text("name: half\nroutes:\n  - to: openai/gpt-4.1-nano\n    share: 0.5\n", encoding="utf-8")
    options = AuditOptions(paths=[str(SAMPLE_LOGS)], reader=ReaderConfig(workers=1),
                           policy_paths=[*(str(path) for path in POLICIES), str(half)])
    whole, streamed = audits(monkeypatch, options, segment_rows)
    assert whole["requests"] > 500 and len(whole["policies"]) == 4  # (the sample logs hold batch results)
    shares = [category["routed"].get("openai/gpt-4.1-nano", 0.0) for category in whole["policies"][3]["categories"]
              if category["priced_requests"] > 50]
    assert shares and all(30 < share < 70 for share in shares), shares
    assert_same(whole, streamed)


def test_real_records_streamed_report_what_they_report_whole(monkeypatch):
    """The conformance corpus: stream events (Anthropic, OpenAI chat and Responses), OpenTelemetry
    spans, Langfuse batches, HAR captures and more, in files read one after the other."""
    options = AuditOptions(paths=[str(CORPUS)], reader=ReaderConfig(workers=1))
    whole, streamed = audits(monkeypatch, options, 2)
    assert whole["skipped"]  # stream events were joined: what the segments must not split
    assert_same(whole, streamed)


def wrapped(index: int, category: str) -> dict[str, object]:
    """A request as an app logs it: time, metadata, request and response."""
    return {"ts": f"2026-10-01T00:{index // 60:02d}:{index % 60:02d}Z", "metadata": {"category": category},
            "request": {"model": "gpt-4o"}, "response": chat(index) | {"model": "gpt-4o-2024-08-06"}}


def test_what_spans_segments_is_counted_once(monkeypatch, tmp_path):
    """A request id logged twice, far apart; a route whose condition matches one late request only,
    and one that lists a value no request has: one note each, as for the whole log."""
    records = [wrapped(index, "rare" if index == 30 else "common") for index in range(40)] + [wrapped(3, "common")]
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "name: p\nroutes:\n"
        "  - when: {category: rare}\n    to: openai/gpt-4o-mini\n"
        "  - when: {category: [common, missing]}\n    to: openai/gpt-4.1-nano\n",
        encoding="utf-8")
    options = AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=1), policy_paths=[str(policy)])
    whole, streamed = audits(monkeypatch, options, 4)
    assert_same(whole, streamed)
    assert sum("request ids appear more than once" in note for note in streamed["assumptions"]) == 1
    assert {row["category"]: row["routed"] for row in streamed["policies"][0]["categories"]} == {
        "rare": {"openai/gpt-4o-mini": 100.0}, "common": {"openai/gpt-4.1-nano": 100.0}}
    notes = streamed["policies"][0]["assumptions"]
    assert [note for note in notes if "matched no request" in note] == [
        "routes[1] (to openai/gpt-4.1-nano): category 'missing' matched no request"]


def test_the_streamed_per_request_file_and_charts_hold_what_the_whole_audit_holds(monkeypatch, tmp_path):
    """``--per-request`` written a segment at a time, and the HTML report's cost-by-model stacks
    added up over the segments."""
    options = AuditOptions(paths=[str(SAMPLE_LOGS)], reader=ReaderConfig(workers=1),
                           policy_paths=[str(path) for path in POLICIES])
    whole = run_audit(options)
    assert whole.priced is not None
    expected = per_request_rows(whole.priced.requests, whole.report.policies).with_columns(
        cs.categorical().cast(pl.String))
    monkeypatch.setattr("routecost.audit.SEGMENT_ROWS", 7)
    monkeypatch.setattr("routecost.sources.reader.CHUNK_ROWS", 3)
    for suffix in (".parquet", ".jsonl"):
        rows = PerRequestFile(tmp_path / f"rows{suffix}")
        streamed = run_audit(options, keep_requests=False, on_rows=rows.add)
        rows.close()
        written = (pl.read_parquet(tmp_path / "rows.parquet") if suffix == ".parquet"
                   else pl.read_ndjson(tmp_path / "rows.jsonl", schema=expected.schema))
        order = ["source", "line", "request_id"]
        assert_frame_equal(written.sort(order), expected.sort(order), check_exact=False, rel_tol=1e-9)
    assert sorted(tmp_path.iterdir()) == [tmp_path / "rows.jsonl", tmp_path / "rows.parquet"]  # no part left behind
    assert streamed.priced is None
    assert_same([dataclasses.asdict(stack) for stack in whole.report.logged_stacks],
                [dataclasses.asdict(stack) for stack in streamed.report.logged_stacks])
    for before, after in zip(whole.report.policies, streamed.report.policies, strict=True):
        for stacks in ("logged_stacks", "projected_stacks"):
            assert getattr(before, stacks), stacks
            assert_same([dataclasses.asdict(stack) for stack in getattr(before, stacks)],
                        [dataclasses.asdict(stack) for stack in getattr(after, stacks)])
