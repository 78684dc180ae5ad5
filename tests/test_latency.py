"""Latency under a policy: per category, the median and 95th percentile a policy would give, from the
latencies the logs carry (read to within the 2% bins they are counted in), and the gate that holds it.

The logs below: category `chat` on gpt-4o answers in 1,000 ms; category `quick` on gpt-4o-mini in
200 ms. Routed to gpt-4o-mini, `chat` answers as gpt-4o-mini does; a cascade that escalates 30% of
it to gpt-4o answers in 200 ms 70% of the time and 200 + 1,000 ms the rest; batched, it waits up to
its 24-hour window.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.simulate.latency import Latency, format_ms
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF, write_jsonl
from tests.test_cli import run
from tests.test_policy_projection import GPT4O, chat_record

MINI = "gpt-4o-mini-2024-07-18"
BIN = 0.02  # the bins' width: a quantile is read to within it


def record(model: str, category: str, latency_ms: float | None) -> dict[str, Any]:
    logged = chat_record(model, 1000, 200, metadata={"category": category})
    return logged if latency_ms is None else logged | {"latency_ms": latency_ms}


def logs(tmp_path: Path, chat_latency: float | None = 1000.0) -> Path:
    return write_jsonl(tmp_path / "log.jsonl", [record(GPT4O, "chat", chat_latency) for _ in range(20)]
                       + [record(MINI, "quick", 200.0) for _ in range(20)])


def latencies(tmp_path: Path, policy: str, chat_latency: float | None = 1000.0) -> dict[str, Latency | None]:
    path = tmp_path / "policy.yaml"
    path.write_text(policy, encoding="utf-8")
    audit = run_audit(AuditOptions(paths=[str(logs(tmp_path, chat_latency))], reader=ReaderConfig(workers=1),
                                   as_of=AS_OF, policy_paths=[str(path)]), keep_requests=False)
    return {row.category: row.latency for row in audit.report.policies[0].categories}


def near(value: float | None, expected: float) -> bool:
    return value is not None and abs(value - expected) <= BIN * expected


def test_a_routed_category_takes_the_latency_its_target_logs(tmp_path):
    found = latencies(tmp_path, "name: p\nroutes:\n  - when: {category: chat}\n    to: openai/gpt-4o-mini\n"
                                "  - to: keep\n")
    chat, quick = found["chat"], found["quick"]
    assert chat is not None and quick is not None
    assert near(chat.p50_before_ms, 1000) and near(chat.p95_before_ms, 1000)
    assert near(chat.p50_after_ms, 200) and near(chat.p95_after_ms, 200)
    assert near(quick.p50_after_ms, 200) and quick.p50_after_ms == quick.p50_before_ms  # left as logged


def test_a_cascade_adds_the_escalation_models_latency_for_the_share_it_escalates(tmp_path):
    found = latencies(tmp_path, "name: p\ncascades:\n  - when: {category: chat}\n    try: openai/gpt-4o-mini\n"
                                "    escalate_to: openai/gpt-4o\n    escalate_rate: 0.3\n")
    chat = found["chat"]
    assert chat is not None
    assert near(chat.p50_after_ms, 200)         # 70% answered by the try
    assert near(chat.p95_after_ms, 200 + 1000)  # the escalated 30%: both calls, one after the other


def test_a_batched_category_waits_up_to_its_window(tmp_path):
    chat = latencies(tmp_path, "name: p\nbatch:\n  - when: {category: chat}\n    max_delay: 24h\n")["chat"]
    assert chat is not None and near(chat.p50_after_ms, 24 * 3600 * 1000)
    assert format_ms(chat.p95_after_ms) == "24 h" and format_ms(chat.p95_before_ms) == "1 s"


def test_requests_without_a_logged_latency_are_counted_apart(tmp_path):
    found = latencies(tmp_path, "name: p\nroutes:\n  - when: {category: quick}\n    to: openai/gpt-4o\n"
                                "  - to: keep\n", chat_latency=None)
    assert found["chat"] is not None and found["chat"].p50_before_ms is None
    assert found["chat"].unknown_after == 20  # kept on gpt-4o, which logged no latency
    assert found["quick"] is not None and found["quick"].unknown_after == 20  # routed to gpt-4o: unknown there


def test_the_gate_holds_the_p95_latency(tmp_path):
    policy = tmp_path / "batch.yaml"
    policy.write_text("name: batch\nbatch:\n  - when: {category: chat}\n    max_delay: 24h\n", encoding="utf-8")
    log = str(logs(tmp_path))
    report = run("audit", log, "--policy", str(policy), "--format", "json", "--as-of", "2026-11-01")
    assert report.returncode == 0, report.stderr
    [chat] = [row for row in json.loads(report.stdout)["policies"][0]["categories"] if row["category"] == "chat"]
    assert chat["latency_ms"]["p95_before_ms"] == pytest.approx(1000, rel=BIN)
    failed = run("gate", "--logs", log, "--head", str(policy), "--max-latency-increase", "50")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "chat: p95 latency 1 s → 24 h" in failed.stdout
    routed = tmp_path / "mini.yaml"
    routed.write_text("name: mini\nroutes:\n  - when: {category: chat}\n    to: openai/gpt-4o-mini\n  - to: keep\n",
                      encoding="utf-8")
    passed = run("gate", "--logs", log, "--head", str(routed), "--max-latency-increase", "50")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    policy.write_text(policy.read_text(encoding="utf-8") + "gate:\n  max_latency_increase: {value: 50, level: warn}\n",
                      encoding="utf-8")
    warned = run("gate", "--logs", log, "--head", str(policy))
    assert warned.returncode == 0 and "warn · max-latency-increase: chat: p95 latency 1 s → 24 h" in warned.stdout
