"""Errors a user can cause. The CLI turns them into one line on stderr and exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


class UsageError(Exception):
    """Bad input, a bad flag or a bad file: reported as one line, exit code 2, no traceback."""


class InputError(UsageError):
    """A problem located in an input file, named by file, line and field."""

    def __init__(self, source: str, line: int | None, field: str | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(self.location() + problem)

    def location(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: " if self.field else f"{where}: "


@dataclass(frozen=True)
class Malformed:
    """A record that could not be read: where, and why (an example the report shows)."""

    source: str
    line: int | None
    field: str | None
    problem: str

    def message(self) -> str:
        return InputError(self.source, self.line, self.field, self.problem).args[0]
