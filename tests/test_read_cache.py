"""Incremental audits: ``--read-cache DIR`` keeps what each log file read to, so the next run parses
only new or changed files and reports the same costs; ``--since``/``--until`` keep a time window and
skip cached files wholly outside it."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from routecost.audit import AuditOptions, run_audit
from routecost.sources.reader import OUTSIDE_WINDOW, ReaderConfig
from tests.conftest import AS_OF, MTOK, write_jsonl

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs"
DAY = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
GPT_4O_MINI = (1000 * 0.15 + 100 * 0.60) / MTOK
"""A day's request in ``month``: gpt-4o-mini, 1,000 input and 100 output tokens, at $0.15 / $0.60 per million."""


def chat(day: int, index: int) -> dict[str, Any]:
    return {"created": int((DAY + timedelta(days=day, minutes=index)).timestamp()), "object": "chat.completion",
            "id": f"chatcmpl-{day}-{index}", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}}


def month(folder: Path, days: int = 30, per_day: int = 4) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for day in range(days):
        write_jsonl(folder / f"2026-10-{day + 1:02d}.jsonl", [chat(day, index) for index in range(per_day)])
    return folder


def audit(*args: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run([sys.executable, "-m", "routecost", "audit", *args, "--format", "json", "--as-of",
                           "2026-11-01"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def cache_note(report: dict[str, Any]) -> str:
    return next(note for note in report["assumptions"] if note.startswith("read cache"))


def test_a_second_audit_parses_nothing_and_reports_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, _ = audit(str(SAMPLE), "--read-cache", str(cache))
    second, _ = audit(str(SAMPLE), "--read-cache", str(cache))
    plain, _ = audit(str(SAMPLE))
    assert "0 files read, 6 taken as read before" in cache_note(second)
    for report in (first, second):  # batch results joined to request lines in other files, malformed lines...
        assert report["baseline"]["cost_usd"] == pytest.approx(plain["baseline"]["cost_usd"], rel=1e-12)
        assert report["requests"] == plain["requests"] and report["malformed"] == plain["malformed"]
        assert report["skipped"] == plain["skipped"]
        assert [row["model"] for row in report["baseline"]["by_model"]] == \
            [row["model"] for row in plain["baseline"]["by_model"]]


def test_after_a_new_day_only_its_file_is_read(tmp_path: Path) -> None:
    logs, cache = month(tmp_path / "logs", days=30), tmp_path / "cache"
    before, _ = audit(str(logs), "--read-cache", str(cache))
    assert before["baseline"]["cost_usd"] == pytest.approx(30 * 4 * GPT_4O_MINI, rel=1e-12)
    write_jsonl(logs / "2026-10-31.jsonl", [chat(30, index) for index in range(4)])
    after, _ = audit(str(logs), "--read-cache", str(cache))
    assert "1 files read, 30 taken as read before" in cache_note(after)
    assert after["baseline"]["cost_usd"] == pytest.approx(31 * 4 * GPT_4O_MINI, rel=1e-12)


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    logs, cache = month(tmp_path / "logs", days=3), tmp_path / "cache"
    audit(str(logs), "--read-cache", str(cache))
    grown = logs / "2026-10-02.jsonl"
    with grown.open("a", encoding="utf-8") as log:  # a day's log still being written
        log.write(json.dumps(chat(1, 99)) + "\n")
    rewritten = logs / "2026-10-03.jsonl"  # the same size, other content, another time
    rewritten.write_text(rewritten.read_text(encoding="utf-8").replace('"completion_tokens": 100',
                                                                       '"completion_tokens": 200'), encoding="utf-8")
    os.utime(rewritten, ns=(rewritten.stat().st_atime_ns, rewritten.stat().st_mtime_ns + 1_000_000_000))
    report, _ = audit(str(logs), "--read-cache", str(cache))
    assert "2 files read, 1 taken as read before" in cache_note(report)
    rewritten_day = 4 * (1000 * 0.15 + 200 * 0.60) / MTOK
    assert report["baseline"]["cost_usd"] == pytest.approx(9 * GPT_4O_MINI + rewritten_day, rel=1e-12)


def test_malformed_records_and_notes_come_back_from_the_cache(tmp_path: Path) -> None:
    logs, cache = month(tmp_path / "logs", days=2), tmp_path / "cache"
    with (logs / "2026-10-01.jsonl").open("a", encoding="utf-8") as log:
        log.write('{"broken": \n')
    (logs / "2026-10-09.jsonl").write_text("", encoding="utf-8")
    first, _ = audit(str(logs), "--read-cache", str(cache))
    second, _ = audit(str(logs), "--read-cache", str(cache))
    assert first["malformed"] == second["malformed"] == 1
    assert first["malformed_examples"] == second["malformed_examples"]
    assert any("empty" in note for note in second["assumptions"])


def test_a_large_file_read_in_parallel_is_cached_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from routecost import paths

    monkeypatch.setattr(paths, "PARALLEL_MIN_BYTES", 1)
    log = write_jsonl(tmp_path / "big.jsonl", [chat(day, index) for day in range(10) for index in range(50)])
    options = AuditOptions(paths=[str(log)], reader=ReaderConfig(workers=2, read_cache=str(tmp_path / "cache")),
                           as_of=AS_OF)
    first, second = run_audit(options), run_audit(options)
    assert first.priced.requests.height == second.priced.requests.height == 500
    assert second.priced.requests["line"].to_list() == list(range(1, 501))
    assert second.report.cost_usd == pytest.approx(500 * GPT_4O_MINI, rel=1e-12)


def test_since_and_until_keep_a_window_and_skip_cached_files_outside_it(tmp_path: Path) -> None:
    logs, cache = month(tmp_path / "logs", days=30), tmp_path / "cache"
    window = ("--since", "2026-10-10", "--until", "2026-10-20")
    plain, _ = audit(str(logs), *window)
    assert plain["requests"] == 10 * 4 and plain["baseline"]["cost_usd"] == pytest.approx(40 * GPT_4O_MINI, rel=1e-12)
    assert plain["skipped"][OUTSIDE_WINDOW] == 20 * 4
    audit(str(logs), "--read-cache", str(cache))
    cached, _ = audit(str(logs), "--read-cache", str(cache), *window)
    assert "20 skipped (wholly outside --since/--until)" in cache_note(cached)
    assert cached["requests"] == 40 and cached["skipped"][OUTSIDE_WINDOW] == 80


def test_a_directory_that_is_not_a_read_cache_is_never_written(tmp_path: Path) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "routecost", "audit", str(SAMPLE), "--read-cache", str(mine)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "not a routecost cache" in done.stderr and "Traceback" not in done.stderr
    assert sorted(path.name for path in mine.iterdir()) == ["notes.txt"]


def test_the_cache_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    audit(str(month(tmp_path / "logs", days=1)), "--read-cache", str(cache))
    assert not stat.S_IMODE(cache.stat().st_mode) & 0o077
    entries = [path for path in cache.iterdir() if path.suffix in (".arrow", ".json")]
    assert entries and all(not stat.S_IMODE(path.stat().st_mode) & 0o077 for path in entries)
    shutil.rmtree(cache)


def test_a_bad_time_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "routecost", "audit", str(SAMPLE), "--since", "last tuesday"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "--since: expected a date or time" in done.stderr
