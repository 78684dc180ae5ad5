"""The conformance corpus: records that real software emitted, each priced to 1e-9 of the cost worked
out by hand from published prices (tests/conformance/cases.yaml holds the provenance and arithmetic).

A record is read at the prices of the day it was recorded (``as_of``), so one without a timestamp is
priced as it was billed.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.prices.pricing import NO_MODEL
from routecost.sources.reader import ReaderConfig

CORPUS = Path(__file__).parent / "conformance"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
REL = 1e-9

CATALOG_PROVIDER = {
    "aws-bedrock": "aws", "azure-openai": "azure", "google-gemini": "google", "google-vertex": "google",
    "google-vertex-ai": "google", "google-ai-studio": "google", "xai": "x-ai",
}
"""The corpus's provider names -> the price catalog's provider ids (the rest are the same)."""

PRICED = [case for case in CASES if case.get("expected_cost_usd") is not None and "unpriced" not in case]
UNPRICED = [case for case in CASES if "unpriced" in case]
KNOWN_GAPS: dict[str, str] = {}
"""Records routecost does not price right yet, and why: each fails loudly once fixed (strict xfail)."""


def case_id(case: dict[str, Any]) -> str:
    return str(case["file"]).removeprefix("records/")


GATHERED = date(2026, 12, 2)
"""The day the corpus was gathered: the prices for a record whose recording day is not known."""


def recorded_day(case: dict[str, Any]) -> datetime:
    day = case.get("recorded") or GATHERED
    day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def audited(case: dict[str, Any]) -> Audit:
    return run_audit(AuditOptions(paths=[str(CORPUS / case["file"])], reader=ReaderConfig(workers=1),
                                  as_of=recorded_day(case)))


def marked(cases: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(case, id=case_id(case), marks=[pytest.mark.xfail(reason=KNOWN_GAPS[case["file"]], strict=True)]
                         if case["file"] in KNOWN_GAPS else []) for case in cases]


@pytest.mark.parametrize("case", marked(PRICED))
def test_a_real_record_costs_what_its_published_prices_say(case: dict[str, Any]) -> None:
    audit = audited(case)
    requests = audit.priced.requests
    assert audit.report.malformed == 0, [example.message() for example in audit.report.malformed_examples]
    assert requests.height == case.get("requests", 1)
    assert requests["unpriced_reason"].null_count() == requests.height, requests["unpriced_reason"].to_list()
    assert requests["cost_usd"].sum() == pytest.approx(case["expected_cost_usd"], rel=REL)
    provider = CATALOG_PROVIDER.get(case["provider"], case["provider"])
    assert {model_id.split("/", 1)[0] for model_id in requests["model_id"]} == {provider}


@pytest.mark.parametrize("case", marked(UNPRICED))
def test_a_real_record_that_names_no_model_is_unpriced_with_the_reason(case: dict[str, Any]) -> None:
    audit = audited(case)
    requests = audit.priced.requests
    assert audit.report.malformed == 0 and requests.height == case.get("requests", 1)
    assert requests["cost_usd"].null_count() == requests.height
    assert set(requests["unpriced_reason"]) == {NO_MODEL}
    assert audit.report.unpriced_requests == requests.height


@pytest.mark.parametrize("case", [case for case in CASES if case not in PRICED and case not in UNPRICED], ids=case_id)
def test_a_real_record_without_an_established_price_is_read(case: dict[str, Any]) -> None:
    audit = audited(case)
    assert audit.report.malformed == 0
    assert audit.priced.requests.height == case.get("requests", 1)
    assert audit.priced.requests.filter(pl.col("input_tokens").is_null()).height == 0


def test_the_corpus_is_broad_and_every_file_is_described() -> None:
    files = {str(path.relative_to(CORPUS)) for path in (CORPUS / "records").rglob("*") if path.is_file()}
    assert files == {case["file"] for case in CASES}
    priced_providers = Counter(CATALOG_PROVIDER.get(case["provider"], case["provider"]) for case in PRICED
                               if case["file"] not in KNOWN_GAPS)
    assert sum(priced_providers.values()) >= 40 and len(priced_providers) >= 10, priced_providers
    shapes = {case["shape"] for case in CASES}
    assert len(shapes) >= 20, shapes
    assert all(case.get("source") for case in CASES)
