"""Escaping for where text lands: a terminal, a Markdown comment, a spreadsheet.

Log values (model names, categories, metadata), policy names and file names reach every report, and
whoever wrote the logs chose them. Each sink has one function here, and the renderers pass every
piece of text through it: a value can colour or retitle no terminal, leave no table cell, ping no
one, and run no formula.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import polars.selectors as cs
from rich.text import Text

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 control characters (ANSI and OSC escape sequences start with one; so do newlines, which
would break a line or a table cell) and the bidirectional overrides that reorder what is shown."""


def printable(text: str) -> str:
    """Control characters shown as their escapes (``\\x1b``, ``\\n``), never acted on."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def plain(text: str, style: str | None = None) -> Text:
    """Terminal text: printable, and never read as rich markup (``[bold]``, ``[link=...]``)."""
    return Text(printable(text), style=style or "")


_MARKDOWN = str.maketrans({
    **{char: "\\" + char for char in "\\`*_[]|#!~"},
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "@": "@\u2060",  # a word joiner: no mention
})


def markdown_text(text: str) -> str:
    """Text for GitHub or GitLab Markdown: printable, every character that could start emphasis, a
    link, an image, a heading or a table cell escaped, HTML as entities, and ``@`` kept from
    mentioning anyone (a word joiner after it)."""
    return printable(text).translate(_MARKDOWN)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = "^[" + re.escape("".join(_FORMULA_STARTS)) + "]"


def csv_cell(value: Any) -> Any:
    """A CSV value a spreadsheet will not run: text that starts like a formula gets a leading ``'``
    (OWASP's rule for CSV injection); numbers are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """``csv_cell`` for every text column of a frame (the per-request CSV)."""
    text = cs.string()
    return frame.with_columns(pl.when(text.str.contains(_FORMULA_PATTERN)).then(pl.lit("'") + text).otherwise(text)
                              .name.keep())
