"""Read log files into the canonical request frame, streaming, one line at a time.

Every line is decoded straight into the typed struct of the format the previous line had (the
fast path: msgspec skips the fields routecost does not need, such as the prompt text), a block of
lines in one list comprehension while they keep to one format, line by line around a miss. A line that
does not fit is decoded generically, its format detected from its keys, and decoded again with that
format's struct, so a file may mix formats. A line that fits no format, or has a bad field, is
counted as malformed with its file, line and field; with ``strict`` the first one is an error.
Rows are turned into polars frames every ``CHUNK_ROWS`` lines, so Python objects never pile up,
and handed on in finished segments (``segments.py``), so a log need not fit in memory.
"""

from __future__ import annotations

import csv
import gc
import gzip
import hashlib
import io
import json
import os
import queue
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any, cast

import msgspec
import polars as pl

from routecost.database import is_database_url
from routecost.errors import InputError, Malformed, UsageError
from routecost.objectstore import is_remote, open_object, read_ahead
from routecost.paths import STDIN, STDIN_NAME, find_inputs, is_csv, is_document, is_parquet, splittable
from routecost.records import SOURCE_COLUMNS, build_source_frame, empty_requests, repeated
from routecost.sources import FORMATS, PROMPTED_FORMATS
from routecost.sources.base import LogFormat, NotARequest, RecordError, Rows, split_validation_error
from routecost.sources.mapping import load_mapping, mapped_format
from routecost.sources.parallel import RangeResult, ranges_in_order, skip_line
from routecost.sources.read_cache import FilePart, Identity, ReadCache
from routecost.sources.segments import OUTSIDE_WINDOW, Segmenter, repeated_ids_note
from routecost.sources.spill import Spill, load_part
from routecost.workers import ReaderProcesses, reader_processes

CHUNK_ROWS = 20_000
TOO_DEEP = "nested too deeply to read (a JSON value inside hundreds of others)"
EMPTY_RECORD = "record holding no requests (an empty export or batch)"
MAX_EXAMPLES = 5
READ_BLOCK_BYTES = 1 << 18
"""Lines are handed on in blocks this size: small enough that a line is decoded while it is still in
the CPU's cache (with 4 MiB blocks, reading, decoding and building the rows took 5.1 us a line against
4.3), large enough that the per-block work is nothing."""
PROGRESS_BYTES = 1 << 22
"""Progress is reported every this many bytes (a reader process reports over a pipe)."""

_Block = tuple[int, int | None, list[bytes]]
"""(line number before the block's first line, byte offset of its first line or None, its lines)."""

ProgressCallback = Callable[[int], None]
"""Called with the number of input bytes consumed since the last call."""


