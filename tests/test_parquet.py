"""Parquet logs: canonical columns (a ``--per-request`` file, a warehouse export) read column-wise,
and tables whose rows are a known format's records (LiteLLM's SpendLogs) parsed as those records."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.conftest import MTOK

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs"
SPEND_LOG_ROW = ROOT / "tests/conformance/records/litellm/pubsub-spendlogs-row-gpt-4o.jsonl"


def audit(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "routecost", "audit", *args, "--format", "json", "--as-of",
                           "2026-11-01"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_per_request_file_audits_to_the_same_costs_as_the_logs_it_came_from(tmp_path: Path) -> None:
    rows = tmp_path / "requests.parquet"
    logs = audit(str(SAMPLE), "--per-request", str(rows))
    again = audit(str(rows))
    assert again["requests"] == logs["requests"]
    assert again["baseline"]["cost_usd"] == pytest.approx(logs["baseline"]["cost_usd"], rel=1e-12)
    assert {row["model"]: row["cost_usd"] for row in again["baseline"]["by_model"]} == pytest.approx(
        {row["model"]: row["cost_usd"] for row in logs["baseline"]["by_model"]}, rel=1e-12)
    assert {row["category"]: row["requests"] for row in again["baseline"]["categories"]} == \
        {row["category"]: row["requests"] for row in logs["baseline"]["categories"]}


def test_a_warehouse_table_of_canonical_columns_is_priced_exactly(tmp_path: Path) -> None:
    table = tmp_path / "llm_requests.parquet"
    pl.DataFrame({
        "ts": [datetime(2026, 10, 3, 9, 0), datetime(2026, 10, 3, 9, 5)],  # no zone: UTC
        "provider": ["openai", "anthropic"],
        "model": ["gpt-4o", "claude-haiku-4-5"],
        "input_tokens": [2000, 500],
        "cache_read_tokens": [1024, None],
        "output_tokens": [300, 100],
        "metadata": [{"category": "search"}, {"category": "support"}],
        "prompt_text": ["a long prompt the audit never reads " * 100] * 2,
    }).write_parquet(table)
    report = audit(str(table))
    # gpt-4o: $2.50 input, $1.25 cached input, $10 output; claude-haiku-4-5: $1 input, $5 output per million
    gpt_4o = ((2000 - 1024) * 2.50 + 1024 * 1.25 + 300 * 10.00) / MTOK
    haiku = (500 * 1.00 + 100 * 5.00) / MTOK
    assert report["baseline"]["cost_usd"] == pytest.approx(gpt_4o + haiku, rel=1e-12)
    categories = {row["category"]: row["cost_usd"] for row in report["baseline"]["categories"]}
    assert categories == pytest.approx({"search": gpt_4o, "support": haiku}, rel=1e-12)
    assert report["period"]["start"].startswith("2026-10-03T09:00:00")


def test_spend_logs_exported_to_parquet_are_read_as_litellm_records(tmp_path: Path) -> None:
    row = json.loads(SPEND_LOG_ROW.read_text(encoding="utf-8"))
    table = tmp_path / "spend_logs.parquet"
    pl.DataFrame([row]).write_parquet(table)
    report = audit(str(table))
    assert report["requests"] == 1 and report["malformed"] == 0
    # LiteLLM's own fixture: gpt-4o, 10 prompt and 20 completion tokens at $2.50 / $10 per million
    assert report["baseline"]["cost_usd"] == pytest.approx((10 * 2.50 + 20 * 10.00) / MTOK, rel=1e-12)
    assert audit(str(SPEND_LOG_ROW))["baseline"]["cost_usd"] == report["baseline"]["cost_usd"]


def test_a_bad_row_is_named_by_file_and_row(tmp_path: Path) -> None:
    row = json.loads(SPEND_LOG_ROW.read_text(encoding="utf-8"))
    table = tmp_path / "spend_logs.parquet"
    pl.DataFrame([row, {**row, "prompt_tokens": -5, "request_id": "bad"}, row]).write_parquet(table)
    report = audit(str(table))
    assert report["requests"] == 2 and report["malformed"] == 1
    assert report["malformed_examples"][0].startswith(f"{table}:2")


def test_a_file_that_is_not_parquet_is_a_one_line_error(tmp_path: Path) -> None:
    fake = tmp_path / "export.parquet"
    fake.write_text("not parquet at all\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "routecost", "audit", str(fake)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2 and "not a readable Parquet file" in done.stderr and "Traceback" not in done.stderr
