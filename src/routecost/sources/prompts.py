"""Prompt fingerprints: what the cache simulations compare, computed while the logs are read.

A request's prompt is fingerprinted at three message boundaries, the places providers' prefix
caches and cache breakpoints usually sit:

- ``system``: the system prompt and the tool definitions;
- ``history``: that, plus every message but the last (the conversation so far);
- ``prompt``: the whole request, plus its sampling parameters (the exact-cache key).

Each fingerprint is a 64-bit key (CRC-32 and Adler-32 of the raw JSON of the parts, run over the
prefix, so a longer prefix extends a shorter one's key) and the prefix's size in bytes. Sizes are
what turns a cached prefix into tokens: a prefix holding 60% of the prompt's bytes is taken to hold
60% of its input tokens. The raw JSON is sliced by msgspec without parsing the text.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import msgspec

from routecost.sources.base import Struct

PromptPrint = tuple[int, int, int, int, int, int]
"""(system key, system bytes, history key, history bytes, prompt key, prompt bytes)."""

SYSTEM_ROLES = (b"system", b"developer")


class ChatMessage(Struct):
    """One message of a request, kept as raw JSON apart from its role."""

    role: str | None = None
    content: msgspec.Raw = msgspec.Raw(b"")
    tool_calls: msgspec.Raw = msgspec.Raw(b"")
    parts: msgspec.Raw = msgspec.Raw(b"")


class _Running:
    """CRC-32 and Adler-32 over a growing prefix."""

    def __init__(self) -> None:
        self.crc = 0
        self.adler = 1
        self.size = 0

    def add(self, *chunks: bytes | msgspec.Raw) -> None:
        for chunk in chunks:
            self.crc = zlib.crc32(chunk, self.crc)
            self.adler = zlib.adler32(chunk, self.adler)
            self.size += len(chunk)

    @property
    def key(self) -> int:
        """The two checksums as one signed 64-bit integer (polars' Int64)."""
        combined = (self.crc << 32) | self.adler
        return combined - (1 << 64) if combined >= 1 << 63 else combined


def fingerprint(
    system: Sequence[bytes | msgspec.Raw], messages: Sequence[ChatMessage], sampling: bytes
) -> PromptPrint | None:
    """The prompt's fingerprints; None when it has no messages (nothing to compare)."""
    if not messages:
        return None
    running = _Running()
    running.add(*system)
    leading_system = 0
    for message in messages:
        if message.role is None or message.role.encode() not in SYSTEM_ROLES:
            break
        _add_message(running, message)
        leading_system += 1
    system_print = (running.key, running.size)
    for message in messages[leading_system:-1]:
        _add_message(running, message)
    history_print = (running.key, running.size)
    if len(messages) > leading_system:
        _add_message(running, messages[-1])
    running.add(sampling)
    return (*system_print, *history_print, running.key, running.size)


def _add_message(running: _Running, message: ChatMessage) -> None:
    running.add((message.role or "").encode(), message.content, message.tool_calls, message.parts)


def sampling_bytes(**parameters: Any) -> bytes:
    """The parameters that change an answer, as canonical bytes (part of the exact-cache key)."""
    return msgspec.json.encode({name: value for name, value in sorted(parameters.items()) if value is not None})
