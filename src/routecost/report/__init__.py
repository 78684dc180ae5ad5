"""Report renderers, one module per output format, all ``render(report) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from routecost.audit import AuditReport
from routecost.report import csv, html, json, markdown, table

RENDERERS: dict[str, Callable[[AuditReport], str]] = {
    "table": table.render,
    "json": json.render,
    "markdown": markdown.render,
    "csv": csv.render,
    "html": html.render,
}

__all__ = ["RENDERERS"]
