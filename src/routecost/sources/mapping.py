"""A log format described by the user: a YAML file maps an in-house record's fields to canonical ones.

Example (``--mapping acme.yaml``)::

    name: acme-gateway
    fields:
      model: llm.model            # required
      provider: llm.vendor
      ts: event.time              # RFC 3339 text or epoch seconds
      input_tokens: usage.in
      output_tokens: usage.out
      cache_read_tokens: usage.cached
      logged_cost: billing.amount
      metadata: ctx
      tags: labels
    input_includes_cache: true    # false when input_tokens excludes cache reads/writes (Anthropic style)
    cost_unit: usd                # or cents
    texts: {prompt: request.prompt, system: request.system, answer: response.text}

A path is dotted names, list indexes and quoted keys: ``batch[0].body.model``,
``attributes["gen_ai.usage.input_tokens"]`` (a key that contains dots). ``each: events`` reads every
item of the list at that path as a record of its own (paths are then relative to the item).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from routecost.records import MODE_BATCH, MODE_REALTIME, STATUS_ERROR, STATUS_OK, TOKEN_COLUMNS, source_row
from routecost.sources.base import LogFormat, RecordError, RequestText, Rows, Timestamp, token_count
from routecost.sources.usage import inclusive_input
from routecost.yamlfile import YamlDocument, load_yaml

_TEXT_FIELDS = ("request_id", "provider", "model", "service_tier", "user", "custom_id")
_FIELDS = (*_TEXT_FIELDS, *TOKEN_COLUMNS, "ts", "logged_cost", "latency_ms", "status", "stream", "mode", "tags",
           "metadata")
_OK_STATUSES = {"ok", "success", "succeeded", "completed", "true", "200"}
_COST_UNITS = {"usd": 1.0, "cents": 0.01}


Path = tuple[str | int, ...]
_PATH_STEP = re.compile(r"""\.?([^.\[\]"']+)|\[(\d+)\]|\["([^"]*)"\]|\['([^']*)'\]""")


def parse_path(text: str) -> Path:
    """``a.b[0]["c.d"]`` as steps (names and list indexes); ValueError when it is not a path."""
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_STEP.match(text, position)
        if match is None or (match.group(1) is not None and (position > 0) != text.startswith(".", position)):
            raise ValueError(f"cannot read the path at {text[position:]!r}")
        name, index, double, single = match.groups()
        steps.append(int(index) if index is not None else next(part for part in (name, double, single)
                                                                 if part is not None))
        position = match.end()
    if not steps:
        raise ValueError("an empty path")
    return tuple(steps)


def path_text(path: Path) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else (f".{step}" if "." not in step else f'["{step}"]')
                   for step in path).lstrip(".")


@dataclass(frozen=True)
class LogMapping:
    name: str
    fields: dict[str, Path]
    input_includes_cache: bool
    cost_factor: float
    texts: dict[str, Path]
    each: Path | None = None


def load_mapping(path: str) -> LogMapping:
    document = load_yaml(path)
    data = document.data
    if not isinstance(data, dict):
        raise document.error((), "a mapping file is a YAML mapping with at least `fields: {model: ...}`")
    document.check_keys((), data, ("name", "fields", "input_includes_cache", "cost_unit", "texts", "each"))
    fields = _paths(document, "fields", data.get("fields"), _FIELDS)
    if "model" not in fields:
        raise document.error(("fields",), "`fields.model` is required")
    cost_unit = data.get("cost_unit", "usd")
    if not isinstance(cost_unit, str) or cost_unit not in _COST_UNITS:
        raise document.error(("cost_unit",), f"cost_unit must be one of {', '.join(_COST_UNITS)}")
    includes_cache = data.get("input_includes_cache", True)
    if not isinstance(includes_cache, bool):
        raise document.error(("input_includes_cache",), "must be true or false")
    each = data.get("each")
    return LogMapping(
        name=str(data.get("name", "mapping")),
        fields=fields,
        input_includes_cache=includes_cache,
        cost_factor=_COST_UNITS[cost_unit],
        texts=_paths(document, "texts", data.get("texts", {}), ("prompt", "system", "answer")),
        each=None if each is None else _path(document, ("each",), each),
    )


def _paths(document: YamlDocument, key: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Path]:
    if not isinstance(value, dict):
        raise document.error((key,), f"`{key}` must map names to field paths")
    document.check_keys((key,), value, allowed)
    return {name: _path(document, (key, name), path) for name, path in value.items()}


def _path(document: YamlDocument, where: tuple[str, ...], text: Any) -> Path:
    if not isinstance(text, str) or not text:
        raise document.error(where, 'must be a field path such as usage.input, batch[0].model or attributes["a.b"]')
    try:
        return parse_path(text)
    except ValueError as error:
        raise document.error(where, f"{text!r} is not a field path: {error}") from None


def _lookup(record: Any, path: Path) -> Any:
    for step in path:
        if isinstance(step, int):
            record = record[step] if isinstance(record, list) and step < len(record) else None
        elif isinstance(record, Mapping):
            record = record.get(step)
        else:
            return None
    return record


def _count(record: Any, mapping: LogMapping, name: str) -> int | None:
    path = mapping.fields.get(name)
    return None if path is None else token_count(_lookup(record, path), path_text(path))


def _number(record: Any, mapping: LogMapping, name: str) -> float | None:
    path = mapping.fields.get(name)
    value = None if path is None else _lookup(record, path)
    if path is None or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RecordError(path_text(path), f"expected a number >= 0, got {value!r}")
    return float(value)


def _text(record: Any, mapping: LogMapping, name: str) -> str | None:
    path = mapping.fields.get(name)
    value = None if path is None else _lookup(record, path)
    return None if value is None else str(value)


def _timestamp(record: Any, mapping: LogMapping) -> Timestamp | None:
    path = mapping.fields.get("ts")
    value = None if path is None else _lookup(record, path)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise RecordError(path_text(path or ()), f"expected an RFC 3339 time or epoch seconds, got {value!r}")


def _json_field(record: Any, mapping: LogMapping, name: str) -> Any:
    path = mapping.fields.get(name)
    return None if path is None else _lookup(record, path)


def mapped_row(record: Any, mapping: LogMapping) -> tuple[Any, ...]:
    if not isinstance(record, Mapping):
        raise RecordError("$", "expected a JSON object")
    model = _text(record, mapping, "model") or None  # a record without one is read, and unpriced with that reason
    input_tokens = _count(record, mapping, "input_tokens")
    cache_read = _count(record, mapping, "cache_read_tokens")
    cache_write = _count(record, mapping, "cache_write_tokens")
    if not mapping.input_includes_cache:
        input_tokens = inclusive_input(input_tokens, cache_read, cache_write)
    cost = _number(record, mapping, "logged_cost")
    status = _text(record, mapping, "status")
    tags = _json_field(record, mapping, "tags")
    metadata = _json_field(record, mapping, "metadata")
    stream = _json_field(record, mapping, "stream")
    return source_row(
        request_id=_text(record, mapping, "request_id"),
        ts=_timestamp(record, mapping),
        provider=_text(record, mapping, "provider"),
        model=model,
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=_count(record, mapping, "cache_write_1h_tokens"),
        output_tokens=_count(record, mapping, "output_tokens"),
        reasoning_tokens=_count(record, mapping, "reasoning_tokens"),
        logged_cost_usd=None if cost is None else cost * mapping.cost_factor,
        latency_ms=_number(record, mapping, "latency_ms"),
        status=STATUS_OK if status is None or status.lower() in _OK_STATUSES else STATUS_ERROR,
        stream=stream if isinstance(stream, bool) else None,
        mode=MODE_BATCH if (_text(record, mapping, "mode") or "").lower() == MODE_BATCH else MODE_REALTIME,
        service_tier=_text(record, mapping, "service_tier"),
        user=_text(record, mapping, "user"),
        tags=[str(tag) for tag in tags] if isinstance(tags, list) else None,
        metadata=msgspec.json.encode(metadata) if isinstance(metadata, Mapping) else None,
        custom_id=_text(record, mapping, "custom_id"),
    )


def mapped_format(mapping: LogMapping) -> LogFormat:
    """The user's mapping as a log format (records are decoded as plain JSON, then mapped)."""

    def texts(record: Any) -> RequestText:
        def text_at(name: str) -> str:
            path = mapping.texts.get(name)
            value = None if path is None else _lookup(record, path)
            return value if isinstance(value, str) else ""

        return RequestText(system=text_at("system"), messages=(("user", text_at("prompt")),), answer=text_at("answer"))

    each = mapping.each
    if each is None:
        return LogFormat(name=mapping.name, struct=dict[str, Any], matches=lambda record: True,
                         to_row=lambda record: mapped_row(record, mapping), texts=texts, sticky=False)

    def rows(record: Any) -> Rows:
        items = _lookup(record, each)
        if not isinstance(items, list):
            raise RecordError(path_text(each), "expected a list of records (`each`)")
        return Rows.each(items, lambda item: mapped_row(item, mapping), path_text(each))

    return LogFormat(name=mapping.name, struct=dict[str, Any], matches=lambda record: True, to_row=rows,
                     texts=texts, sticky=False, kind="requests")
