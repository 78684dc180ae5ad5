"""What every log format provides, and the small conversions they share.

A format is a msgspec struct holding only the fields routecost needs (typed, so a bad value is
caught with its JSON path), a loose signature used to detect it on a decoded record, a function
that turns the struct into a canonical row, and a function that recovers the prompt and answer
text from a decoded record (read lazily: only when usage is missing or a policy needs the text).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NamedTuple

import msgspec

from routecost.records import (
    MODE_BATCH,
    MODE_REALTIME,
    STATUS_ERROR,
    STATUS_OK,
    PromptPrint,
    plausible_epoch_seconds,
)

MAX_COUNT = 100_000_000
"""The most tokens (or calls) one request may count: ten times the largest context window offered
today (10M). A larger count is a broken or hostile record, malformed: priced, 10^15 tokens would be
billions of dollars, and summed, counts near 2^63 would wrap a total negative."""

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
"""A token count: an integer, never negative, at most ``MAX_COUNT``."""

Money = Annotated[float, msgspec.Meta(ge=0)]
Timestamp = datetime | int | float
"""RFC 3339 text (naive means UTC; msgspec parses it in C while decoding), or an epoch number in
seconds, milliseconds, microseconds or nanoseconds (``records.EPOCH_UNITS``)."""

TokenCounts = tuple[int | None, int | None, int | None, int | None, int | None, int | None]
"""A request's token counts in ``records.TOKEN_COLUMNS`` order: the whole input (cache reads and writes
inside it), cache reads, cache writes, the 1-hour part of those writes, the whole output (reasoning
inside it) and reasoning."""

NO_TOKENS: TokenCounts = (None, None, None, None, None, None)

RowKind = Literal["request", "batch_request", "requests"]
"""A request row; a batch request line that is joined to its result by ``custom_id``; or ``Rows``,
the requests of one record that holds several (an OTLP export, a Langfuse batch, a HAR file)."""



class Struct(msgspec.Struct, gc=False):
    """Base of every format struct: not tracked by the garbage collector (a million are built)."""


class RecordError(Exception):
    """A record of a known format with a bad or missing field (the message names the field)."""

    def __init__(self, field_path: str, problem: str) -> None:
        self.field_path = field_path
        self.problem = problem
        super().__init__(f"{field_path}: {problem}")


class NotARequest(Exception):
    """A record of a known format that is not a billable model call (a trace span, a batch job)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Rows:
    """The requests one record holds, what else it held that is not a request (counted), and the
    items that are malformed (field, problem): one bad span does not cost its export's other spans."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    malformed: list[tuple[str | None, str]] = field(default_factory=list)

    @classmethod
    def each(cls, items: Any, read: Callable[[Any], tuple[Any, ...] | Rows], where: str) -> Rows:
        """Every item of a list read on its own (``where`` names the list in malformed items' fields)."""
        found = cls()
        for index, item in enumerate(items if isinstance(items, list) else ()):
            found.add(item, read, f"{where}[{index}]")
        return found

    def add(self, item: Any, read: Callable[[Any], tuple[Any, ...] | Rows], where: str) -> None:
        """Read one item: a request (or the ``Rows`` it holds), a skipped non-request, or a malformed
        item (``where`` names it)."""
        try:
            found = read(item)
        except NotARequest as error:
            self.skipped[error.reason] += 1
        except RecordError as error:
            self.malformed.append((_within(where, error.field_path), error.problem))
        except msgspec.ValidationError as error:
            field_path, problem = split_validation_error(str(error))
            self.malformed.append((_within(where, field_path), problem))
        except _SHAPE_ERRORS as error:
            self.malformed.append((where, shape_problem(error)))
        else:
            if isinstance(found, Rows):
                self.rows.extend(found.rows)
                self.skipped.update(found.skipped)
                self.malformed.extend(found.malformed)
            else:
                self.rows.append(found)


def _within(where: str, field_path: str | None) -> str:
    return where if field_path in (None, "$") else f"{where}.{field_path}"


def split_validation_error(message: str) -> tuple[str | None, str]:
    """msgspec says ``Expected `int` >= 0 - at `$.usage.prompt_tokens```: split the field from the problem."""
    problem, separator, where = message.rpartition(" - at `")
    if not separator:
        return None, message
    return where.rstrip("`").removeprefix("$.").removeprefix("$") or None, problem


def shape_problem(error: Exception) -> str:
    return f"a value of an unexpected type ({type(error).__name__}: {error})"


def token_count(value: Any, field_path: str) -> int | None:
    """A token count read from untyped JSON: absent is None; anything but an integer from 0 to
    ``MAX_COUNT`` is malformed."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise RecordError(field_path, f"expected a token count (an integer from 0 to {MAX_COUNT:,}), got {value!r}")
    return value


STREAM_EVENT_WITHOUT_USAGE = "stream event without usage"


@dataclass(frozen=True)
class RequestText:
    """The text of one request: what was sent and what came back."""

    system: str = ""
    messages: tuple[tuple[str, str], ...] = ()
    answer: str = ""

    @property
    def prompt(self) -> str:
        """Everything sent to the model, as one string (system first)."""
        return "\n".join(part for part in (self.system, *(text for _, text in self.messages)) if part)

    @property
    def last_user_message(self) -> str:
        for role, text in reversed(self.messages):
            if role == "user":
                return text
        return ""


@dataclass(frozen=True)
class LogFormat:
    """One log format: how to detect it, decode it and map it to canonical rows."""

    name: str
    struct: Any
    """The msgspec type a record decodes into: a struct, a tagged union of structs, or a dict."""
    matches: Callable[[Mapping[str, Any]], bool]
    to_row: Callable[[Any], Any]
    texts: Callable[[Mapping[str, Any]], RequestText] = field(default=lambda record: RequestText())
    kind: RowKind = "request"
    sticky: bool = True
    """Whether the reader may try this format first on the lines after one of its records. A user's
    mapping matches any object, so it is only used where no built-in format fits (or when forced)."""
    columns: Callable[[Sequence[Any]], Mapping[str, Sequence[Any]]] | None = None
    """``to_row`` of many decoded records at once, a column at a time (by ``SOURCE_COLUMNS`` name; a
    column left out is null throughout), for the formats most logs are in: the reader then keeps each
    record as decoded and builds the columns of a few hundred at a time, which costs half of a tuple
    per record transposed into columns. It must give what ``to_row`` gives, and never raise."""
    decoder: msgspec.json.Decoder = field(init=False, repr=False, compare=False)
    lenient_decoder: msgspec.json.Decoder = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "decoder", msgspec.json.Decoder(self.struct))
        object.__setattr__(self, "lenient_decoder", msgspec.json.Decoder(self.struct, strict=False))
        if self.struct == dict[str, Any]:
            object.__setattr__(self, "to_row", _guarded(self.name, self.matches, self.to_row))


_SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError)


def _guarded(name: str, matches: Callable[[Mapping[str, Any]], bool],
             to_row: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A format that reads untyped JSON (a dict, not a typed struct) decodes any object on the
    reader's fast path, so a record must still match it; and it may meet any shape, so a value of the
    wrong type is a malformed record of that format, never a crash."""

    def guarded(record: Any) -> Any:
        if not matches(record):
            raise msgspec.ValidationError(f"not a {name} record")
        try:
            return to_row(record)
        except (RecordError, NotARequest, msgspec.ValidationError, msgspec.DecodeError):
            raise
        except _SHAPE_ERRORS as error:
            raise RecordError("$", shape_problem(error)) from None

    return guarded


def skip_format(name: str, matches: Callable[[Mapping[str, Any]], bool], reason: str) -> LogFormat:
    """A record shape that is never a request (a stream event without usage, a preamble): recognised,
    so it is counted as skipped with its reason instead of malformed."""

    def skipped(record: Any) -> Any:
        raise NotARequest(reason)

    return LogFormat(name=name, struct=msgspec.Raw, matches=matches, to_row=skipped)


class Envelope(msgspec.Struct, frozen=True, gc=False):
    """What a record around a provider body adds: an in-house wrapper, a batch line, a gateway row.

    A msgspec struct rather than a dataclass: one is built per wrapped record, and a frozen
    dataclass costs several times more to construct."""

    ts: Timestamp | None = None
    latency_ms: float | None = None
    provider: str | None = None
    request_model: str | None = None
    stream: bool | None = None
    failed: bool = False
    mode: str = MODE_REALTIME
    user: str | None = None
    tags: list[str] | None = None
    metadata: bytes | None = None
    """A copy, not a ``msgspec.Raw``: a Raw holds the whole line it was decoded from."""
    custom_id: str | None = None
    prompt_print: PromptPrint | None = None
    temperature: float | None = None
    has_tools: bool | None = None


NO_ENVELOPE = Envelope()


class EnvelopeColumns(NamedTuple):
    """The envelopes of many records, a list per field (``Envelope``'s; those left out keep their
    defaults), for a body read a column at a time (``LogFormat.columns``)."""

    ts: Sequence[Timestamp | None]
    latency_ms: Sequence[float | None]
    provider: Sequence[str | None]
    request_model: Sequence[str | None]
    stream: Sequence[bool | None]
    failed: Sequence[bool]
    user: Sequence[str | None]
    tags: Sequence[list[str] | None]
    metadata: Sequence[bytes | None]


def enveloped_row(
    envelope: Envelope,
    request_id: str | None,
    ts: Timestamp | None,
    provider: str | None,
    model: str | None,
    tokens: TokenCounts,
    service_tier: str | None,
    user: str | None,
    metadata: bytes | None,
    status: str = STATUS_OK,
    streamed: bool = False,
    mode: str | None = None,
    stream_key: str | None = None,
    logged_cost_usd: float | None = None,
    web_search_requests: int | None = None,
    file_search_calls: int | None = None,
    grounded_prompts: int | None = None,
    low_context_requests: int | None = None,
    medium_context_requests: int | None = None,
    web_search_preview_calls: int | None = None,
    code_containers: int | None = None,
) -> tuple[Any, ...]:
    """The row of a provider body (OpenAI, Anthropic, Gemini) logged inside ``envelope`` (a wrapper, a
    batch line; ``NO_ENVELOPE`` when bare): the envelope's time wins over the body's, the body's model
    over the one requested; either failing fails the request; a streamed body is streamed whatever the
    envelope says; latency, tags, ids and request settings come from the envelope. ``provider``,
    ``user`` and ``metadata`` are given as the caller merged them (each body merges them its own way).

    Built positionally, in ``SOURCE_COLUMNS`` order: this runs once per record (see
    ``records.source_row``). For the same reason no parameter is keyword-only: a keyword-only default
    is looked up in a dict on every call, a positional one is not."""
    return (
        request_id,
        ts if envelope.ts is None else envelope.ts,
        provider,
        model or envelope.request_model,
        *tokens,  # input_tokens .. reasoning_tokens
        web_search_requests,
        logged_cost_usd,
        envelope.latency_ms,
        STATUS_ERROR if envelope.failed else status,
        True if streamed else envelope.stream,
        envelope.mode if mode is None else mode,
        service_tier,
        user,
        envelope.tags,
        metadata,
        None,  # gateway_cache_hit
        envelope.custom_id,
        envelope.prompt_print,
        envelope.temperature,
        envelope.has_tools,
        file_search_calls,
        grounded_prompts,
        stream_key,
        low_context_requests,
        medium_context_requests,
        web_search_preview_calls,
        code_containers,
    )


def epoch_seconds(value: Timestamp | None) -> float | None:
    """Epoch seconds (UTC) of a logged timestamp; naive datetimes are UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()
    return plausible_epoch_seconds(value)


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time as logged; fractions finer than microseconds (AWS logs nanoseconds) are cut."""
    if not isinstance(text, str):
        return None
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def encode_json(value: Any) -> bytes | None:
    return None if value is None else msgspec.json.encode(value)


def status_from_http(http_status: int | None, failed: bool = False) -> str:
    if failed or (http_status is not None and http_status >= 400):
        return STATUS_ERROR
    return STATUS_OK


def mode_of(is_batch: bool) -> str:
    return MODE_BATCH if is_batch else MODE_REALTIME


def has_keys(record: Mapping[str, Any], *keys: str) -> bool:
    return all(key in record for key in keys)


def sub(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object, or an empty mapping when it is absent or not an object."""
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def content_text(content: Any) -> str:
    """Text of a message ``content``: a string, or a list of parts with ``text``."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"] for part in content if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def chat_messages(messages: Any) -> tuple[tuple[str, str], ...]:
    """OpenAI/Anthropic-style ``[{role, content}]`` as (role, text) pairs."""
    if not isinstance(messages, list):
        return ()
    return tuple(
        (str(message.get("role", "")), content_text(message.get("content")))
        for message in messages
        if isinstance(message, Mapping)
    )


def split_system(messages: tuple[tuple[str, str], ...]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Separate OpenAI-style system/developer messages from the conversation."""
    system = "\n".join(text for role, text in messages if role in ("system", "developer"))
    rest = tuple((role, text) for role, text in messages if role not in ("system", "developer"))
    return system, rest
