"""Prompt trimming: what a shorter system prompt and a capped history save, counted from the logs.

A request a ``trim`` rule matches is cut as the rule says: its system prompt to a share of its
tokens (``system: 0.4``) or to the team's shorter prompt (``system_file``), its conversation to the
last ``history_turns`` turns before the current message (a turn: a user message and what follows it
up to the next one). The cut is counted exactly on the logged text, in o200k tokens (the encoding of
current OpenAI models; another family's model is scaled by the tokenizer table), each distinct text
once. A request whose text is not logged cannot be measured: it stays as logged, and is counted.

The cut comes off the request's input on whatever model the policy sends it to, after the prompt
caches are known. A shorter prefix caches differently: the system prompt leads the prefix, so a
cached read loses what the system prompt lost; a capped history slides with the conversation (each
request drops the turn the previous one kept), so a request whose history was cut keeps at most its
system prompt cached. Cache writes cannot exceed what is left to write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import polars as pl

from routecost.policy.conditions import EvalContext
from routecost.policy.model import TrimRule
from routecost.simulate.counterfactual import family_weight
from routecost.sources import RequestText
from routecost.tokens import O200K, TOKENS_PER_MESSAGE, TokenCounter, tokenizer_family

PART_SCHEMA = {"system_tokens": pl.Int64(), "message_tokens": pl.List(pl.Int64()),
               "message_is_user": pl.List(pl.Boolean())}
"""Per request, in o200k tokens: its system prompt, and each message (with its formatting overhead)."""
CUT_COLUMNS = ("trim_system_cut", "trim_system_kept", "trim_history_cut")
TRIM_NOTE = ("trimmed tokens are counted in o200k on the logged text and scaled by the tokenizer table on other "
             "families' models")


def prompt_parts(texts: Sequence[RequestText | None]) -> pl.DataFrame:
    """``PART_SCHEMA`` for each request (nulls where its text cannot be read back)."""
    counter = TokenCounter()
    system, messages, is_user = [], [], []
    for text in texts:
        if text is None:
            system.append(None)
            messages.append(None)
            is_user.append(None)
            continue
        system.append(counter.count(text.system, O200K) if text.system else 0)
        messages.append([TOKENS_PER_MESSAGE + counter.count(message, O200K) for _, message in text.messages])
        is_user.append([role == "user" for role, _ in text.messages])
    return pl.DataFrame({"system_tokens": system, "message_tokens": messages, "message_is_user": is_user},
                        schema=PART_SCHEMA)


def kept_messages(messages: Sequence[tuple[str, str]], turns: int | None) -> tuple[tuple[str, str], ...]:
    """The messages a ``history_turns`` cap keeps: those with fewer than ``turns + 1`` user messages
    after them (the current message and the last ``turns`` turns before it)."""
    if turns is None:
        return tuple(messages)
    users_after, kept = 0, []
    for role, text in reversed(messages):
        if users_after <= turns:
            kept.append((role, text))
        users_after += role == "user"
    return tuple(reversed(kept))


def trim_rule_expr(rules: Sequence[TrimRule], context: EvalContext) -> pl.Expr:
    """The index of the first rule whose condition holds (null: not trimmed)."""
    chosen = pl.lit(None, dtype=pl.Int32())
    for index in reversed(range(len(rules))):
        chosen = pl.when(rules[index].when.expr(context)).then(pl.lit(index, dtype=pl.Int32())).otherwise(chosen)
    return chosen


def trim_cuts(frame: pl.DataFrame, rules: Sequence[TrimRule]) -> pl.DataFrame:
    """``CUT_COLUMNS`` for every row of ``frame`` (which has ``trim_rule`` and ``PART_SCHEMA``): null
    where no rule applies or the text is unknown."""
    counter = TokenCounter()
    keep = _per_rule([rule.system_keep for rule in rules], pl.Float64())
    replacement = _per_rule([None if rule.system_text is None else counter.count(rule.system_text, O200K)
                             for rule in rules], pl.Int64())
    system = pl.col("system_tokens")
    system_cut = (pl.when(keep.is_not_null()).then((system * (1 - keep)).round().cast(pl.Int64))
                  .when(replacement.is_not_null() & (system > 0)).then(system - replacement)
                  .otherwise(0))
    measured = pl.col("trim_rule").is_not_null() & system.is_not_null()
    return frame.select(
        trim_system_cut=pl.when(measured).then(system_cut),
        trim_system_kept=pl.when(measured).then(system - system_cut),
        trim_history_cut=pl.when(measured).then(_history_cut(frame, rules)),
    )


def _per_rule(values: Sequence[float | int | None], dtype: pl.DataType) -> pl.Expr:
    """Each row's rule's value (null where no rule applies, or the rule has none)."""
    return pl.col("trim_rule").replace_strict(dict(enumerate(values)), default=None, return_dtype=dtype)


def _history_cut(frame: pl.DataFrame, rules: Sequence[TrimRule]) -> pl.Series:
    """The tokens of the messages each row's history cap drops."""
    turns = _per_rule([rule.history_turns for rule in rules], pl.Int64())
    is_user = pl.element().cast(pl.Int64)
    users_after = pl.col("message_is_user").list.eval(is_user.reverse().cum_sum().reverse() - is_user)
    exploded = frame.select(
        pl.int_range(pl.len()).alias("_index"), _turns=turns, _tokens="message_tokens", _after=users_after,
    ).filter(pl.col("_turns").is_not_null() & pl.col("_tokens").is_not_null()).explode("_tokens", "_after")
    cut = exploded.group_by("_index").agg(
        _cut=pl.col("_tokens").filter(pl.col("_after") > pl.col("_turns")).sum())
    return (pl.DataFrame({"_index": pl.int_range(frame.height, eager=True)}).join(cut, on="_index", how="left")
            .sort("_index")["_cut"].fill_null(0))


def apply_trim(legs: pl.DataFrame, overrides: Mapping[str, float] | None, notes: list[str]) -> pl.DataFrame:
    """The legs' tokens with their trim cut off (see the module's docstring), on each leg's model;
    ``TRIM_NOTE`` added to ``notes`` when a cut is scaled to another tokenizer."""
    models = legs["leg_model"].drop_nulls().unique().to_list()
    weights = {model: family_weight(tokenizer_family(model), overrides) / family_weight(O200K, overrides)
               for model in models}
    if any(weight != 1.0 for weight in weights.values()):
        notes.append(TRIM_NOTE)
    weight = pl.col("leg_model").replace_strict(weights, default=1.0, return_dtype=pl.Float64())
    system_cut = (pl.col("trim_system_cut").fill_null(0) * weight).round().cast(pl.Int64)
    history_cut = (pl.col("trim_history_cut").fill_null(0) * weight).round().cast(pl.Int64)
    system_kept = (pl.col("trim_system_kept").fill_null(0) * weight).round().cast(pl.Int64)
    read_left = (pl.col("cache_read_tokens").fill_null(0) - system_cut).clip(lower_bound=0)
    trimmed = pl.col("trim_system_cut").is_not_null()

    def where_trimmed(**columns: pl.Expr) -> dict[str, pl.Expr]:
        return {name: pl.when(trimmed).then(value).otherwise(pl.col(name)) for name, value in columns.items()}

    return legs.with_columns(**where_trimmed(
        input_tokens=(pl.col("input_tokens") - system_cut - history_cut).clip(lower_bound=0),
        cache_read_tokens=pl.when(history_cut > 0).then(pl.min_horizontal(read_left, system_kept)).otherwise(read_left),
    )).with_columns(**where_trimmed(
        cache_write_tokens=pl.min_horizontal(pl.col("cache_write_tokens").fill_null(0),
                                             pl.col("input_tokens") - pl.col("cache_read_tokens")),
    )).with_columns(**where_trimmed(
        cache_write_1h_tokens=pl.min_horizontal(pl.col("cache_write_1h_tokens").fill_null(0),
                                                pl.col("cache_write_tokens")),
    ))


def replayed_tag(rule: TrimRule | None) -> str:
    """What replay sends for a trim rule, as a suffix of the target a stored call is filed under
    (``openai/gpt-4o-mini#trim:…``), so a trimmed call is never taken for an untrimmed one: the
    team's system prompt and the history cap. A ``system: share`` cut has no text to send: it is
    projected, not replayed (empty: nothing replayable)."""
    if rule is None or (rule.system_text is None and rule.history_turns is None):
        return ""
    digest = hashlib.sha256(f"{rule.system_text}\x00{rule.history_turns}".encode()).hexdigest()[:10]
    return f"#trim:{digest}"
