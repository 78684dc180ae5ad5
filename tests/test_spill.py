"""A reader process's parts: written without their single-valued columns, loaded back whole."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from routecost.records import CANONICAL_SCHEMA
from routecost.sources.spill import Spill, load_part, single_valued

WHEN = datetime(2026, 10, 1, 12, 30, tzinfo=UTC)


def requests(rows: int) -> pl.DataFrame:
    """Canonical requests: one file and format, one time, varying lines, ids and token counts; a
    latency of 0.0 and -0.0, and floats and lists that hold one value throughout."""
    values = {
        "source": ["a.jsonl"] * rows, "line": list(range(1, rows + 1)), "format": ["openai-chat"] * rows,
        "request_id": [f"r{index}" for index in range(rows)], "ts": [WHEN] * rows, "model": ["gpt-4o" if index < 200_000 else "gpt-4o-mini" for index in range(rows)],
        "input_tokens": [100 + index for index in range(rows)], "output_tokens": [7] * rows,
        "latency_ms": [0.0 if index % 2 else -0.0 for index in range(rows)], "temperature": [0.5] * rows,
        "status": ["ok"] * rows, "stream": [False] * rows, "tags": [["env:prod"]] * rows,
    }
    return pl.DataFrame({name: values.get(name, [None] * rows) for name in CANONICAL_SCHEMA}, schema=CANONICAL_SCHEMA)


def test_single_valued_columns_are_named_with_their_value():
    constants = single_valued(requests(5))
    assert {name: constants[name] for name in ("source", "format", "ts", "model", "output_tokens", "status", "stream")} == {
        "source": "a.jsonl", "format": "openai-chat", "ts": WHEN, "model": "gpt-4o", "output_tokens": 7,
        "status": "ok", "stream": False}
    assert constants["offset"] is None and constants["custom_id"] is None  # columns no row fills
    assert not {"line", "request_id", "input_tokens", "latency_ms", "temperature", "tags"} & set(constants)


@pytest.mark.parametrize("rows", [1, 2, 5, 250_001], ids=["one row", "two rows", "five rows", "three parts"])
def test_parts_load_back_as_written(tmp_path, rows):
    frame = requests(rows)
    spill = Spill(str(tmp_path / "part"))
    for start in range(0, rows, 50_000):  # as the reader adds its batches
        spill.add(frame.slice(start, 50_000))
    spill.close()
    assert len(spill.parts) == (3 if rows > 200_000 else 1)
    for part in spill.parts:  # the file holds only the columns whose values vary
        assert set(pl.read_ipc_schema(part.path)) == set(CANONICAL_SCHEMA) - set(part.constants)
        assert "line" not in part.constants
    assert spill.parts[-1].constants["model"] == ("gpt-4o-mini" if rows > 200_000 else "gpt-4o")
    loaded = pl.concat([load_part(part) for part in spill.parts])
    assert loaded.schema == frame.schema
    assert loaded.equals(frame)
    assert loaded["latency_ms"].cast(pl.String).to_list()[:2] == frame["latency_ms"].cast(pl.String).to_list()[:2]
    assert not list(tmp_path.iterdir())  # each part's file is removed once loaded
