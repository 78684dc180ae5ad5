"""The bundled sample logs: the anomalies the generator planted are all found (see sample_logs/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from routecost.audit import Audit, AuditOptions, run_audit
from routecost.sources.reader import ReaderConfig
from tests.conftest import AS_OF

SAMPLE_LOGS = Path(__file__).parent.parent / "sample_logs"


@pytest.fixture(scope="module")
def audit() -> Audit:
    return run_audit(AuditOptions(paths=[str(SAMPLE_LOGS)], reader=ReaderConfig(workers=1), as_of=AS_OF))


def test_every_planted_malformed_line_is_reported_with_its_location(audit):
    where = sorted((Path(example.source).name, example.line) for example in audit.report.malformed_examples)
    assert where == [("app-anthropic.jsonl", 253), ("app-openai.jsonl", 151), ("app-openai.jsonl", 586),
                     ("app-openai.jsonl", 963)]
    assert audit.report.malformed == 4


def test_counts_by_outcome(audit):
    report = audit.report
    # 2,418 lines minus 4 malformed; 120 batch input lines are requests' text, not requests
    assert report.requests == 1_100 - 3 + 650 - 1 + 450 + 120 + 100
    # errors: 10 OpenAI + 4 Anthropic + 6 LiteLLM + 2 expired OpenAI batch + 2 errored and 1 expired Anthropic batch
    assert report.failed == 10 + 4 + 6 + 2 + 3
    assert report.estimated == 15  # the streamed rows whose usage the logger lost
    assert [(row.model, row.requests) for row in report.unpriced] == [("acme-llama-3-70b", 6)]


def test_gateway_costs_are_reconciled_and_the_planted_mispricings_found(audit):
    reconciliation = audit.report.reconciliation
    assert reconciliation is not None
    assert reconciliation.requests == 450  # failed rows log $0 and are $0 here too
    assert reconciliation.differing == 13


def test_batch_traffic_is_priced_as_batch(audit):
    frame = audit.priced.requests
    batch = frame.filter(frame["mode"] == "batch")
    assert batch.height == 120 + 100
    assert set(batch["price_context"].to_list()) == {"batch"}


def test_categories_come_from_the_category_tags(audit):
    categories = {row.category for row in audit.report.categories}
    assert {"writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities"} <= categories


def test_the_generator_writes_the_bundled_sample_logs_byte_for_byte(tmp_path: Path) -> None:
    """The sample logs are generated (``scripts/make_sample_logs.py``, split by what it writes in
    ``scripts/samplegen/``): run again, it must write exactly what is bundled."""
    import filecmp
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(root / "scripts" / "make_sample_logs.py"), "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    bundled = root / "sample_logs"
    written = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())
    assert written == sorted(path.relative_to(bundled) for path in bundled.rglob("*") if path.is_file())
    assert all(filecmp.cmp(tmp_path / name, bundled / name, shallow=False) for name in written)
