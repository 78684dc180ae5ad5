"""Prompt fingerprints: what the cache simulations compare, computed while the logs are read.

A request's prompt is fingerprinted at three message boundaries, the places providers' prefix
caches and cache breakpoints usually sit:

- ``system``: the system prompt and the tool definitions;
- ``history``: that, plus every message but the last (the conversation so far);
- ``prompt``: the whole request, plus its sampling parameters (the exact-cache key).

Each fingerprint is a 64-bit key (a prefix's key extends the shorter prefix's) and the prefix's size
in bytes. Sizes are what turns a cached prefix into tokens: a prefix holding 60% of the prompt's
bytes is taken to hold 60% of its input tokens. While reading, each request only slices its raw JSON
(msgspec does that without parsing the text) into three segments; the reader hashes a whole chunk
of segments at once in polars (``records.build_source_frame``).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

PromptSegments = tuple[bytes, bytes, bytes]
"""The raw bytes the system, history and last-message boundaries add: system prompt and tools; the
messages before the last; the last message and the sampling parameters."""

SYSTEM_ROLES = ("system", "developer")


_SYSTEM_STARTS = tuple(
    f'{{"role":{space}"{role}"'.encode() for role in SYSTEM_ROLES for space in ("", " ")
)
"""How a system message's JSON starts: loggers (and the SDKs' serializers) write ``role`` first."""


def prompt_segments(
    system: Sequence[bytes | msgspec.Raw], messages: Sequence[msgspec.Raw], sampling: bytes
) -> PromptSegments | None:
    """The prompt cut at its three boundaries; None when it has no messages (nothing to compare).

    Each message is its raw JSON; leading system (or developer) messages belong to the system
    segment. Straight-line code: this runs once per request on a million-line log."""
    if not messages:
        return None
    count = len(messages)
    leading = 0
    while leading < count and _is_system(messages[leading]):
        leading += 1
    head = b"".join([*system, *messages[:leading]])
    history = b"".join(messages[leading:-1])
    last = b"".join((messages[-1], sampling)) if leading < count else sampling
    return head, history, last


def _is_system(message: msgspec.Raw) -> bool:
    return bytes(message).startswith(_SYSTEM_STARTS)


def sampling_bytes(*parameters: float | None) -> bytes:
    """The parameters that change an answer, in a fixed order, as bytes (part of the exact-cache key)."""
    return repr(parameters).encode()
