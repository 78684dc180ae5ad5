"""Conditions of a policy's ``when:`` blocks, and the polars expressions that evaluate them.

A ``when`` mapping holds clauses that must all be true (AND); a list of values means any of them
(OR); ``any:`` holds alternative conditions and ``not:`` negates one. Every clause is evaluated on
all requests at once; prompt clauses need the request text, which is read only when a policy has one.

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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from routecost.categories import metadata_value_expr

Comparison = Literal["lt", "lte", "gt", "gte", "eq"]
TextField = Literal["prompt", "system"]
TEXT_COLUMNS: dict[TextField, str] = {"prompt": "last_user_message", "system": "system_prompt"}
VALUE_FIELDS = ("category", "model", "provider", "status", "mode", "user", "tag")
COUNT_FIELDS = ("input_tokens", "output_tokens")
STATUSES = ("ok", "error", "incomplete", "cancelled", "expired")
MODES = ("batch", "realtime")


@dataclass(frozen=True)
class ValueIn:
    """A request field equal to any of the values (``model``/``provider`` also match the canonical id)."""

    field: str
    values: tuple[str, ...]

    def expr(self) -> pl.Expr:
        if self.field == "tag":
            return pl.col("tags").list.eval(pl.element().is_in(list(self.values))).list.any().fill_null(False)
        if self.field.startswith("metadata."):
            return metadata_value_expr(self.field.removeprefix("metadata.")).is_in(list(self.values)).fill_null(False)
        if self.field == "model":
            return _any_true(_model_matches(value) for value in self.values)
        if self.field == "provider":
            provider_of_id = pl.col("model_id").str.split("/").list.first()
            return (pl.col("provider").is_in(list(self.values)) | provider_of_id.is_in(list(self.values))).fill_null(
                False
            )
        return pl.col(self.field).is_in(list(self.values)).fill_null(False)


@dataclass(frozen=True)
class Bound:
    field: str
    comparison: Comparison
    value: int

    def expr(self) -> pl.Expr:
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

    def expr(self) -> pl.Expr:
        return pl.col(TEXT_COLUMNS[self.field]).str.contains(self.pattern).fill_null(False)


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def expr(self) -> pl.Expr:
        return _any_true(condition.expr() for condition in self.conditions)


@dataclass(frozen=True)
class Not:
    condition: Condition

    def expr(self) -> pl.Expr:
        return ~self.condition.expr()


Clause = ValueIn | Bound | TextMatch | AnyOf | Not


@dataclass(frozen=True)
class Condition:
    """Clauses that must all hold; no clauses means always."""

    clauses: tuple[Clause, ...] = ()

    def expr(self) -> pl.Expr:
        if not self.clauses:
            return pl.lit(True)
        combined = self.clauses[0].expr()
        for clause in self.clauses[1:]:
            combined = combined & clause.expr()
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


ALWAYS = Condition()


def _any_true(expressions: Iterable[pl.Expr]) -> pl.Expr:
    combined: pl.Expr | None = None
    for expression in expressions:
        combined = expression if combined is None else combined | expression
    return pl.lit(False) if combined is None else combined


def _model_matches(value: str) -> pl.Expr:
    """The logged model, the canonical id (``openai/gpt-4o``) or its model part equals ``value``;
    ``*`` and ``?`` are wildcards."""
    candidates = (pl.col("model"), pl.col("model_id"), pl.col("model_id").str.split("/").list.last())
    if "*" in value or "?" in value:
        pattern = glob_regex(value)
        return _any_true(candidate.str.contains(pattern).fill_null(False) for candidate in candidates)
    return _any_true((candidate == value).fill_null(False) for candidate in candidates)


def glob_regex(pattern: str) -> str:
    """A shell-style glob as an anchored, case-insensitive regex."""
    parts = [".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern]
    return "(?i)^" + "".join(parts) + "$"


def keywords_regex(keywords: list[str]) -> str:
    """Any of the keywords, case-insensitive, as one regex."""
    return "(?i)(" + "|".join(re.escape(keyword) for keyword in keywords) + ")"


def regex_problem(pattern: str) -> str | None:
    """Why polars (Rust's regex engine) rejects a pattern, or None when it is valid."""
    try:
        pl.Series([""], dtype=pl.String()).str.contains(pattern)
    except pl.exceptions.PolarsError as error:
        return str(error).strip().splitlines()[0]
    return None
