"""LiteLLM's own database as a log source: a ``postgresql://`` (or ``postgres://``) URL names it.

The proxy keeps one row per request in ``LiteLLM_SpendLogs`` (``litellm/proxy/schema.prisma``). Its rows
are read with a server-side cursor, ``ITERSIZE`` at a time, so a table of millions of rows is never
held by the client; only the columns the ``litellm-spendlog`` format reads are selected, and of the
``metadata`` JSON only the keys it reads (usage, the caller's metadata, the user): the prompt and
answer (``messages``, ``response``), the stored request and the hashed key never leave the server. A
``--since``/``--until`` range becomes the query's ``WHERE "startTime" >= … AND "startTime" < …`` (the
table's own index). PostgreSQL writes each row as the JSON record a SpendLogs export holds, and the
reader parses it with the same struct as an exported row (``sources/litellm.py``).

Credentials come from libpq's own chain: ``PGPASSWORD``, ``~/.pgpass`` (or ``PGPASSFILE``),
``PGSERVICE``, ``PGUSER``/``PGHOST``/…, or a password the user wrote in the URL. None is ever shown:
sources are named without their user and password (``DatabaseUrl.display``), and every message
from the server or the driver has them replaced.

Kept free of heavy imports (``paths.py`` consults it before the command line loads polars);
psycopg is imported when a database is read (the optional extra ``routecost[postgres]``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from routecost.errors import UsageError

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_TABLE = "LiteLLM_SpendLogs"
ITERSIZE = 5_000
"""Rows fetched from the server-side cursor at a time."""
CURSOR_NAME = "routecost_spend_logs"
CONNECT_TIMEOUT_S = 10
"""How long to wait for the server when neither the URL nor ``PGCONNECT_TIMEOUT`` says."""
REQUIRED_COLUMNS = ("request_id", "call_type", "startTime", "model", "spend", "prompt_tokens", "completion_tokens")
PRISMA_PARAMETERS = frozenset(
    {"connection_limit", "pool_timeout", "pgbouncer", "socket_timeout", "sslaccept", "statement_cache_size"}
)
"""Parameters of Prisma's URLs (LiteLLM's ``DATABASE_URL``) that libpq does not know: left out.
Prisma's ``schema`` names the table's schema, as ``?table=SCHEMA.TABLE`` does."""
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})
_JSON_TYPES = {114: "json", 3802: "jsonb"}
_TIMESTAMPTZ = 1184


def is_database_url(path: str) -> bool:
    return path[:13].lower().startswith(SCHEMES)


@dataclass(frozen=True)
class DatabaseUrl:
    """A database source: what libpq is given, what is shown, and the table read."""

    conninfo: str
    """The URL for libpq: without ``table`` and Prisma's parameters (never shown)."""
    display: str
    """The URL without user, password or parameters (and ``?table=`` when one was named)."""
    table: tuple[str, ...]
    """(table,) or (schema, table), each an identifier as written (case kept)."""
    secrets: tuple[str, ...] = ()

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        scheme, _, rest = url.partition("://")
        rest = rest.partition("#")[0]
        location, _, query = rest.partition("?")
        netloc, _, dbname = location.partition("/")
        userinfo, _, hosts = netloc.rpartition("@")
        password = userinfo.partition(":")[2]
        secrets = [password, unquote(password), os.environ.get("PGPASSWORD", "")]
        kept, table, schema = [], None, None
        for part in filter(None, query.split("&")):
            key, _, value = (unquote(piece) for piece in part.partition("="))
            if key == "table":
                table = value
            elif key == "schema":
                schema = value
            elif key not in PRISMA_PARAMETERS:
                kept.append(part)
                if key in SECRET_PARAMETERS:
                    secrets += [value, part.partition("=")[2]]
        names = tuple((DEFAULT_TABLE if table is None else table).split(".", 1))
        if schema is not None and len(names) == 1:
            names = (schema, *names)
        display = f"{scheme.lower()}://{hosts}" + (f"/{dbname}" if dbname else "")
        if table is not None or schema is not None:
            display += f"?table={'.'.join(names)}"
        parsed = cls(
            conninfo=f"{scheme}://{location}" + ("?" + "&".join(kept) if kept else ""),
            display=display,
            table=names,
            secrets=tuple(sorted({secret for secret in secrets if secret}, key=len, reverse=True)),
        )
        if not all(names):
            raise UsageError(f"{parsed.display}: ?table= names no table (give TABLE or SCHEMA.TABLE)")
        return parsed

    @property
    def table_name(self) -> str:
        return ".".join(self.table)

    def redact(self, text: str) -> str:
        """``text`` with every credential of this source replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def problem(self, what: str, error: BaseException) -> UsageError:
        """A one-line error about this source, the driver's message redacted."""
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = self.redact(" ".join(lines)) or type(error).__name__
        return UsageError(f"{self.display}: {what}: {detail}")


