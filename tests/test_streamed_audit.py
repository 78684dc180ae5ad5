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
    """``--per-request`` written a segment at a time (with a cache policy, once the caches are
    replayed), and the HTML report's cost-by-model stacks added up over the segments."""
    cached = tmp_path / "routed-cached.yaml"
    cached.write_text(CACHE_POLICIES["routed-cached.yaml"], encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    options = AuditOptions(paths=[str(SAMPLE_LOGS), str(long_prompts(tmp_path / "long.jsonl"))],
                           reader=ReaderConfig(workers=1), policy_paths=[*(str(path) for path in POLICIES), str(cached)])
    whole = run_audit(options)
    assert whole.priced is not None
    expected = per_request_rows(whole.priced.requests, whole.report.policies).with_columns(
        cs.categorical().cast(pl.String))
    monkeypatch.setattr("routecost.audit.SEGMENT_ROWS", 7)
    monkeypatch.setattr("routecost.sources.reader.CHUNK_ROWS", 3)
    for suffix in (".parquet", ".jsonl"):
        rows = PerRequestFile(out / f"rows{suffix}")
        streamed = run_audit(options, keep_requests=False, on_rows=rows.add)
        rows.close()
        written = (pl.read_parquet(out / "rows.parquet") if suffix == ".parquet"
                   else pl.read_ndjson(out / "rows.jsonl", schema=expected.schema))
        order = ["source", "line", "request_id"]
        assert_frame_equal(written.sort(order), expected.sort(order), check_exact=False, rel_tol=1e-9)
    assert sorted(out.iterdir()) == [out / "rows.jsonl", out / "rows.parquet"]  # no part left behind
    assert written["routed-cached.exact_cache_hit"].sum() > 50
    assert streamed.priced is None
    assert_same([dataclasses.asdict(stack) for stack in whole.report.logged_stacks],
                [dataclasses.asdict(stack) for stack in streamed.report.logged_stacks])
    for before, after in zip(whole.report.policies, streamed.report.policies, strict=True):
        for stacks in ("logged_stacks", "projected_stacks"):
            assert getattr(before, stacks), stacks
            assert_same([dataclasses.asdict(stack) for stack in getattr(before, stacks)],
                        [dataclasses.asdict(stack) for stack in getattr(after, stacks)])


CACHE_POLICIES = {
    "exact-and-prompt.yaml": "name: exact-and-prompt\ncategories:\n  - from: tag.category\ncache:\n"
                             "  exact:\n    ttl: 24h\n  prompt:\n    ttl: 5m\n    breakpoints: [system, history]\n",
    "routed-cached.yaml": "name: routed-cached\nroutes:\n  - when: {model: [gpt-4o]}\n    to: openai/gpt-4.1-mini\n"
                          "  - to: keep\ncache:\n  exact:\n    ttl: 1h\n    include: [sampled]\n"
                          "  prompt:\n    ttl: 1h\n    breakpoints: [system]\n",
    "trimmed-cached.yaml": "name: trimmed-cached\ntrim:\n  - system: 0.5\ncache:\n  prompt:\n    ttl: 5m\n"
                           "    breakpoints: [system, history]\n",
}
"""Exact and prompt caches alone, behind routing (so the exact cache alone is projected on its own
keys), and behind prompt trimming."""


def long_prompts(path: Path) -> Path:
    """Requests with a long shared system prompt (the sample logs' are below every provider's
    cacheable minimum) on gpt-4o and Claude Sonnet, four questions, logged out of time order over
    two hours, so prefixes are warm, cold and warm again, and identical requests repeat."""
    from tests.test_cache_batch import GPT4O, LONG_SYSTEM, QUESTIONS, SONNET, chat, message

    records = []
    for index in range(90):
        t = index * 997 % 7200
        question = QUESTIONS[index % len(QUESTIONS)]
        records.append(chat(GPT4O, 3000, 200, t=t, user=question, system=LONG_SYSTEM) if index % 3 else
                       message(SONNET, 3000, 200, t=t, user=question))
    write_lines(path, records)
    return path


def held_segments(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the segments a streamed audit holds for its caches, as it holds them."""
    from routecost.segment_audit import HeldSegments

    sizes: list[int] = []
    hold = HeldSegments.hold

    def counted(self: HeldSegments, requests: pl.DataFrame, first_position: int) -> None:
        sizes.append(requests.height)
        hold(self, requests, first_position)

    monkeypatch.setattr(HeldSegments, "hold", counted)
    return sizes


@pytest.mark.parametrize("segment_rows", [1, 7, 10_000])
def test_cache_policies_streamed_report_what_they_report_whole(monkeypatch, tmp_path, segment_rows):
    """The caches are replayed over the whole log while it is read a segment at a time: hits and
    warm prefixes across segments count as they do in one frame."""
    paths = []
    for name, text in CACHE_POLICIES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    logs = [str(SAMPLE_LOGS), str(long_prompts(tmp_path / "long.jsonl"))]
    options = AuditOptions(paths=logs, reader=ReaderConfig(workers=1), policy_paths=paths)
    sizes = held_segments(monkeypatch)
    whole, streamed = audits(monkeypatch, options, segment_rows)
    assert len(sizes) > 1 if segment_rows < 10_000 else sizes  # (a file's stream events wait for its end)
    for policy in whole["policies"]:
        categories = policy["categories"]
        assert sum(row["exact_cache_hits"] for row in categories) or policy["name"] == "trimmed-cached"
        assert any(row["cache_read_share_after_pct"] > row["cache_read_share_before_pct"] for row in categories)
    assert_same(whole, streamed)


def test_a_cache_hit_across_files_read_out_of_time_order_is_counted(monkeypatch, tmp_path):
    """Worked by hand: the same gpt-4o request (1,000 in, 200 out: $0.0045) at 0 s and 4,200 s in
    one file and at 1,800 s in a file read before it, with a 1-hour exact cache. In time order: the
    first is a miss whose answer is kept until 3,600 s, the one at 1,800 s a hit, the one at 4,200 s
    a miss. Streamed a file at a time: one hit, $0.0090 projected against $0.0135."""
    from tests.test_cache_batch import GPT4O, chat, exact_policy

    (tmp_path / "logs").mkdir()
    write_lines(tmp_path / "logs" / "a.jsonl", [chat(GPT4O, 1000, 200, t=1800)])
    write_lines(tmp_path / "logs" / "b.jsonl", [chat(GPT4O, 1000, 200, t=0), chat(GPT4O, 1000, 200, t=4200)])
    (tmp_path / "exact.yaml").write_text(exact_policy("1h"), encoding="utf-8")
    options = AuditOptions(paths=[str(tmp_path / "logs")], reader=ReaderConfig(workers=1),
                           policy_paths=[str(tmp_path / "exact.yaml")])
    monkeypatch.setattr("routecost.audit.SEGMENT_ROWS", 1)
    sizes = held_segments(monkeypatch)
    report = run_audit(options, keep_requests=False).report
    assert sizes == [1, 2]  # a segment a file: the hit's key was written in the later segment
    [category] = report.policies[0].categories
    on_gpt4o = (1000 * 2.50 + 200 * 10.00) / 1e6
    assert category.exact_cache_hits == 1
    assert category.baseline_cost_usd == pytest.approx(3 * on_gpt4o, rel=1e-9)
    assert category.cost_usd == pytest.approx(2 * on_gpt4o, rel=1e-9)


def write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


@pytest.mark.parametrize("keep", [True, False])
def test_an_empty_log_under_cache_policies_projects_nothing(tmp_path, keep):
    """A log with no requests (it crashed the prompt cache's projection once)."""
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    paths = []
    for name, text in CACHE_POLICIES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    options = AuditOptions(paths=[str(tmp_path / "empty.jsonl")], reader=ReaderConfig(workers=1), policy_paths=paths)
    report = run_audit(options, keep_requests=keep).report
    assert report.requests == 0
    assert [sum(row.requests for row in policy.categories) for policy in report.policies] == [0, 0, 0]
