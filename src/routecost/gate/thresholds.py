"""The gate's thresholds, from a policy file's ``gate:`` block or from flags (flags win)::

    gate:
      min_savings: {total: 20, categories: {support: 30}}   # % of the logged cost; or just 20
      max_cost_increase: 5%         # the head's cost over the base's: 5% or USD (25)
      max_quality_drop: {value: 5, level: warn, unmeasured: fail}
                                    # % of the scale, on the 95% CI's low end; `unmeasured`: what a
                                    # category whose judge failed its checks does (fail by default)
      min_samples: 30               # judged requests per category the head policy changes
      max_latency_increase: 50      # % over the logged p95 latency, per category (where logs give latency)

Each threshold fails the gate (``level: fail``, the default) or only warns (``level: warn``).
``--warn unmeasured-quality`` makes unmeasured quality warn instead of fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from routecost.errors import UsageError
from routecost.yamlfile import KeyPath, YamlDocument, load_yaml

MIN_SAVINGS, MAX_COST_INCREASE, MAX_QUALITY_DROP, MIN_SAMPLES, MAX_LATENCY_INCREASE = (
    "min_savings", "max_cost_increase", "max_quality_drop", "min_samples", "max_latency_increase")
NAMES = (MIN_SAVINGS, MAX_COST_INCREASE, MAX_QUALITY_DROP, MIN_SAMPLES, MAX_LATENCY_INCREASE)
UNMEASURED_QUALITY = "unmeasured_quality"
"""Not a threshold of its own: how ``max_quality_drop`` treats quality the judge could not measure."""
WARN, FAIL = "warn", "fail"
LEVELS = (WARN, FAIL)
USD, PCT = "usd", "pct"
_AMOUNT = re.compile(r"^\s*\$?\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float | None
    """The total's bound (None: only per-category bounds)."""
    level: str = FAIL
    unit: str = PCT
    """``usd`` or ``pct`` (``max_cost_increase`` may be either; the others are fixed)."""
    categories: Mapping[str, float] = field(default_factory=dict)
    """Per-category bounds (``min_savings``)."""
    unmeasured_level: str = FAIL
    """``max_quality_drop``: the level of a crossing for a changed category whose quality is unmeasured."""

    def describe(self) -> str:
        bounds = [] if self.value is None else [format_bound(self.name, self.value, self.unit)]
        bounds += [f"{category} {format_bound(self.name, value, self.unit)}" for category, value in self.categories.items()]
        return f"{self.name.replace('_', '-')} {', '.join(bounds)} ({self.level})"


def format_bound(name: str, value: float, unit: str) -> str:
    if name == MIN_SAMPLES:
        return f"{value:g}"
    return f"${value:,.2f}" if unit == USD else f"{value:g}%"


def parse_amount(text: str, where: str) -> tuple[float, str]:
    """``25`` or ``$25`` as USD, ``5%`` as a percentage."""
    match = _AMOUNT.match(text)
    if match is None or float(match.group(1)) < 0:
        raise UsageError(f"{where}: expected a non-negative amount in USD (25) or a percentage (5%), got {text!r}")
    return float(match.group(1)), PCT if match.group(2) else USD


def parse_gate_block(document: YamlDocument, value: Any) -> dict[str, Threshold]:
    """The ``gate:`` block of a policy file, each problem named by file:line:column."""
    path: KeyPath = ("gate",)
    if not isinstance(value, dict):
        raise document.error(path, f"`gate` is a mapping with {', '.join(NAMES)}")
    document.check_keys(path, value, NAMES)
    return {name: _threshold(document, (*path, name), name, raw) for name, raw in value.items()}