def _psycopg(url: DatabaseUrl) -> Any:
    try:
        import psycopg
    except ImportError:
        raise UsageError(f"{url.display}: reading a PostgreSQL database needs psycopg: "
                         "pip install 'routecost[postgres]'") from None
    return psycopg


@contextmanager
def connected(url: DatabaseUrl) -> Iterator[psycopg.Connection[Any]]:
    """A read-only connection (closed afterwards); a server that cannot be reached is a one-line error."""
    psycopg = _psycopg(url)
    options: dict[str, Any] = {}
    if "connect_timeout" not in url.conninfo and not os.environ.get("PGCONNECT_TIMEOUT"):
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in url.conninfo and not os.environ.get("PGAPPNAME"):
        options["application_name"] = "routecost"
    try:
        connection = psycopg.connect(url.conninfo, **options)
    except psycopg.Error as error:
        raise url.problem("cannot connect", error) from None
    with connection:
        connection.read_only = True
        yield connection


def spend_log_rows(url: DatabaseUrl, since: datetime | None = None, until: datetime | None = None,
                   itersize: int | None = None) -> Iterator[list[tuple[str, str]]]:
    """The table's rows in ``[since, until)`` by ``startTime``, as (request_id, the row's JSON record),
    a block of up to ``itersize`` rows at a time."""
    psycopg = _psycopg(url)
    from psycopg import errors, sql

    table = sql.Identifier(*url.table)
    with connected(url) as connection:
        try:
            columns = {column.name: column.type_code
                       for column in connection.execute(sql.SQL("SELECT * FROM {} WHERE false").format(table)).description
                       or ()}
        except (errors.UndefinedTable, errors.InvalidSchemaName):
            raise UsageError(f"{url.display}: no table {url.table_name} in this database (LiteLLM's is "
                             f"{DEFAULT_TABLE}; name another with ?table=SCHEMA.TABLE)") from None
        except psycopg.Error as error:
            raise url.problem(f"cannot read {url.table_name}", error) from None
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise UsageError(f"{url.display}: {url.table_name} has no column {', '.join(missing)}: "
                             "not a LiteLLM_SpendLogs table")
        query, parameters = spend_log_query(table, columns, since, until)
        try:
            with connection.cursor(name=CURSOR_NAME) as cursor:
                cursor.execute(query, parameters)
                while rows := cursor.fetchmany(itersize or ITERSIZE):
                    yield rows
        except psycopg.Error as error:
            raise url.problem(f"cannot read {url.table_name}", error) from None


def spend_log_query(table: sql.Identifier, columns: dict[str, int], since: datetime | None,
                    until: datetime | None) -> tuple[sql.Composed, list[datetime]]:
    """The SELECT: each row as the JSON record of the columns the parser reads (those the table has),
    in ``startTime`` order, within the time range."""
    from psycopg import sql

    from routecost.sources.litellm import PayloadMetadata, SpendLogRow

    pairs: list[sql.Composable] = []
    for name in SpendLogRow.__struct_fields__:
        if name not in columns:
            continue
        value: sql.Composable = sql.Identifier(name)
        if name == "metadata" and columns[name] in _JSON_TYPES:
            value = _only_keys(value if columns[name] == 3802 else sql.SQL("{}::jsonb").format(value),
                               PayloadMetadata.__struct_fields__)
        pairs += [sql.Literal(name), value]
    start = sql.Identifier("startTime")
    where: list[sql.Composable] = []
    parameters: list[datetime] = []
    for operator, moment in ((">=", since), ("<", until)):
        if moment is not None:
            where.append(sql.SQL("{} {} %s").format(start, sql.SQL(operator)))
            parameters.append(_as_column_time(moment, columns["startTime"]))
    query = sql.SQL("SELECT {id}, json_build_object({pairs})::text FROM {table}{where} ORDER BY {start}, {id}").format(
        id=sql.Identifier("request_id"),
        pairs=sql.SQL(", ").join(pairs),
        table=table,
        where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
        start=start,
    )
    return query, parameters


def _only_keys(value: sql.Composable, keys: tuple[str, ...]) -> sql.Composed:
    """A JSON object with only ``keys`` of it (those present); anything but an object as it is."""
    from psycopg import sql

    return sql.SQL(
        "CASE WHEN jsonb_typeof({value}) = 'object' THEN (SELECT coalesce(jsonb_object_agg(key, value), '{{}}') "
        "FROM jsonb_each({value}) WHERE key IN ({keys})) ELSE {value} END"
    ).format(value=value, keys=sql.SQL(", ").join(map(sql.Literal, keys)))


def _as_column_time(moment: datetime, type_code: int) -> datetime:
    """A bound for ``startTime``: LiteLLM's column is a timestamp without time zone holding UTC, compared
    with a UTC time without zone (a zoned one would be converted with the session's TimeZone)."""
    if type_code == _TIMESTAMPTZ:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment
