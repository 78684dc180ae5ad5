"""Conditions of a policy's ``when:`` blocks, and the polars expressions that evaluate them.

A ``when`` mapping holds clauses that must all be true (AND); a list of values means any of them
(OR); ``any:`` holds alternative conditions and ``not:`` negates one. Every clause is evaluated on
all requests at once, against columns prepared once for all policies (``EvalContext``): model and
provider clauses are decided on the few distinct model names in Python, metadata keys are read out
of the JSON once, and prompt clauses need the request text, which is read only when a policy has one.

    when:
      category: [triage, search]          # the policy's category (or the log's)
      model: gpt-4o                       # logged model, canonical id (openai/gpt-4o), or a glob
      provider: openai
      status: ok                          # ok, error, incomplete, cancelled, expired
      mode: batch                         # batch or realtime
      user: [u_1, u_2]
      metadata.feature: ticket-triage     # a (dotted) metadata key
      tag: env:prod                       # any of the request's tags
      input_tokens: {lt: 500}             # lt, lte, gt, gte, eq; also output_tokens
      prompt: {regex: "(?i)traceback"}    # the last user message; or {keywords: [...]}
      system: {keywords: [json, schema]}  # the system prompt
      any: [{tag: vip}, {user: u_1}]
      not: {mode: batch}
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from routecost.categories import METADATA_PREFIX

Comparison = Literal["lt", "lte", "gt", "gte", "eq"]
TextField = Literal["prompt", "system"]
TEXT_COLUMNS: dict[TextField, str] = {"prompt": "last_user_message", "system": "system_prompt"}
VALUE_FIELDS = ("category", "model", "provider", "status", "mode", "user", "tag")
COUNT_FIELDS = ("input_tokens", "output_tokens")
STATUSES = ("ok", "error", "incomplete", "cancelled", "expired")
MODES = ("batch", "realtime")


@dataclass(frozen=True)
class EvalContext:
    """What conditions are evaluated against besides the row: the distinct models in the logs."""

    logged_models: tuple[str, ...] = ()
    model_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueIn:
    """A request field equal to any of the values (``model``/``provider`` also match the canonical id).

    A ``metadata.<key>`` field reads the column of that name, extracted from the JSON beforehand."""

    field: str
    values: tuple[str, ...]

    def expr(self, context: EvalContext) -> pl.Expr:
        if self.field == "tag":
            return pl.col("tags").list.eval(pl.element().is_in(list(self.values))).list.any().fill_null(False)
        if self.field == "model":
            logged = [model for model in context.logged_models if any(_name_matches(model, v) for v in self.values)]
            by_id = [
                model_id for model_id in context.model_ids
                if any(_name_matches(name, value) for value in self.values
                       for name in (model_id, model_id.rsplit("/", 1)[-1]))
            ]
            return (pl.col("model").is_in(logged) | pl.col("model_id").is_in(by_id)).fill_null(False)
        if self.field == "provider":
            by_id = [model_id for model_id in context.model_ids if model_id.split("/", 1)[0] in self.values]
            return (pl.col("provider").is_in(list(self.values)) | pl.col("model_id").is_in(by_id)).fill_null(False)
        return pl.col(self.field).is_in(list(self.values)).fill_null(False)


@dataclass(frozen=True)
class Bound:
    field: str
    comparison: Comparison
    value: int

    def expr(self, context: EvalContext) -> pl.Expr:
        column = pl.col(self.field)
        compared = {
            "lt": column < self.value,
            "lte": column <= self.value,
            "gt": column > self.value,
            "gte": column >= self.value,
            "eq": column == self.value,
        }[self.comparison]
        return compared.fill_null(False)


@dataclass(frozen=True)
class TextMatch:
    """The last user message (``prompt``) or the system prompt matches a regex (Rust syntax)."""

    field: TextField
    pattern: str

    def expr(self, context: EvalContext) -> pl.Expr:
        return pl.col(TEXT_COLUMNS[self.field]).str.contains(self.pattern).fill_null(False)


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def expr(self, context: EvalContext) -> pl.Expr:
        return _any_true(condition.expr(context) for condition in self.conditions)


@dataclass(frozen=True)
class Not:
    condition: Condition

    def expr(self, context: EvalContext) -> pl.Expr:
        return ~self.condition.expr(context)


Clause = ValueIn | Bound | TextMatch | AnyOf | Not


@dataclass(frozen=True)
class Condition:
    """Clauses that must all hold; no clauses means always."""

    clauses: tuple[Clause, ...] = ()

    def expr(self, context: EvalContext) -> pl.Expr:
        if not self.clauses:
            return pl.lit(True)
        combined = self.clauses[0].expr(context)
        for clause in self.clauses[1:]:
            combined = combined & clause.expr(context)
        return combined

    @property
    def always(self) -> bool:
        return not self.clauses

    def walk(self) -> list[Clause]:
        """Every clause, nested ones included."""
        found: list[Clause] = []
        for clause in self.clauses:
            found.append(clause)
            if isinstance(clause, AnyOf):
                for inner in clause.conditions:
                    found.extend(inner.walk())
            elif isinstance(clause, Not):
                found.extend(clause.condition.walk())
        return found

    @property
    def needs_text(self) -> bool:
        return any(isinstance(clause, TextMatch) for clause in self.walk())

    @property
    def metadata_keys(self) -> set[str]:
        return {
            clause.field.removeprefix(METADATA_PREFIX)
            for clause in self.walk()
            if isinstance(clause, ValueIn) and clause.field.startswith(METADATA_PREFIX)
        }


ALWAYS = Condition()


def _any_true(expressions: Iterable[pl.Expr]) -> pl.Expr:
    combined: pl.Expr | None = None
    for expression in expressions:
        combined = expression if combined is None else combined | expression
    return pl.lit(False) if combined is None else combined


def _name_matches(name: str, value: str) -> bool:
    """A model name equals ``value`` (case-insensitive), or matches it as a glob (``*``, ``?``)."""
    if "*" in value or "?" in value:
        return fnmatch.fnmatchcase(name.lower(), value.lower())
    return name.lower() == value.lower()


def keywords_regex(keywords: list[str]) -> str:
    """Any of the keywords, case-insensitive, as one regex."""
    return "(?i)(" + "|".join(re.escape(keyword) for keyword in keywords) + ")"


def regex_problem(pattern: str) -> str | None:
    """Why polars (Rust's regex engine) rejects a pattern, or None when it is valid."""
    try:
        pl.Series([""], dtype=pl.String()).str.contains(pattern)
    except pl.exceptions.PolarsError as error:
        return _regex_reason(str(error))
    return None


def _regex_reason(message: str) -> str:
    """The regex engine's reason and where in the pattern, on one line: its message spans several
    (the pattern, a caret under the place, then ``error: unclosed group``)."""
    lines = message.strip().splitlines()
    reason = next((line.strip().removeprefix("error: ") for line in lines if line.strip().startswith("error:")), None)
    caret = next((line for line in lines if line.strip() == "^" or set(line.strip()) == {"^"}), None)
    if reason is None:
        return lines[0]
    pattern_line = lines[lines.index(caret) - 1] if caret is not None and lines.index(caret) > 0 else None
    if caret is None or pattern_line is None:
        return reason
    column = len(caret) - len(caret.lstrip()) - (len(pattern_line) - len(pattern_line.lstrip())) + 1
    return f"{reason} (at character {column})"


UNMATCHED = "matched no request"
"""How a note about a clause that matched no request ends."""


def unmatched(labelled: Sequence[tuple[str, Condition]], requests: pl.DataFrame, context: EvalContext) -> list[str]:
    """What in a policy matched no request of the logs: a clause's whole condition, or one of several
    values it lists (a typo, ``category: [extraction, stme]``, leaves the others matching and the
    savings quietly smaller). Asked in one pass over the requests."""
    checks: list[tuple[str, pl.Expr]] = []
    for label, condition in labelled:
        if condition.always:
            continue
        checks.append((f"{label} {UNMATCHED}", condition.expr(context)))
        for clause in condition.walk():
            if isinstance(clause, ValueIn) and len(clause.values) > 1:
                checks += [(f"{label}: {clause.field} {value!r} {UNMATCHED}",
                            ValueIn(clause.field, (value,)).expr(context)) for value in clause.values]
    if not checks or requests.is_empty():
        return []
    found = requests.select(*(expr.any().alias(str(index)) for index, (_, expr) in enumerate(checks))).row(0)
    return [text for (text, _), hit in zip(checks, found, strict=True) if not hit]
