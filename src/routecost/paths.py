"""Which files the paths on a command line name, and what kind each one is.

Kept free of heavy imports: the command line consults it before it loads polars and the log
formats (to start the reader processes early, see ``workers.py``).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

from routecost.database import is_database_url
from routecost.errors import UsageError
from routecost.objectstore import find_objects, is_remote, object_identity, object_size

STDIN = "-"
STDIN_NAME = "<stdin>"
LOG_SUFFIXES = (".jsonl", ".ndjson", ".json", ".har", ".log", ".csv", ".gz", ".parquet")
DOCUMENT_SUFFIXES = (".json", ".har")
"""Files that hold one JSON document (an array, ``{"data": [...]}``, a HAR log), not JSON lines."""
MAX_NOTES = 5
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
"""Below this size the cost of starting reader processes outweighs what they save."""


@dataclass
class Inputs:
    """The files to read, each real file once, and what was left out and why."""

    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _seen_files: dict[tuple[object, object], str] = field(default_factory=dict)

    def add_file(self, path: str) -> None:
        """A file, unless it is one already added under another name (a link, a repeat)."""
        if path == STDIN:
            if STDIN not in self.files:
                self.files.append(STDIN)
            return
        key = _identity(path)
        if key in self._seen_files:
            self.notes.append(f"{path} is the same file as {self._seen_files[key]}: read once")
        else:
            self._seen_files[key] = path
            self.files.append(path)
            _inputs_read.add(key)

    def summary(self) -> list[str]:
        """The notes, at most ``MAX_NOTES`` of them and a count of the rest."""
        if len(self.notes) <= MAX_NOTES:
            return self.notes
        return [*self.notes[:MAX_NOTES], f"... and {len(self.notes) - MAX_NOTES} more files or directories left out"]


_inputs_read: set[tuple[object, object]] = set()
"""Every file this process has read as input (logs, policies, price files, reports): never written over."""


def note_input(path: str | Path) -> None:
    """Remember a file as one of this run's inputs (outputs refuse to replace it, see ``output.py``)."""
    try:
        _inputs_read.add(_identity(str(path)))
    except OSError:
        pass


def is_input(path: str | Path) -> bool:
    """Whether ``path`` names a file this run read as input (under any name)."""
    try:
        return _identity(str(path)) in _inputs_read
    except OSError:
        return False


def expand_paths(paths: Iterable[str]) -> list[str]:
    """The files behind the given paths (see ``find_inputs``)."""
    return find_inputs(paths).files


def find_inputs(paths: Iterable[str]) -> Inputs:
    """Files behind the given paths: files as given, directories walked for log files (following
    links, each directory once), globs expanded (``**`` across directories, the same way); every
    real file once, however many names reach it."""
    inputs = Inputs()
    for path in paths:
        if is_database_url(path):  # LiteLLM's database (``database.py``): a source, not a file
            if path not in inputs.files:
                inputs.files.append(path)
            continue
        if is_remote(path):  # s3://, gs://, az:// objects, prefixes and globs (``objectstore.py``)
            for url in find_objects(path):
                inputs.add_file(url)
            continue
        target = Path(path)
        if path == STDIN or target.is_file():
            inputs.add_file(path)
        elif target.is_dir():
            notes_before = len(inputs.notes)
            found = list(_walk(path, inputs))
            if not found and len(inputs.notes) == notes_before:
                raise UsageError(f"{path}: no log files in this directory (looked for {', '.join(LOG_SUFFIXES)})")
            for file in found:
                inputs.add_file(file)
        elif any(char in path for char in "*?["):
            matched = _glob(path, inputs)
            if not matched:
                raise UsageError(f"{path}: no files match this pattern")
            for match in matched:
                for file in _walk(match, inputs) if os.path.isdir(match) else (match,):
                    inputs.add_file(file)
        elif target.exists():  # a named pipe or another stream: read as it comes
            inputs.add_file(path)
        elif os.path.islink(path):
            raise UsageError(f"{path}: a link to nothing ({os.readlink(path)})")
        else:
            raise UsageError(f"{path}: no such file or directory")
    return inputs