def _threshold(document: YamlDocument, path: KeyPath, name: str, raw: Any) -> Threshold:
    level = unmeasured_level = FAIL
    categories: dict[str, float] = {}
    if isinstance(raw, dict):
        allowed = {MIN_SAVINGS: ("total", "categories", "level"),
                   MAX_QUALITY_DROP: ("value", "level", "unmeasured")}.get(name, ("value", "level"))
        document.check_keys(path, raw, allowed)
        level, unmeasured_level = raw.get("level", FAIL), raw.get("unmeasured", FAIL)
        for key, given in (("level", level), ("unmeasured", unmeasured_level)):
            if given not in LEVELS:
                raise document.error((*path, key), f"`{key}` is warn or fail, not {given!r}")
        if name == MIN_SAVINGS:
            categories = _categories(document, (*path, "categories"), raw.get("categories", {}))
        raw = raw.get("total" if name == MIN_SAVINGS else "value")
        if raw is None and not categories:
            raise document.error(path, f"`{name}` needs a {'total or categories' if name == MIN_SAVINGS else 'value'}")
    if raw is None:
        return Threshold(name, None, level, PCT, categories, unmeasured_level)
    value, unit = _value(document, path, name, raw)
    return Threshold(name, value, level, unit, categories, unmeasured_level)


def _value(document: YamlDocument, path: KeyPath, name: str, raw: Any) -> tuple[float, str]:
    if name == MAX_COST_INCREASE and isinstance(raw, str):
        try:
            return parse_amount(raw, document.where(path))
        except UsageError as error:
            raise document.error(path, str(error).partition(": ")[2]) from None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise document.error(path, f"`{name}` is a non-negative number{' (or a percentage: 5%)' if name == MAX_COST_INCREASE else ''}")
    if name == MIN_SAMPLES and raw != int(raw):
        raise document.error(path, "`min_samples` is a whole number")
    return float(raw), USD if name == MAX_COST_INCREASE else PCT


def _categories(document: YamlDocument, path: KeyPath, raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise document.error(path, "`categories` maps category names to a percentage")
    result = {}
    for category, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise document.error((*path, category), "a percentage of the logged cost, e.g. 30")
        result[str(category)] = float(value)
    return result


@dataclass(frozen=True)
class GateFlags:
    min_savings: float | None = None
    max_cost_increase: str | None = None
    max_quality_drop: float | None = None
    min_samples: int | None = None
    warn: tuple[str, ...] = ()
    """Threshold names (``min-savings`` or ``min_savings``) that only warn."""
    warn_only: bool = False
    max_latency_increase: float | None = None


def merge(from_file: Mapping[str, Threshold], flags: GateFlags) -> list[Threshold]:
    """The thresholds in force: the file's, each overridden by its flag, levels set by ``--warn``
    and ``--warn-only``."""
    warned = {name.replace("-", "_") for name in flags.warn}
    unknown = warned - {*NAMES, UNMEASURED_QUALITY}
    if unknown:
        raise UsageError(f"--warn: unknown threshold {min(unknown)!r} (expected one of: "
                         f"{', '.join(name.replace('_', '-') for name in (*NAMES, UNMEASURED_QUALITY))})")
    merged = dict(from_file)
    given: dict[str, tuple[float, str] | None] = {
        MIN_SAVINGS: None if flags.min_savings is None else (flags.min_savings, PCT),
        MAX_COST_INCREASE: None if flags.max_cost_increase is None else parse_amount(flags.max_cost_increase,
                                                                                    "--max-cost-increase"),
        MAX_QUALITY_DROP: None if flags.max_quality_drop is None else (flags.max_quality_drop, PCT),
        MIN_SAMPLES: None if flags.min_samples is None else (float(flags.min_samples), PCT),
        MAX_LATENCY_INCREASE: None if flags.max_latency_increase is None else (flags.max_latency_increase, PCT),
    }
    for name, override in given.items():
        if override is not None:
            current = merged.get(name, Threshold(name, None))
            merged[name] = replace(current, value=override[0], unit=override[1])
    if flags.warn_only or UNMEASURED_QUALITY in warned:
        merged = {name: replace(threshold, unmeasured_level=WARN) for name, threshold in merged.items()}
    return [replace(threshold, level=WARN) if flags.warn_only or name in warned else threshold
            for name, threshold in ((name, merged[name]) for name in NAMES if name in merged)]


def load_gate_file(path: str) -> dict[str, Threshold]:
    """The ``gate:`` block of a policy file (none: no thresholds)."""
    document = load_yaml(path)
    data = document.data
    if isinstance(data, dict) and "gate" in data:
        return parse_gate_block(document, data["gate"])
    return {}
