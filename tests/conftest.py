"""Shared test helpers: write records to a log file and audit them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.sources.reader import ReaderConfig
from tests.servers import pytest_runtest_call  # noqa: F401  (the hook that names a dead server's exit)

pytest_plugins = ["pytester"]

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
"""Prices for requests without a timestamp are those of this day (tests must not depend on today)."""

MTOK = 1_000_000
KEY_ENV = "ROUTECOST_TEST_KEY"
SECRET = "sk-test-DO-NOT-LEAK-4242"
"""The API key replay tests give their mock LLM server, from the environment as users do."""


@pytest.fixture
def mock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A mock LLM server on 127.0.0.1 (``tests/mock_llm.py``), its key in ``KEY_ENV``."""
    from tests.mock_llm import MockLLM

    monkeypatch.setenv(KEY_ENV, SECRET)
    with MockLLM() as server:
        yield server


def write_policy(directory: Path, text: str) -> Path:
    """A policy file ``policy.yaml`` in ``directory`` holding ``text``."""
    path = directory / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, records: Iterable[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def audit_records(
    tmp_path: Path,
    records: Sequence[Any],
    *,
    name: str = "log.jsonl",
    prices: str | None = None,
    reader: ReaderConfig | None = None,
    category_key: str = "category",
) -> Audit:
    """Audit the given records written as one JSONL file."""
    path = write_jsonl(tmp_path / name, records)
    return run_audit(
        AuditOptions(paths=[str(path)], reader=reader or ReaderConfig(workers=1), prices_path=prices, category_key=category_key, as_of=AS_OF)
    )


def costs(audit: Audit) -> list[float | None]:
    return audit.priced.requests["cost_usd"].to_list()


def only_row(audit: Audit) -> dict[str, Any]:
    frame: pl.DataFrame = audit.priced.requests
    assert frame.height == 1, frame
    return frame.row(0, named=True)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tokenizer files and other caches out of the user's home."""
    monkeypatch.setenv("ROUTECOST_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def assert_same_values(expected: Any, actual: Any, *, rel: float, abs_tol: float, path: str = "report") -> None:
    """Two reports' data equal, field by field: counts, tokens and names exactly; floats within
    ``rel`` or ``abs_tol`` (float sums taken in another order differ in their last bits)."""
    if isinstance(expected, float) and isinstance(actual, float):
        assert actual == pytest.approx(expected, rel=rel, abs=abs_tol), f"{path}: {actual} != {expected}"
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), path
        for key in expected:
            assert_same_values(expected[key], actual[key], rel=rel, abs_tol=abs_tol, path=f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (mine, theirs) in enumerate(zip(expected, actual, strict=True)):
            assert_same_values(mine, theirs, rel=rel, abs_tol=abs_tol, path=f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
