"""A reader process's rows on their way to the parent: Arrow IPC files of about ``SPILL_ROWS`` rows each
(a range of a large file is millions of rows: neither process holds it whole), written without the
columns that hold one value throughout (most formats fill fewer than half of the canonical columns,
and a file's rows share its name, format and usually their mode and status): those travel as values
and are made whole again when the part is loaded. On the benchmark's records that is half the bytes
each side would write, read and page in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from routecost.records import CANONICAL_SCHEMA, repeated

SPILL_ROWS = 100_000


@dataclass(frozen=True)
class SpilledPart:
    path: str
    constants: dict[str, Any]
    """The columns left out of the file, each with the one value it held in every row (None: null)."""


@dataclass
class Spill:
    """Frames of canonical requests in, ``SpilledPart`` files out (``parts``)."""

    prefix: str
    parts: list[SpilledPart] = field(default_factory=list)
    frames: list[pl.DataFrame] = field(default_factory=list)
    rows: int = 0

    def add(self, frame: pl.DataFrame) -> None:
        self.frames.append(frame)
        self.rows += frame.height
        if self.rows >= SPILL_ROWS:
            self._write()

    def close(self) -> None:
        """Write the rows still waiting."""
        self._write()

    def _write(self) -> None:
        if self.frames:
            path = f"{self.prefix}-{len(self.parts)}.arrow"
            frame = pl.concat(self.frames, how="vertical", rechunk=False)
            constants = single_valued(frame)
            frame.drop(constants).write_ipc(path)
            self.parts.append(SpilledPart(path, constants))
            self.frames, self.rows = [], 0


def single_valued(frame: pl.DataFrame) -> dict[str, Any]:
    """The columns whose every row holds the same value, or none (null), with that value. Of floats
    and lists only the empty ones count (0.0 and -0.0 compare equal, NaN to nothing); ``line`` always
    stays, so that a part keeps its height."""
    if frame.is_empty():
        return {}
    candidates = [name for name in frame.columns if name != "line"]
    nulls = frame.select(candidates).null_count().row(0, named=True)
    compared = [name for name in candidates
                if nulls[name] == 0 and not (frame.schema[name].is_float() or frame.schema[name].is_nested())]
    bounds = frame.select(*(pl.col(name).min().alias(f"min {name}") for name in compared),
                          *(pl.col(name).max().alias(f"max {name}") for name in compared)).row(0, named=True)
    constants: dict[str, Any] = {name: None for name in candidates if nulls[name] == frame.height}
    constants.update((name, bounds[f"min {name}"]) for name in compared if bounds[f"min {name}"] == bounds[f"max {name}"])
    return constants


def load_part(part: SpilledPart) -> pl.DataFrame:
    """A part's rows, read back (its file is then removed), with every canonical column."""
    frame = pl.read_ipc(part.path)
    os.unlink(part.path)
    return frame.select(pl.col(name) if name not in part.constants else
                        repeated(part.constants[name], frame.height, dtype).alias(name)
                        for name, dtype in CANONICAL_SCHEMA.items())
