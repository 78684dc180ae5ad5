"""Parquet logs, two kinds:

- a table of **canonical columns** (``model``, ``input_tokens``, ``output_tokens``, and any others of
  ``records.CANONICAL_SCHEMA``: what ``--per-request FILE.parquet`` writes, or a warehouse export named
  so) is read column-wise, only those columns (projection pushdown), in row groups;
- a table whose rows are the **records of a known format**, flattened (one column per top-level
  field, nested ones as structs or JSON text: LiteLLM's SpendLogs exported from its database, a
  Langfuse or OpenTelemetry export), is read in batches and each row parsed as that format's record,
  exactly as a JSON line would be.

Rows have no byte offset (their texts are not read back), unless a canonical table carries the
``source`` and ``offset`` of the log it was read from (a ``--per-request`` file), which are kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import polars as pl

from routecost.records import CANONICAL_SCHEMA, STATUS_OK

CANONICAL_MARKERS = ("model", "input_tokens", "output_tokens")
"""Columns that make a table one of canonical columns."""
ABSENT: dict[str, object] = {"status": STATUS_OK, "tokens_estimated": False}
"""What a table without these columns means: its requests succeeded, with the tokens it gives."""
BATCH_ROWS = 20_000
PARQUET_FORMAT = "parquet"
"""The ``format`` of canonical rows read from a Parquet file that does not name their own."""


def is_canonical(path: str) -> bool:
    return set(CANONICAL_MARKERS) <= set(pl.read_parquet_schema(path))


def canonical_frames(path: str) -> Iterator[pl.DataFrame]:
    """The file's canonical columns in batches, cast to the canonical types; columns it lacks are
    null, and rows without their own provenance are named by the file and row number."""
    schema = pl.read_parquet_schema(path)
    present = [name for name in CANONICAL_SCHEMA if name in schema]
    own_provenance = "source" in schema
    first_line = 1
    for batch in pl.scan_parquet(path).select(present).collect_batches(chunk_size=BATCH_ROWS):
        provenance = {"source": pl.lit(path), "line": pl.int_range(first_line, first_line + batch.height),
                      "offset": pl.lit(None), "format": pl.lit(PARQUET_FORMAT)}
        yield batch.select(*(
            (provenance[name] if name in provenance and not own_provenance else _column(name, schema))
            .cast(dtype, strict=False).alias(name)
            for name, dtype in CANONICAL_SCHEMA.items()
        ))
        first_line += batch.height


def _column(name: str, schema: pl.Schema) -> pl.Expr:
    """A canonical column as the file has it: null when it has none; ``metadata`` as JSON text; a
    time without a zone read as UTC."""
    dtype = schema.get(name)
    if dtype is None:
        return pl.lit(ABSENT.get(name))
    if name == "metadata" and isinstance(dtype, pl.Struct):
        return pl.col(name).struct.json_encode()
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        return pl.col(name).dt.replace_time_zone("UTC")
    return pl.col(name)


def record_lines(path: str) -> Iterator[tuple[int, None, list[bytes]]]:
    """The file's rows as JSON records, in blocks: (rows before the block, no offset, its lines)."""
    encode = msgspec.json.Encoder().encode
    before = 0
    for batch in pl.scan_parquet(path).collect_batches(chunk_size=BATCH_ROWS):
        lines = [encode({key: value for key, value in row.items() if value is not None})
                 for row in batch.iter_rows(named=True)]
        yield before, None, lines
        before += len(lines)