def _identity(path: str) -> tuple[object, object]:
    if is_remote(path):
        return object_identity(path)
    status = os.stat(path)
    return status.st_dev, status.st_ino


def _walk(top: str, inputs: Inputs, keep: Callable[[str], bool] | None = None) -> Iterator[str]:
    """Log files under ``top`` (or those ``keep`` accepts), in sorted order, following links to
    directories, each directory once (a link back up or a loop of links is not followed twice);
    what cannot be read is noted, not fatal."""
    entered = {_identity(top)}

    def unreadable(error: OSError) -> None:
        inputs.notes.append(f"{error.filename}: cannot read this directory ({error.strerror}): skipped")

    for root, dirnames, filenames in os.walk(top, followlinks=True, onerror=unreadable):
        new_dirs = []
        for name in sorted(dirnames):
            directory = os.path.join(root, name)
            try:
                identity = _identity(directory)
            except OSError as error:
                unreadable(error)
                continue
            if identity in entered:
                inputs.notes.append(f"{directory}: a directory already read (a link back or a second name): skipped")
            else:
                entered.add(identity)
                new_dirs.append(name)
        dirnames[:] = new_dirs
        for name in sorted(filenames):
            file = os.path.join(root, name)
            if not (keep(file) if keep else is_log_file(name)):
                continue
            if os.path.isfile(file):
                yield file
            elif not os.path.exists(file):
                inputs.notes.append(f"{file}: a link to nothing: skipped")


def _glob(pattern: str, inputs: Inputs) -> list[str]:
    """Files matching a pattern; ``**`` matches any depth, walked with the same loop guard as a directory
    (the standard library's recursive glob follows a looping link until the path is too long)."""
    if "**" not in pattern:
        return sorted(glob(pattern))
    parts = pattern.split("/")
    fixed = next(index for index, part in enumerate(parts) if any(char in part for char in "*?["))
    top = "/".join(parts[:fixed]) or ("/" if pattern.startswith("/") else ".")
    if not os.path.isdir(top):
        return []
    wanted = parts[fixed:]
    return list(_walk(top, inputs, keep=lambda path: _matches(os.path.relpath(path, top).split(os.sep), wanted)))


def _matches(names: list[str], pattern: list[str]) -> bool:
    """Whether a path's names match a pattern's, name by name (``fnmatch``), ``**`` standing for any
    number of them."""
    if not pattern:
        return not names
    if pattern[0] == "**":
        return any(_matches(names[skip:], pattern[1:]) for skip in range(len(names) + 1))
    return bool(names) and fnmatch.fnmatchcase(names[0], pattern[0]) and _matches(names[1:], pattern[1:])


def input_size(path: str) -> int:
    """A file's size in bytes, or an object's as its listing gave it (for the progress bar)."""
    return object_size(path) if is_remote(path) else os.path.getsize(path)


def is_log_file(name: str) -> bool:
    return name.lower().endswith(LOG_SUFFIXES)


def is_parquet(source: str) -> bool:
    return source.lower().endswith(".parquet")


def is_csv(source: str) -> bool:
    return source.lower().removesuffix(".gz").endswith(".csv")


def is_document(source: str) -> bool:
    """Named as a whole-file JSON document (see ``DOCUMENT_SUFFIXES``), gzipped or not."""
    return source.lower().removesuffix(".gz").endswith(DOCUMENT_SUFFIXES)


def splittable(source: str) -> bool:
    """A plain, seekable JSON-lines file big enough to be worth cutting into byte ranges for several
    reader processes (a whole-file document cut in pieces would not parse)."""
    if source == STDIN or is_csv(source) or is_parquet(source) or source.lower().endswith((".gz", *DOCUMENT_SUFFIXES)):
        return False
    if is_remote(source):  # an object is read as one stream, by one process (``objectstore.py``)
        return False
    try:
        if os.path.getsize(source) < PARALLEL_MIN_BYTES:
            return False
        with open(source, "rb") as handle:
            return handle.read(2) != b"\x1f\x8b"
    except OSError:
        return False
