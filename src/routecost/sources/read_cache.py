"""What each log file read to, kept so that a month of logs is parsed once (``--read-cache DIR``).

A file's entry holds its rows (Arrow IPC) and what reading it counted (malformed records and
their first examples, skipped records, notes, implausible times, batch request lines), under a
name derived from the file's absolute path and the reader's settings (format, mapping, strictness,
prompt fingerprints, this version's row schema). The entry also records the file's identity when it
was read (size and modification time in nanoseconds); a file whose identity changed is read again
and its entry replaced, so an appended or rewritten log is never served stale. Rows are cached as
read, before any ``--since``/``--until`` filter; the entry's time range lets a file wholly outside
the window be skipped without loading it.

The directory is created owner-only and marked with a ``CACHEDIR.TAG`` (backup tools skip it); a
directory that holds other files and no such tag is someone else's and is never written to.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from routecost import __version__
from routecost.errors import UsageError
from routecost.objectstore import is_remote
from routecost.paths import STDIN
from routecost.records import CANONICAL_SCHEMA

TAG_NAME = "CACHEDIR.TAG"
TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# routecost read cache: safe to delete\n"
ENTRY_VERSION = 1


@dataclass
class FilePart:
    """What reading one file added: its rows and its counts."""

    frame: pl.DataFrame
    malformed: int = 0
    examples: list[tuple[str, int | None, str | None, str]] = field(default_factory=list)
    """(source, line, field, problem) of the first malformed records."""
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    implausible_times: int = 0
    first_implausible_line: int | None = None
    batch_requests: list[tuple[str, int | None]] = field(default_factory=list)
    """(custom_id, offset) of the batch request lines it holds."""

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        if self.frame.is_empty():
            return None, None
        times = self.frame.select(low=pl.col("ts").min(), high=pl.col("ts").max()).row(0)
        return times[0], times[1]


@dataclass(frozen=True)
class Identity:
    """A regular file's size and modification time: what tells whether it changed (while it was read,
    or since its entry was kept)."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str) -> Identity | None:
        """None for what has no such identity: standard input, a pipe, an object in a store."""
        if path == STDIN or is_remote(path):
            return None
        try:
            status = os.stat(path)
        except OSError:
            return None
        return cls(status.st_size, status.st_mtime_ns) if stat.S_ISREG(status.st_mode) else None


class ReadCache:
    def __init__(self, directory: str, settings: str) -> None:
        self.directory = Path(directory)
        self._settings = settings
        self.hits: list[str] = []
        self.misses: list[str] = []
        self.skipped: list[str] = []
        """Files the time window excluded, known from their entry without loading their rows."""
        _claim(self.directory)

    def _paths(self, source: str) -> tuple[Path, Path]:
        digest = hashlib.sha256(json.dumps([os.path.abspath(source), self._settings, __version__,
                                            str(CANONICAL_SCHEMA), ENTRY_VERSION]).encode()).hexdigest()[:32]
        return self.directory / f"{digest}.arrow", self.directory / f"{digest}.json"

    def meta(self, source: str) -> dict[str, object] | None:
        """The file's entry, if it was made from the file as it is now."""
        identity = Identity.of(source)
        _, meta_path = self._paths(source)
        if identity is None or not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("identity") != [identity.size, identity.mtime_ns]:
            return None
        return meta

    def outside(self, source: str, since: datetime | None, until: datetime | None) -> int | None:
        """The number of requests in the file, when its entry says every one of them was logged
        outside [since, until) (then the file need not be loaded); else None."""
        meta = self.meta(source) if since is not None or until is not None else None
        if meta is None or not meta.get("all_timed"):
            return None
        low, high = (datetime.fromisoformat(str(value)) for value in meta["time_range"])  # type: ignore[attr-defined]
        if (until is not None and low >= until) or (since is not None and high < since):
            self.skipped.append(source)
            return int(meta["rows"])  # type: ignore[call-overload]
        return None

    def load(self, source: str) -> FilePart | None:
        meta = self.meta(source)
        frame_path, _ = self._paths(source)
        if meta is None:
            return None
        try:
            frame = pl.read_ipc(frame_path)
        except (OSError, pl.exceptions.PolarsError):
            return None
        self.hits.append(source)
        return FilePart(
            frame=frame, malformed=int(meta["malformed"]),  # type: ignore[call-overload]
            examples=[tuple(example) for example in meta["examples"]],  # type: ignore[attr-defined, misc]
            skipped=Counter(meta["skipped"]),  # type: ignore[arg-type]
            notes=list(meta["notes"]),  # type: ignore[call-overload]
            implausible_times=int(meta["implausible_times"]),  # type: ignore[call-overload]
            first_implausible_line=meta["first_implausible_line"],  # type: ignore[arg-type]
            batch_requests=[tuple(entry) for entry in meta["batch_requests"]],  # type: ignore[attr-defined, misc]
        )

    def save(self, source: str, identity: Identity, part: FilePart) -> None:
        """Keep a file's part, if the file is still as it was before it was read."""
        if Identity.of(source) != identity:
            return
        self.misses.append(source)
        frame_path, meta_path = self._paths(source)
        low, high = part.time_range()
        meta = {
            "source": os.path.abspath(source), "identity": [identity.size, identity.mtime_ns],
            "malformed": part.malformed, "examples": part.examples, "skipped": dict(part.skipped),
            "notes": part.notes, "implausible_times": part.implausible_times,
            "first_implausible_line": part.first_implausible_line, "batch_requests": part.batch_requests,
            "time_range": [None if low is None else low.isoformat(), None if high is None else high.isoformat()],
            "rows": part.frame.height, "all_timed": part.frame.height > 0 and part.frame["ts"].null_count() == 0,
        }
        _write_private(frame_path, part.frame.write_ipc)
        _write_private(meta_path, lambda path: Path(path).write_text(json.dumps(meta), encoding="utf-8"))
        # the meta last: an entry is whole once it names the file's identity


def _write_private(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file whole (a temporary one, renamed) and readable by its owner only."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    temporary.chmod(0o600)
    os.replace(temporary, path)


def _claim(directory: Path) -> None:
    """Make (or recognise) the cache directory; refuse someone else's."""
    tag = directory / TAG_NAME
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"--read-cache {directory}: not a directory")
        if not tag.exists() and any(directory.iterdir()):
            raise UsageError(f"--read-cache {directory}: a directory with other files and no {TAG_NAME}: "
                             "not a routecost cache; give an empty or new directory")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not tag.exists():
        tag.write_text(TAG, encoding="utf-8")
