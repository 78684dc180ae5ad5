"""Constants, token estimates, ids and times shared by every generated file."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = 20261101
REPO = Path(__file__).resolve().parents[2]
MT_BENCH = REPO / "data" / "mt_bench"

MONTH_START_MS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
MONTH_END_MS = int(datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)
BATCH_PRICE_CUTOVER_S = int(datetime(2026, 10, 14, tzinfo=UTC).timestamp())

# Relative traffic per UTC hour (US + EU business hours) and per weekday (Mon=0).
HOUR_WEIGHTS = (
    0.25,
    0.2,
    0.15,
    0.12,
    0.12,
    0.15,
    0.3,
    0.5,
    0.8,
    1.0,
    1.1,
    1.1,
    1.0,
    1.2,
    1.4,
    1.5,
    1.5,
    1.4,
    1.2,
    0.9,
    0.7,
    0.55,
    0.45,
    0.35,
)
WEEKDAY_WEIGHTS = (1.0, 1.05, 1.05, 1.0, 0.9, 0.3, 0.25)

Json = dict[str, Any]
WeightedModels = Sequence[tuple[str, float]]

# --------------------------------------------------------------------------
# Token estimation, ids, time
# --------------------------------------------------------------------------

OPENAI_SCALE = 1.0
CLAUDE_SCALE = 1.15  # Claude's tokenizer yields ~15% more tokens than o200k on English.
GEMINI_SCALE = 1.05
LLAMA_SCALE = 1.1

_PIECE = re.compile(r"[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]|\s+")
_B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def count_tokens(text: str, scale: float = OPENAI_SCALE) -> int:
    """Estimate BPE tokens; within ~5% of o200k on the MT-Bench texts in aggregate."""
    n = 0
    for piece in _PIECE.findall(text):
        if piece.isspace():
            n += len(piece) > 1
        elif piece[0].isalpha():
            n += 1 if len(piece) <= 9 else math.ceil(len(piece) / 6)
        else:
            n += 1
    return max(1, round(n * scale))


def rand_b62(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_B62) for _ in range(n))


def rand_hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stable_hex(*parts: str, n: int = 64) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:n]


def iso_ms(ts_ms: int) -> str:
    base = datetime.fromtimestamp(ts_ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ts_ms % 1000:03d}Z"


def _day_weights() -> list[float]:
    """Weekday-heavy days with a slow month-over-month growth trend."""
    weights = []
    for day in range(31):
        weekday = datetime(2026, 10, 1 + day, tzinfo=UTC).weekday()
        weights.append(WEEKDAY_WEIGHTS[weekday] * (1 + 0.012 * day))
    return weights


DAY_WEIGHTS = _day_weights()


def sample_instant(rng: random.Random) -> int:
    day = rng.choices(range(31), weights=DAY_WEIGHTS)[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return MONTH_START_MS + (day * 24 + hour) * 3_600_000 + rng.randrange(3_600_000)


def weighted(rng: random.Random, options: WeightedModels) -> str:
    return rng.choices([name for name, _ in options], weights=[w for _, w in options])[0]


def dump(obj: Json) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _count_by(items: Sequence[Json], key: Callable[[Json], str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[key(item)] = counts.get(key(item), 0) + 1
    return dict(sorted(counts.items()))