@dataclass
class ReadResult:
    """The requests read, and what could not be read."""

    requests: pl.DataFrame
    malformed: int = 0
    malformed_examples: list[Malformed] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was left out of the inputs and why: a file named twice, a link back up, a dangling link."""
    implausible_times: int = 0
    """Requests whose logged time is not a plausible one (kept, without a time: ``records.PLAUSIBLE_FROM``)."""
    first_implausible_time: tuple[str, int | None] | None = None
    """The source and line of the first of them."""


@dataclass
class _Batch:
    """Rows of one file waiting to become a polars frame: tuples, or for a format that builds its
    columns in bulk (``LogFormat.columns``), its records as decoded."""

    source: str
    has_offsets: bool = True
    rows: list[Any] = field(default_factory=list)
    """Rows not yet moved into ``columns`` (``settle``): within one run of ``format_runs``, all tuples, or
    for a format with ``columns`` all its decoded records."""
    columns: list[list[Any]] = field(default_factory=lambda: [[] for _ in SOURCE_COLUMNS])
    settled: int = 0
    """Rows in ``columns``."""
    lines: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    format_runs: list[tuple[int, LogFormat]] = field(default_factory=list)
    """(index of the first row, format) each time the format changes: formats rarely change."""

    @property
    def size(self) -> int:
        return self.settled + len(self.rows)

    def settle(self) -> None:
        """Move the waiting rows into the columns, or build the columns of the waiting records. The
        reader does it after each block of lines, while they are still in the CPU's cache: transposing
        a whole batch at once reads every row once per column across megabytes, and keeps every row
        (or record, and the line a record's raw JSON points into) alive until then."""
        if not self.rows:
            return
        end = self.size
        for run_start, run_end, log_format in self._runs(self.settled, end):
            waiting = self.rows[run_start - self.settled:run_end - self.settled]
            if log_format.columns is None:
                for column, values in zip(self.columns, zip(*waiting, strict=True), strict=True):
                    column.extend(values)
                continue
            built = log_format.columns(waiting)
            for name, column in zip(SOURCE_COLUMNS, self.columns, strict=True):
                values = built.get(name)
                column.extend(repeat(None, len(waiting)) if values is None else values)
        self.settled = end
        self.rows.clear()

    def frame(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The waiting rows as canonical requests, and the source and line of those whose timestamp
        is not a plausible time (``records.build_source_frame``)."""
        self.settle()
        size = self.settled
        formats = [repeated(log_format.name, end - start, pl.String())
                   for start, end, log_format in self._runs(0, size)]
        provenance: dict[str, Sequence[Any] | pl.Series] = {
            "source": repeated(self.source, size, pl.String()),
            "line": self.lines,
            "offset": self.offsets if self.has_offsets else [None] * size,
            "format": pl.concat(formats) if formats else pl.Series([], dtype=pl.String()),
        }
        built = build_source_frame(self.columns, provenance)
        last_format = self.format_runs[-1][1] if self.format_runs else None
        self.columns, self.settled = [[] for _ in SOURCE_COLUMNS], 0
        self.lines, self.offsets = [], []
        self.format_runs = [(0, last_format)] if last_format else []
        return built

    def _runs(self, start: int, end: int) -> list[tuple[int, int, LogFormat]]:
        """(first row, end, format) of each run of rows of one format between rows ``start`` and ``end``
        (a record holding no requests starts a run of none: left out)."""
        ends = [first for first, _ in self.format_runs[1:]] + [end]
        return [(max(first, start), min(last, end), log_format)
                for (first, log_format), last in zip(self.format_runs, ends, strict=True)
                if max(first, start) < min(last, end)]


@dataclass(frozen=True)
class _Mark:
    """How much the reader had read before a file: what the file adds is what lies past it."""

    frames: int
    malformed: int
    examples: int
    skipped: Counter[str]
    notes: int
    implausible_times: int
    had_implausible: bool
    batch_requests: int


@dataclass
class _BatchRequests:
    """Batch request lines, joined to their results by ``custom_id`` (result order != input order)."""

    custom_ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    offsets: list[int | None] = field(default_factory=list)

    def add(self, custom_id: str, source: str, offset: int | None) -> None:
        self.custom_ids.append(custom_id)
        self.sources.append(source)
        self.offsets.append(offset)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {"custom_id": self.custom_ids, "request_source": self.sources, "request_offset": self.offsets},
            schema={"custom_id": pl.String(), "request_source": pl.String(), "request_offset": pl.Int64()},
        ).unique("custom_id", keep="first")


@dataclass(frozen=True)
class ReaderConfig:
    """How to read logs; plain data, so a worker process can rebuild the same reader."""

    forced_format: str | None = None
    mapping_path: str | None = None
    strict: bool = False
    workers: int = 1
    fingerprint_prompts: bool = False
    """Read each request's prompt fingerprints (``prompts.py``): only cache simulations need them."""
    read_cache: str | None = None
    """Where to keep what each file read to (``read_cache.py``): a re-read parses only new or changed files."""
    since: datetime | None = None
    until: datetime | None = None
    """Keep only requests logged in [since, until) (``--since``/``--until``)."""

    def cache_settings(self) -> str:
        """What, besides a file's bytes, decides what it reads to."""
        mapping = None if self.mapping_path is None else hashlib.sha256(Path(self.mapping_path).read_bytes()).hexdigest()
        return json.dumps([self.forced_format, mapping, self.strict, self.fingerprint_prompts])

    def window(self) -> pl.Expr | None:
        """Whether a request's time lies in [since, until); None without a window."""
        if self.since is None and self.until is None:
            return None
        inside = pl.lit(True)
        if self.since is not None:
            inside &= pl.col("ts") >= self.since
        if self.until is not None:
            inside &= pl.col("ts") < self.until
        return inside.fill_null(False)

    def formats(self) -> tuple[LogFormat, ...]:
        formats = PROMPTED_FORMATS if self.fingerprint_prompts else FORMATS
        if self.mapping_path is None:
            return formats
        return (*formats, mapped_format(load_mapping(self.mapping_path)))

    def forced(self) -> LogFormat | None:
        if self.forced_format is None:
            return None
        known = {log_format.name: log_format for log_format in self.formats()}
        if self.forced_format not in known:
            raise UsageError(f"unknown format {self.forced_format!r}; known formats: {', '.join(known)}")
        return known[self.forced_format]


class LogReader:
    """Reads many log files into canonical requests, keeping count of what it could not read: all at
    once (``read``) or a segment at a time while it goes on reading (``segments``)."""

    def __init__(self, config: ReaderConfig = ReaderConfig(), on_progress: ProgressCallback | None = None,
                 segment_rows: int | None = None) -> None:
        self._config = config
        self._formats = config.formats()
        self._forced = config.forced()
        self._strict = config.strict
        self._on_progress = on_progress or (lambda consumed: None)
        self._generic = msgspec.json.Decoder()
        self._result = ReadResult(requests=empty_requests())
        self._batch_requests = _BatchRequests()
        self._segment_rows = segment_rows
        self._file_frames: list[pl.DataFrame] = []
        """The current file's rows, kept for the read cache (only with one)."""
        self.cache = None if config.read_cache is None else ReadCache(config.read_cache, config.cache_settings())

    @property
    def result(self) -> ReadResult:
        """What could not be read, the formats and the notes (complete once the reading is done)."""
        return self._result

    def read(self, paths: Iterable[str]) -> ReadResult:
        """Every request, in one frame."""
        frames: list[pl.DataFrame] = []
        self._read_all(paths, frames.append)
        self._result.requests = pl.concat(frames, how="vertical", rechunk=False) if frames else empty_requests()
        if (note := repeated_ids_note(self._result.requests.lazy())) is not None:
            self._result.notes.append(note)
        return self._result

    def segments(self, paths: Iterable[str]) -> Iterator[pl.DataFrame]:
        """The requests a segment at a time (of ``segment_rows``, or one), finished while the next ones
        are read: reading runs in a thread (it spends its time in msgspec and polars, or waiting for the
        reader processes) and hands each segment over a short queue, so at most a few are in memory."""
        handover: queue.Queue[object] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def put(item: object) -> None:
            while not stop.is_set():
                with suppress(queue.Full):
                    handover.put(item, timeout=0.1)
                    return
            raise _Abandoned

        def produce() -> None:
            try:
                self._read_all(paths, put)
                put(_DONE)
            except _Abandoned:
                pass
            except BaseException as error:  # noqa: BLE001 (handed to the consumer, raised there)
                with suppress(_Abandoned):
                    put(_Failed(error))

        thread = threading.Thread(target=produce, name="routecost-reader", daemon=True)
        thread.start()
        try:
            while (item := handover.get()) is not _DONE:
                if isinstance(item, _Failed):
                    raise item.error
                yield cast(pl.DataFrame, item)
        finally:
            stop.set()

    def _read_all(self, paths: Iterable[str], emit: Callable[[pl.DataFrame], None]) -> None:
        inputs = find_inputs(paths)
        self._result.notes.extend(inputs.summary())
        read_ahead(inputs.files)  # small objects in object storage fetched a few ahead (``objectstore.py``)
        count_rows = self._on_progress
        if any(map(is_database_url, inputs.files)):  # the progress bar counts database rows (cli._progress)
            self._on_progress = lambda consumed: None
        self._segmenter = Segmenter(
            emit, self._segment_rows, self._config.window(), self._result.skipped, self._result.formats,
            self._malformed, lambda: self._batch_requests.frame() if self._batch_requests.custom_ids else None)
        self._sink = self._segmenter.add
        with self._processes() as processes:
            for source in inputs.files:
                if is_database_url(source):
                    self._read_database(source, count_rows)
                else:
                    self._result.sources.append(source)
                    self._read_file(source, processes)
                self._segmenter.end_of_file()
        if self.cache is not None and (self.cache.hits or self.cache.skipped):
            self._result.notes.append(
                f"read cache {self.cache.directory}: {len(self.cache.misses)} files read, {len(self.cache.hits)} "
                f"taken as read before, {len(self.cache.skipped)} skipped (wholly outside --since/--until)")
        self._segmenter.close()

    @contextmanager
    def _processes(self) -> Iterator[Callable[[], ReaderProcesses]]:
        """The reader processes, started for the first file read in parallel and kept for the next
        ones (each start costs a second or more: a month of daily files paid it daily), closed once
        every file is read."""
        started: list[ReaderProcesses] = []

        def processes() -> ReaderProcesses:
            if not started:
                started.append(reader_processes(self._config.workers))
            return started[0]

        try:
            yield processes
        except BaseException:  # a reader may still be reading: wait for it, so none writes after this
            for pool in started:
                pool.close()
            raise
        for pool in started:
            pool.close(wait=False)

    def _read_file(self, source: str, processes: Callable[[], ReaderProcesses]) -> None:
        """One file: from the read cache when it holds it as it is now, else read (and kept there)."""
        identity = None if self.cache is None else Identity.of(source)
        if identity is not None and self._from_cache(source, identity):
            return
        self._file_frames = []
        mark = self._mark()
        if self._config.workers > 1 and splittable(source):
            self._read_in_parallel(source, processes())
        else:
            self._read_source(source)
        if identity is not None and self.cache is not None:
            self.cache.save(source, identity, self._part_since(mark, source))

    def _read_database(self, url: str, count_rows: ProgressCallback) -> None:
        """The rows of LiteLLM's SpendLogs table (``database.py``), each parsed as the ``litellm-spendlog``
        record it is; a bad row is malformed and named by its request_id. Rows have no byte offset: their
        texts are not read back (as for stdin)."""
        from routecost.database import DatabaseUrl, spend_log_rows
        from routecost.sources.litellm import SPEND_LOG

        database = DatabaseUrl.parse(url)
        self._result.sources.append(database.display)
        batch = _Batch(source=database.display, has_offsets=False, format_runs=[(0, SPEND_LOG)])
        decode, to_row, number = SPEND_LOG.decoder.decode, SPEND_LOG.to_row, 0
        with _gc_paused(), closing(spend_log_rows(database, self._config.since, self._config.until)) as blocks:
            for block in blocks:
                for request_id, record in block:
                    number += 1
                    try:
                        row = to_row(decode(record))
                    except NotARequest as error:
                        self._result.skipped[error.reason] += 1
                        continue
                    except (msgspec.ValidationError, msgspec.DecodeError, RecordError, RecursionError) as error:
                        field_path, problem = (
                            (error.field_path, error.problem) if isinstance(error, RecordError)
                            else split_validation_error(str(error)) if isinstance(error, msgspec.ValidationError)
                            else (None, f"invalid JSON ({error})"))
                        self._malformed(Malformed(f"{database.display} request_id {request_id}", None, field_path,
                                                  f"{problem} ({SPEND_LOG.name} row)"))
                        continue
                    batch.rows.append(row)
                    batch.lines.append(number)
                    batch.offsets.append(0)
                count_rows(len(block))
                if batch.size >= CHUNK_ROWS:
                    self._add_frame(batch)
        if batch.size:
            self._add_frame(batch)
        if number == 0:
            window = " in --since/--until" if self._config.since or self._config.until else ""
            self._result.notes.append(f"{database.display}: no rows in {database.table_name}{window}")

    def _mark(self) -> _Mark:
        return _Mark(len(self._file_frames), self._result.malformed, len(self._result.malformed_examples),
                     Counter(self._result.skipped), len(self._result.notes), self._result.implausible_times,
                     self._result.first_implausible_time is not None, len(self._batch_requests.custom_ids))

    def _part_since(self, mark: _Mark, source: str) -> FilePart:
        """What reading ``source`` added since ``mark``, to keep in the read cache."""
        frames = self._file_frames[mark.frames:]
        first = self._result.first_implausible_time
        return FilePart(
            frame=pl.concat(frames, how="vertical") if frames else empty_requests(),
            malformed=self._result.malformed - mark.malformed,
            examples=[(example.source, example.line, example.field, example.problem)
                      for example in self._result.malformed_examples[mark.examples:]],
            skipped=self._result.skipped - mark.skipped,
            notes=self._result.notes[mark.notes:],
            implausible_times=self._result.implausible_times - mark.implausible_times,
            first_implausible_line=first[1] if first is not None and not mark.had_implausible else None,
            batch_requests=list(zip(self._batch_requests.custom_ids[mark.batch_requests:],
                                    self._batch_requests.offsets[mark.batch_requests:], strict=True)),
        )

    def _from_cache(self, source: str, identity: Identity) -> bool:
        """Take a file's rows and counts from the read cache, if it holds them as the file is now (or
        knows the file lies wholly outside the window); False to read it."""
        assert self.cache is not None
        outside = self.cache.outside(source, self._config.since, self._config.until)
        if outside is not None:
            self._result.skipped[OUTSIDE_WINDOW] += outside
            self._on_progress(identity.size)
            return True
        part = self.cache.load(source)
        if part is None:
            return False
        self._fold(source, part)
        self._on_progress(identity.size)
        return True

    def _fold(self, source: str, part: FilePart) -> None:
        """Add what a file, or a part of it read by another process, read to: the inverse of
        ``_part_since``."""
        self._take(part.frame)
        self._result.malformed += part.malformed
        room = MAX_EXAMPLES - len(self._result.malformed_examples)
        self._result.malformed_examples.extend(Malformed(*example) for example in part.examples[:room])
        self._result.skipped.update(part.skipped)
        self._result.notes.extend(part.notes)
        if part.implausible_times:
            self._note_implausible_times(part.implausible_times, source, part.first_implausible_line)
        for custom_id, offset in part.batch_requests:
            self._batch_requests.add(custom_id, source, offset)

    def _read_in_parallel(self, source: str, processes: ReaderProcesses) -> None:
        """Read a large file's byte ranges in the reader processes."""
        with ranges_in_order(source, self._config, self._on_progress, processes, _read_range_in_worker) as ranges:
            self._merge_ranges(source, ranges)

    def read_range(self, source: str, start: int, end: int, spool: str) -> RangeResult:
        """Read one byte range of a file (in a worker process); line numbers relative to ``start``.
        The rows are written to Arrow IPC files in ``spool``, a part at a time."""
        spill = Spill(os.path.join(spool, str(start)))
        self._sink, self.cache = spill.add, None
        batch = _Batch(source=source)
        try:
            with _gc_paused():
                line_count, _ = self._read_records(
                    batch, _json_records(source, self._on_progress, self._bad_line(batch.source), start, end),
                    lenient=False,
                )
        except InputError as error:
            return RangeResult(fatal=Malformed(error.source, error.line, error.field, error.problem))
        if batch.size:
            self._add_frame(batch)
        spill.close()
        return RangeResult(
            parts=spill.parts,
            line_count=line_count,
            malformed=self._result.malformed,
            examples=self._result.malformed_examples,
            skipped=self._result.skipped,
            implausible_times=self._result.implausible_times,
            first_implausible_line=None if self._result.first_implausible_time is None
            else self._result.first_implausible_time[1],
            batch_custom_ids=self._batch_requests.custom_ids,
            batch_offsets=self._batch_requests.offsets,
        )

    def _merge_ranges(self, source: str, ranges: Iterable[RangeResult]) -> None:
        """Fold the workers' results back in file order, as they come, shifting their line numbers."""
        lines_before = 0
        for part in ranges:
            if part.fatal is not None:
                fatal = part.fatal
                raise InputError(fatal.source, (fatal.line or 0) + lines_before, fatal.field, fatal.problem)
            self._fold(source, FilePart(
                frame=empty_requests(), malformed=part.malformed,
                examples=[(e.source, None if e.line is None else e.line + lines_before, e.field, e.problem)
                          for e in part.examples],
                skipped=part.skipped, implausible_times=part.implausible_times,
                first_implausible_line=None if part.first_implausible_line is None
                else part.first_implausible_line + lines_before,
                batch_requests=list(zip(part.batch_custom_ids, part.batch_offsets, strict=True))))
            for spilled in part.parts:
                self._take(load_part(spilled).with_columns(pl.col("line") + lines_before))
            lines_before += part.line_count
        if lines_before == 0:
            self._result.notes.append(f"{source}: empty: no log records")

    def _read_source(self, source: str) -> None:
        if is_parquet(source):
            self._read_parquet(source)
            return
        batch = _Batch(source=STDIN_NAME if source == STDIN else source)
        before, malformed_before = Identity.of(source), self._result.malformed
        with _gc_paused():
            if is_csv(source) or (source == STDIN and _stdin_is_csv()):
                rows = _csv_records(source, self._on_progress, self._bad_line(batch.source))
                lines, blank = self._read_records(batch, rows, lenient=True)
            else:
                records = _json_records(source, self._on_progress, self._bad_line(batch.source))
                lines, blank = self._read_records(batch, records, lenient=False)
        if batch.size:
            self._add_frame(batch)
        if lines == blank and self._result.malformed == malformed_before:
            self._result.notes.append(f"{batch.source}: empty: no log records")
        after = Identity.of(source)
        if before != after and before is not None and after is not None:
            self._result.notes.append(
                f"{source}: changed while it was read ({before.size:,} bytes, then {after.size:,}): its counts may mix "
                "two versions of it; read it again once it is complete")

    def _read_parquet(self, source: str) -> None:
        """A Parquet file (``parquet.py``): canonical columns taken as they are, or rows of a known
        format parsed as its records."""
        from routecost.paths import input_size
        from routecost.sources.parquet import canonical_frames, is_canonical, record_lines

        try:
            canonical = is_canonical(source)
        except (OSError, pl.exceptions.PolarsError) as error:
            raise InputError(source, None, None, f"not a readable Parquet file ({error})") from None
        if canonical:
            for frame in canonical_frames(source):
                self._take(frame)
        else:
            batch = _Batch(source=source, has_offsets=False)
            with _gc_paused():
                self._read_records(batch, record_lines(source), lenient=False)
            if batch.size:
                self._add_frame(batch)
        self._on_progress(input_size(source))  # (an object's size as listed: ``objectstore.py``)

    def _bad_line(self, source: str) -> BadLine:
        return lambda line, problem: self._malformed(Malformed(source, line, None, problem))

    def _add_frame(self, batch: _Batch) -> None:
        frame, implausible = batch.frame()
        self._take(frame)
        if implausible.height:
            self._note_implausible_times(implausible.height, *implausible.row(0))

    def _take(self, frame: pl.DataFrame) -> None:
        """Rows read, on to the segments (and kept for the read cache, with one)."""
        if self.cache is not None:
            self._file_frames.append(frame)
        self._sink(frame)

    def _note_implausible_times(self, count: int, source: str, line: int | None) -> None:
        self._result.implausible_times += count
        if self._result.first_implausible_time is None:
            self._result.first_implausible_time = (source, line)

    def _read_records(self, batch: _Batch, blocks: Iterator[_Block], *, lenient: bool) -> tuple[int, int]:
        """The hot loop: decode each line with the current format's struct, detect only on a miss.

        Kept tight on purpose (locals, no per-line branching beyond the try): at a million lines,
        every attribute look-up here costs a second. A block of lines of the current format is decoded
        in one comprehension, its line numbers and offsets computed in bulk; a block with a miss is
        read again line by line (nothing of the first try kept), and so is the next one, until a block
        goes through without a miss. Returns the numbers of lines and of blank lines."""
        current = self._forced or _UNDETECTED
        decode, to_row = _bound(current, lenient)
        run_format: LogFormat | None = None
        rows, lines, offsets = batch.rows, batch.lines, batch.offsets
        line_number = blank_lines = 0
        whole_blocks = True
        for line_number, offset, block in blocks:
            if not block:
                continue
            if offset is None:
                batch.has_offsets, offset = False, 0
            read_whole = whole_blocks and current is run_format and current.kind == "request"
            if read_whole:
                try:  # the common case: a block of lines of the format read so far, in one comprehension
                    rows.extend([to_row(decode(data)) for data in block])
                except _MISSES:
                    read_whole = False  # decoded again line by line below
                else:
                    lines.extend(range(line_number + 1, line_number + 1 + len(block)))
                    offsets.extend(accumulate(map(len, block[:-1]), initial=offset))
                    line_number += len(block)
            if not read_whole:
                whole_blocks = True  # the next block is tried whole again unless this one has a miss
                for data in block:
                    line_number += 1
                    try:
                        row = to_row(decode(data))
                        row_format = current
                    except _MISSES:
                        whole_blocks = False
                        if data.isspace():
                            blank_lines += 1
                            offset += len(data)
                            continue
                        detected, row = self._slow_path(batch.source, line_number, data, lenient)
                        if detected is None:
                            offset += len(data)
                            continue
                        row_format = detected
                        if row_format.sticky and current is not row_format:
                            current = row_format
                            decode, to_row = _bound(current, lenient)
                    if row_format.kind == "batch_request":
                        self._batch_requests.add(row, batch.source, offset if batch.has_offsets else None)
                    else:
                        if row_format is not run_format:
                            batch.format_runs.append((batch.settled + len(rows), row_format))
                            run_format = row_format
                        if row_format.kind == "requests":
                            self._add_held(batch, row, line_number, offset)
                        else:
                            rows.append(row)
                            lines.append(line_number)
                            offsets.append(offset)
                    offset += len(data)
            batch.settle()
            if batch.settled >= CHUNK_ROWS:
                self._add_frame(batch)
                lines, offsets = batch.lines, batch.offsets
        return line_number, blank_lines

    def _add_held(self, batch: _Batch, held: Rows, line_number: int, offset: int) -> None:
        """The requests one record holds, all at its line; and what it held that was not one."""
        batch.rows.extend(held.rows)
        batch.lines.extend([line_number] * len(held.rows))
        batch.offsets.extend([offset] * len(held.rows))
        self._result.skipped.update(held.skipped)
        for field_path, problem in held.malformed:
            self._malformed(Malformed(batch.source, line_number, field_path, problem))
        if not held.rows and not held.skipped and not held.malformed:
            self._result.skipped[EMPTY_RECORD] += 1

    def _slow_path(self, source: str, line_number: int, data: bytes, lenient: bool) -> tuple[LogFormat | None, Any]:
        """Detect the line's format from its keys and decode it, or record why it is malformed."""
        try:
            record = self._generic.decode(data)
        except msgspec.DecodeError as error:
            return self._reject(source, line_number, None, f"invalid JSON ({error})")
        except UnicodeDecodeError as error:
            return self._reject(source, line_number, None, f"not UTF-8 text (byte {error.start})")
        except RecursionError:
            return self._reject(source, line_number, None, TOO_DEEP)
        if not isinstance(record, dict):
            return self._reject(source, line_number, None, "not a JSON object")
        log_format = self._forced or next((f for f in self._formats if f.matches(record)), None)
        if log_format is None:
            keys = ", ".join(sorted(record)[:8])
            return self._reject(source, line_number, None, f"no known log format matches (keys: {keys})")
        try:
            decode, to_row = _bound(log_format, lenient)
            return log_format, to_row(decode(data))
        except msgspec.ValidationError as error:
            field_path, problem = split_validation_error(str(error))
            return self._reject(source, line_number, field_path, f"{problem} ({log_format.name} record)")
        except RecordError as error:
            return self._reject(source, line_number, error.field_path, f"{error.problem} ({log_format.name} record)")
        except NotARequest as error:
            self._result.skipped[error.reason] += 1
            return None, None
        except RecursionError:
            return self._reject(source, line_number, None, f"{TOO_DEEP} ({log_format.name} record)")

    def _reject(self, source: str, line: int, field_path: str | None, problem: str) -> tuple[None, None]:
        self._malformed(Malformed(source, line, field_path, problem))
        return None, None

    def _malformed(self, malformed: Malformed) -> None:
        if self._strict:
            raise InputError(malformed.source, malformed.line, malformed.field, malformed.problem)
        self._result.malformed += 1
        if len(self._result.malformed_examples) < MAX_EXAMPLES:
            self._result.malformed_examples.append(malformed)

def _read_range_in_worker(source: str, start: int, end: int, config: ReaderConfig, spool: str) -> RangeResult:
    """In a reader process: one byte range of a file, read as the parent would read it."""
    from routecost.workers import report_progress

    return LogReader(config, on_progress=report_progress).read_range(source, start, end, spool)


class _Abandoned(Exception):
    """The consumer of ``LogReader.segments`` stopped taking segments (it failed, or was interrupted)."""


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_DONE = object()


_MISSES = (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecordError, NotARequest, RecursionError)
"""What a line that does not fit the current format raises on the fast path."""


def _always_miss(value: Any) -> Any:
    raise msgspec.DecodeError("no format detected yet")


_UNDETECTED = LogFormat(name="undetected", struct=msgspec.Raw, matches=lambda record: False, to_row=_always_miss)
"""The reader's current format before the first record is detected: every line misses the fast path."""


def _bound(log_format: LogFormat, lenient: bool) -> tuple[Callable[[bytes], Any], Callable[[Any], Any]]:
    """The format's decode, and what the reader keeps of a decoded record: its row, or the record
    itself when the format builds its columns in bulk (``_Batch.settle``)."""
    decoder = log_format.lenient_decoder if lenient else log_format.decoder
    return decoder.decode, _kept if log_format.columns is not None else log_format.to_row


def _kept(record: Any) -> Any:
    return record


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading: rows are tuples, never cycles, and a
    collection pass over a million young objects costs more than the parse."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


BinaryInput = io.BufferedReader | gzip.GzipFile


def open_binary(source: str) -> BinaryInput:
    """The source's bytes, gunzipped when it is gzip (by content, not by name)."""
    if source == STDIN:
        return _maybe_gunzip(cast(io.BufferedReader, sys.stdin.buffer))
    if is_remote(source):  # an object in s3://, gs://, az://: streamed, seekable (``objectstore.py``)
        return _maybe_gunzip(open_object(source))
    try:
        handle = open(source, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    except OSError as error:
        raise UsageError(f"{source}: cannot read: {error.strerror or error}") from None
    return _maybe_gunzip(handle)


def _maybe_gunzip(handle: io.BufferedReader) -> BinaryInput:
    if handle.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle)
    return handle


def _raw_position(handle: BinaryInput) -> int:
    """Bytes consumed from disk (the compressed position for gzip), for the progress bar."""
    inner = getattr(handle, "fileobj", None)
    try:
        return (inner or handle).tell()
    except (OSError, ValueError):
        return 0


MAX_RECORD_BYTES = 64 * 1024 * 1024
"""The longest line read as one record; a longer one (a gzip bomb can unpack to gigabytes with no
newline) is malformed and skipped, in pieces, without being held."""
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
"""The largest whole-file JSON document (a ``.json`` array, a HAR capture) read, after unpacking."""

BadLine = Callable[[int, str], None]
"""Told the number of a line that cannot be read as a record, and why."""


def _json_records(
    source: str, on_progress: ProgressCallback, bad_line: BadLine, start: int = 0, end: int | None = None
) -> Iterator[_Block]:
    """Blocks of JSONL lines, each with the line number and byte offset just before its first line.

    Reading lines in blocks keeps the per-line Python work to the decode. A file holding one JSON
    document (a top-level array, or ``{"data": [...]}`` as API dumps have) yields its items instead,
    numbered from 1 and without offsets. A line over ``MAX_RECORD_BYTES`` goes to ``bad_line``.
    """
    name = STDIN_NAME if source == STDIN else source
    with open_binary(source) as handle:
        try:
            skipped = _skip_byte_order_mark(handle, name) if start == 0 else 0
            first = handle.peek(1)[:1]
            if start == 0 and (first == b"[" or (is_document(source) and first == b"{")):
                yield _document_block(handle.read(MAX_DOCUMENT_BYTES + 1), name)
                return
            if start:
                handle.seek(start)
            remaining = -1 if end is None else end - start
            line_number, offset, reported = 0, start + skipped, start
            for lines in _line_blocks(handle):
                if isinstance(lines, int):  # a line too long to be a record, skipped
                    line_number += 1
                    bad_line(line_number, f"a line over {MAX_RECORD_BYTES >> 20} MiB: too long to be one record")
                    offset += lines
                    remaining -= lines if remaining >= 0 else 0
                    continue
                if remaining >= 0:
                    lines = _within(lines, remaining)
                    if not lines:
                        break
                    remaining -= sum(map(len, lines))
                yield line_number, offset, lines
                line_number += len(lines)
                offset += sum(map(len, lines))
                if offset - reported >= PROGRESS_BYTES:
                    reported = _report_progress(handle, on_progress, reported, end)
            _report_progress(handle, on_progress, reported, end)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise UsageError(f"{name}: cannot read: {error}") from None


def _report_progress(handle: BinaryInput, on_progress: ProgressCallback, reported: int, end: int | None) -> int:
    """Report the bytes read from disk since ``reported`` (not past the range's ``end``); the new mark."""
    position = _raw_position(handle)
    if end is not None:
        position = min(position, end)
    on_progress(max(position - reported, 0))
    return max(position, reported)


def _line_blocks(handle: BinaryInput) -> Iterator[list[bytes] | int]:
    """Lines in blocks of about ``READ_BLOCK_BYTES``; in place of a line over ``MAX_RECORD_BYTES``,
    its length (it is read in pieces and dropped)."""
    readline = handle.readline
    while True:
        lines: list[bytes] = []
        size = 0
        while size < READ_BLOCK_BYTES:
            line = readline(MAX_RECORD_BYTES)
            if not line:
                break
            if len(line) == MAX_RECORD_BYTES and not line.endswith(b"\n"):
                if lines:
                    yield lines
                    lines, size = [], 0
                yield len(line) + skip_line(readline, MAX_RECORD_BYTES)
                continue
            lines.append(line)
            size += len(line)
        if not lines:
            return
        yield lines


def _document_block(content: bytes, name: str) -> _Block:
    """A whole-file document's items as one block; read as JSON lines when it is not one JSON value
    (each bad line is then its own malformed record)."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{name}: a JSON document over {MAX_DOCUMENT_BYTES >> 30} GiB (unpacked): too large to read "
                         "whole; write its records as JSON lines, one per line")
    items = _document_items(content)
    return (0, None, items) if items is not None else (0, 0, content.splitlines(keepends=True))


def _within(lines: list[bytes], remaining: int) -> list[bytes]:
    """The leading lines that fit in the bytes left of a range (ranges end at line boundaries)."""
    total = 0
    for count, line in enumerate(lines):
        total += len(line)
        if total > remaining:
            return lines[:count]
    return lines


class _DataDocument(msgspec.Struct):
    data: list[msgspec.Raw]


def _document_items(content: bytes) -> list[bytes] | None:
    """The records of a whole-file JSON document, or None when it is not one JSON value (JSON lines)."""
    try:
        msgspec.json.decode(content, type=msgspec.Raw)  # one JSON value (a shape check alone stops early)
    except (msgspec.DecodeError, RecursionError):
        return None
    try:
        document = msgspec.json.decode(content, type=list[msgspec.Raw] | _DataDocument)
    except msgspec.ValidationError:
        return [content]
    return [bytes(item) for item in (document.data if isinstance(document, _DataDocument) else document)]


CSV_CELL_LIMIT = 16 * 1024 * 1024
"""The largest CSV cell read (a prompt in an export can be long); a row with a larger one is malformed."""


def _csv_records(source: str, on_progress: ProgressCallback, bad_row: BadLine) -> Iterator[_Block]:
    """CSV rows as JSON objects, one per block (a quoted cell may span lines, so each row carries
    the line it starts on): empty cells dropped, JSON-looking cells (objects, arrays) parsed. A row
    the csv module cannot read (a cell over ``CSV_CELL_LIMIT``, a NUL byte) is ``bad_row``, and the
    rows after it are read."""
    name = STDIN_NAME if source == STDIN else source
    csv.field_size_limit(CSV_CELL_LIMIT)
    with open_binary(source) as handle:
        _skip_byte_order_mark(handle, name)
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        reader = csv.DictReader(text)
        try:
            reader.fieldnames  # noqa: B018 - reads the header row, so line_num counts it
            previous_end = reader.line_num
            rows = iter(reader)
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error as error:
                    bad_row(previous_end + 1, f"cannot read this CSV row ({error})")
                    previous_end = reader.line_num
                    continue
                record = {key: _csv_cell(value) for key, value in row.items() if key and value not in (None, "")}
                yield previous_end, None, [msgspec.json.encode(record)]
                previous_end = reader.line_num
        except (csv.Error, UnicodeDecodeError) as error:
            raise InputError(name, reader.line_num, None, f"cannot read CSV ({error})") from None
        on_progress(_raw_position(handle))


_UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_MARKS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _skip_byte_order_mark(handle: BinaryInput, name: str) -> int:
    """Skip a UTF-8 byte-order mark (some editors and Windows exports write one); UTF-16 or UTF-32
    text is a one-line error saying so. Returns the bytes skipped."""
    head = handle.peek(4)[:4]
    if head.startswith(_UTF8_BOM):
        handle.read(len(_UTF8_BOM))
        return len(_UTF8_BOM)
    wide = _WIDE_MARKS.get(head[:2])
    if wide is None and len(head) >= 2 and (head[1:2] == b"\x00" or head[:1] == b"\x00"):
        wide = "UTF-16 or UTF-32"
    if wide is not None:
        raise UsageError(f"{name}: {wide} text; routecost reads UTF-8: convert it first "
                         f"(e.g. iconv -f UTF-16 -t UTF-8 {name} > {name}.utf8)")
    return 0


def _stdin_is_csv() -> bool:
    """Whether standard input holds CSV rather than JSON (which starts with ``{`` or ``[``)."""
    head = sys.stdin.buffer.peek(256)
    if head[:2] == b"\x1f\x8b":  # gzip: read as JSON lines, as before (peeking inside would consume it)
        return False
    head = head.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    return bool(head) and head[:1] not in (b"{", b"[")


def _csv_cell(value: str) -> Any:
    stripped = value.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            return msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            return value
    return value


def read_logs(
    paths: Iterable[str], config: ReaderConfig = ReaderConfig(), on_progress: ProgressCallback | None = None
) -> ReadResult:
    """Read log files (or ``-`` for stdin) into canonical requests."""
    return LogReader(config, on_progress).read(paths)
