"""The text of logged requests, read back from the log files when it is needed.

The reader keeps only a way back to each record (file and byte offset, and for batch results the
offset of the request line they were joined to); prompt text is read only for the rows that need
it: requests without usage, and policies with prompt conditions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import polars as pl

from routecost.paths import STDIN_NAME
from routecost.sources import FORMATS_BY_NAME, RequestText
from routecost.sources.reader import open_binary


@dataclass(frozen=True)
class TextRef:
    """Where a request's record (and, for batch results, its request line) lives."""

    source: str
    offset: int
    format: str
    request_source: str | None
    request_offset: int | None

    @classmethod
    def of(cls, requests: pl.DataFrame) -> list[TextRef | None]:
        """A reference per request; None where the record cannot be read back (stdin, CSV)."""
        return [
            None if offset is None or source == STDIN_NAME else cls(source, offset, fmt, request_source, request_offset)
            for source, offset, fmt, request_source, request_offset in requests.select(
                "source", "offset", "format", "request_source", "request_offset"
            ).iter_rows()
        ]


def read_texts(refs: Sequence[TextRef | None]) -> list[RequestText | None]:
    """The text of each referenced record (None where it cannot be read back), in the given order."""
    present = [ref for ref in refs if ref is not None]
    records = _records_at({(ref.source, ref.offset) for ref in present} | {
        (ref.request_source, ref.request_offset)
        for ref in present
        if ref.request_source is not None and ref.request_offset is not None
    })
    return [None if ref is None else _text(ref, records) for ref in refs]


def text_columns(requests: pl.DataFrame, texts: Sequence[RequestText | None] | None = None) -> pl.DataFrame:
    """The last user message and the system prompt of every request (null where not logged), from
    their ``texts`` when these have been read already."""
    texts = read_texts(TextRef.of(requests)) if texts is None else texts
    return pl.DataFrame(
        {
            "last_user_message": [None if text is None else text.last_user_message or None for text in texts],
            "system_prompt": [None if text is None else text.system or None for text in texts],
        },
        schema={"last_user_message": pl.String(), "system_prompt": pl.String()},
    )


def _text(ref: TextRef, records: Mapping[tuple[str, int], Any]) -> RequestText | None:
    record = records.get((ref.source, ref.offset))
    log_format = FORMATS_BY_NAME.get(ref.format)
    if record is None or log_format is None:
        return None
    text = log_format.texts(record)
    if ref.request_source is None or ref.request_offset is None:
        return text
    request = records.get((ref.request_source, ref.request_offset))
    if request is None:
        return text
    asked = _request_text(request)
    return RequestText(system=asked.system, messages=asked.messages, answer=text.answer)


def _request_text(record: Mapping[str, Any]) -> RequestText:
    """The text of a batch request line, whichever provider's batch file it came from."""
    for log_format in FORMATS_BY_NAME.values():
        if log_format.kind == "batch_request" and log_format.matches(record):
            return log_format.texts(record)
    return RequestText()


def _records_at(locations: set[tuple[str | None, int | None]]) -> dict[tuple[str, int], Any]:
    """Decode the JSON records at the given (file, byte offset) locations, one pass per file."""
    by_source: dict[str, list[int]] = {}
    for source, offset in locations:
        if source is not None and offset is not None and source != STDIN_NAME:
            by_source.setdefault(source, []).append(offset)
    decoder = msgspec.json.Decoder()
    records: dict[tuple[str, int], Any] = {}
    for source, offsets in by_source.items():
        for offset, line in _lines_at(source, sorted(offsets)):
            try:
                records[(source, offset)] = decoder.decode(line)
            except msgspec.DecodeError:
                continue
    return records


def _lines_at(source: str, offsets: list[int]) -> Iterator[tuple[int, bytes]]:
    """The lines starting at the given sorted offsets (seeking; gzip streams forward)."""
    with open_binary(source) as handle:
        for offset in offsets:
            handle.seek(offset)
            yield offset, handle.readline()
