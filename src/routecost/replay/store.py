"""The replay store: one SQLite row per model call and per judgment, committed as each completes.

A row's key is a digest of everything that decides the call's answer (what kind of call, the
request's content, the model, the parameters, the judge template and its version, the order the
answers were shown in), so a rerun, or a run resumed after an interruption, finds what was already
paid for and sends only the rest. Failed calls are stored too (what went wrong, after how many
attempts) and are tried again by the next run. The file is created readable by its owner only; it
holds prompts and answers, never keys.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from routecost.errors import UsageError
from routecost.output import private_file
from routecost.replay.judge import UNPARSED

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    source TEXT,
    byte_offset INTEGER,
    line INTEGER,
    category TEXT,
    logged_model TEXT,
    target_model TEXT NOT NULL,
    model TEXT NOT NULL,
    template TEXT,
    position TEXT,
    candidate_key TEXT,
    ok INTEGER NOT NULL,
    answer TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    logged_output_tokens INTEGER,
    cost_usd REAL,
    latency_ms REAL,
    attempts INTEGER,
    error TEXT,
    verdict TEXT,
    score REAL,
    created_at TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class CallRecord:
    """A stored call. ``kind`` is ``candidate`` (the request sent to ``target_model``), ``judge``
    (``model`` judging the candidate against the logged answer; ``position`` says which answer was
    shown first, or which one a rubric scored) or ``check`` (the judge on a control pair: the logged
    answer against a broken copy, see ``checks.py``). ``verdict`` is the judge's parsed reply
    (``candidate``, ``logged`` or ``tie``; ``unparsed`` when the reply never parsed)."""

    key: str
    kind: str
    request: str
    target_model: str
    model: str
    ok: bool
    source: str | None = None
    byte_offset: int | None = None
    line: int | None = None
    category: str | None = None
    logged_model: str | None = None
    template: str | None = None
    position: str | None = None
    candidate_key: str | None = None
    """For a judgment: the candidate call it judged (none for a rubric score of the logged answer); for
    a check: its control pair."""
    answer: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    logged_output_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    attempts: int | None = None
    error: str | None = None
    verdict: str | None = None
    score: float | None = None
    created_at: str = ""


COLUMNS = tuple(field.name for field in fields(CallRecord))


def call_key(*parts: object) -> str:
    """A stable digest of what decides a call's answer."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def request_digest(system: str, conversation: tuple[tuple[str, str], ...], model_id: str) -> str:
    """What identifies a logged request in the store: its content and model, not where it was logged
    (so a moved, renamed or compressed log still finds its calls)."""
    return hashlib.sha256(json.dumps([system, conversation, model_id]).encode()).hexdigest()


class ReplayStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        private_file(self.path)
        self._database = sqlite3.connect(self.path)
        try:
            self._check_is_a_store()
            self._database.execute("PRAGMA journal_mode=WAL")
            self._database.execute("PRAGMA synchronous=NORMAL")
            self._database.execute(SCHEMA)
            self._database.commit()
        except sqlite3.DatabaseError as error:
            self._database.close()
            raise UsageError(f"{self.path}: not a routecost replay store ({error})") from None

    def _check_is_a_store(self) -> None:
        """An SQLite file with tables of its own, but no ``calls``, is someone else's database: never
        add a table to it."""
        tables = {name for (name,) in self._database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "calls" not in tables:
            raise sqlite3.DatabaseError(f"an SQLite database with other tables: {', '.join(sorted(tables))}")

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, key: str) -> CallRecord | None:
        row = self._database.execute(f"SELECT {', '.join(COLUMNS)} FROM calls WHERE key = ?", (key,)).fetchone()
        return _record(row) if row else None

    def put(self, record: CallRecord) -> None:
        """Store (or replace) a call and commit at once: an interrupted run loses at most the calls
        in flight."""
        self._insert(record)
        self._database.commit()

    def _insert(self, record: CallRecord) -> None:
        values = asdict(record)
        values["ok"] = int(record.ok)
        values["created_at"] = record.created_at or datetime.now(UTC).isoformat(timespec="seconds")
        self._database.execute(
            f"INSERT OR REPLACE INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [values[column] for column in COLUMNS],
        )

    def claim(self, stub: CallRecord) -> bool:
        """Mark a call as being sent by this process, before it is sent: False when it is done already
        (answered; for a judgment, with a verdict that parsed) or another run that is still alive is
        sending it (two replays on one store never pay twice)."""
        self._database.execute("BEGIN IMMEDIATE")  # one claimant at a time, across processes
        try:
            row = self._database.execute("SELECT ok, verdict, error, created_at FROM calls WHERE key = ?",
                                         (stub.key,)).fetchone()
            if row is not None and (_done(bool(row[0]), row[1]) or _claimed_by_a_live_run(row[2], row[3])):
                self._database.rollback()
                return False
            self._insert(dataclasses.replace(stub, ok=False, error=_claim_mark(os.getpid())))
            self._database.commit()
            return True
        except BaseException:
            self._database.rollback()
            raise

    def release(self, key: str) -> None:
        """Give up this process's claim on a call it did not send (the budget ran out)."""
        self._database.execute("DELETE FROM calls WHERE key = ? AND error = ?", (key, _claim_mark(os.getpid())))
        self._database.commit()

    def records(self, kind: str | None = None) -> Iterator[CallRecord]:
        query = f"SELECT {', '.join(COLUMNS)} FROM calls"
        rows = self._database.execute(query + " WHERE kind = ?", (kind,)) if kind else self._database.execute(query)
        for row in rows:
            yield _record(row)


def is_done(record: CallRecord | None) -> bool:
    """Whether a stored call need not be sent again: answered, and for a judgment with a verdict
    that parsed (an unparsed reply is asked again; a failed call is tried again)."""
    return record is not None and _done(record.ok, record.verdict)


def _done(ok: bool, verdict: str | None) -> bool:
    return ok and verdict != UNPARSED


def _record(row: tuple[Any, ...]) -> CallRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    values["ok"] = bool(values["ok"])
    return CallRecord(**values)


CLAIM_PREFIX = "being sent by process "
"""The error of a call a run has claimed and not finished, before the run's process id (``claim``)."""
CLAIM_STALE_S = 30 * 60
"""A claim older than this is given up, whatever became of its run (longer than any call's retries)."""


def _claim_mark(pid: int) -> str:
    return f"{CLAIM_PREFIX}{pid}"


def is_claim(record: CallRecord) -> bool:
    """Whether a stored row is a claim (a call being sent, or whose run died sending it), not a call."""
    return (record.error or "").startswith(CLAIM_PREFIX)


def _claimed_by_a_live_run(error: str | None, created_at: str) -> bool:
    """Whether a stored row is a claim of a run still running on this machine, and recent."""
    if not error or not error.startswith(CLAIM_PREFIX):
        return False
    try:
        pid = int(error.removeprefix(CLAIM_PREFIX))
        age = (datetime.now(UTC) - datetime.fromisoformat(created_at)).total_seconds()
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # alive: another user's process
        pass
    return age < CLAIM_STALE_S
