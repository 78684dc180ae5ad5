"""LiteLLM's own database: ``routecost audit postgresql://...`` reads ``LiteLLM_SpendLogs`` from a real
PostgreSQL 15 server (``tests/servers.py``), in the table LiteLLM's installed release defines.

The table is created from the proxy's own Prisma schema (``litellm/proxy/schema.prisma`` of the
LiteLLM that ``scripts/install_test_deps.sh`` installs in ``.venv-litellm``; 1.108.7 when this was
written), translated to DDL as Prisma Migrate writes it (checked against the release's own migrations below). The rows are LiteLLM's
``SpendLogsPayload`` as its own test fixture has it (``tests/logging_callback_tests/gcs_pub_sub_body/
spend_logs_payload.json``, kept in ``tests/conformance/records/litellm/``), with the usage LiteLLM
records for cached and Anthropic calls; their JSON text columns (``metadata``, ``request_tags``,
``messages``, ...) are stored as Prisma stores the JSON text LiteLLM hands it: parsed into ``jsonb``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from routecost import database
from routecost.audit import AuditOptions, run_audit
from routecost.sources.reader import OUTSIDE_WINDOW, ReaderConfig, read_logs
from tests.conftest import AS_OF, MTOK, write_jsonl
from tests.servers import Postgres, free_port, postgres_server

psycopg = pytest.importorskip("psycopg", reason="the test extra installs psycopg (routecost[postgres])")

ROOT = Path(__file__).resolve().parent.parent
ROUTECOST = [sys.executable, "-m", "routecost"]
LITELLM_FIXTURE = ROOT / "tests/conformance/records/litellm/pubsub-spendlogs-row-gpt-4o.jsonl"
HASHED_KEY = "88dc28d0f030c55ed4ab77ed8faf098196cb1c05a4a1d6c4e6a2e4b1a0f2d3c9"
"""What LiteLLM keeps in ``api_key`` and ``metadata.user_api_key``: the hash of a virtual key."""
SINCE, UNTIL = "2026-10-01", "2026-11-01"


def litellm_schema() -> Path:
    found = sorted((ROOT / ".venv-litellm").glob("lib/python*/site-packages/litellm/proxy/schema.prisma"))
    if not found:
        raise RuntimeError(f"{ROOT / '.venv-litellm'} has no litellm/proxy/schema.prisma (the README's test command "
                           "installs the LiteLLM proxy there)")
    return found[0]


# --- the table, from LiteLLM's Prisma schema ----------------------------------------------------------

PRISMA_TYPES = {"String": "TEXT", "Int": "INTEGER", "BigInt": "BIGINT", "Float": "DOUBLE PRECISION",
                "Decimal": "DECIMAL(65,30)", "Boolean": "BOOLEAN", "DateTime": "TIMESTAMP(3)", "Json": "JSONB",
                "Bytes": "BYTEA"}
"""Prisma's scalar types as Prisma Migrate creates them in PostgreSQL."""


@dataclass(frozen=True)
class PrismaTable:
    name: str
    columns: dict[str, str]
    """Column name -> its definition as Prisma Migrate writes it (``TEXT NOT NULL DEFAULT ''``)."""
    primary_key: list[str]
    indexes: list[list[str]]

    def ddl(self, schema: str | None = None) -> list[str]:
        table = f'"{schema}"."{self.name}"' if schema else f'"{self.name}"'
        columns = [f'"{name}" {definition}' for name, definition in self.columns.items()]
        keys = ", ".join(f'"{name}"' for name in self.primary_key)
        statements = [f'CREATE TABLE {table} ({", ".join(columns)}, CONSTRAINT "{self.name}_pkey" PRIMARY KEY ({keys}))']
        for index in self.indexes:
            statements.append(f'CREATE INDEX "{self.name}_{"_".join(index)}_idx" ON {table} '
                              f'({", ".join(f"{chr(34)}{name}{chr(34)}" for name in index)})')
        return statements


def prisma_table(schema_text: str, model: str) -> PrismaTable:
    """One model of a Prisma schema as the table Prisma Migrate creates for it (scalar fields only)."""
    body = re.search(rf"^model {model} \{{\n(.*?)^\}}", schema_text, re.DOTALL | re.MULTILINE)
    assert body is not None, f"no model {model}"
    name, columns, primary, indexes = model, {}, [], []
    for raw in body.group(1).splitlines():
        line = raw.split("//")[0].strip()
        if line.startswith("@@index"):
            indexes.append(re.findall(r"\w+", line.partition("[")[2].partition("]")[0]))
        elif line.startswith("@@map"):
            name = re.findall(r'"(.*?)"', line)[0]
        elif line and not line.startswith("@@"):
            field = re.match(r"(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)", line)
            assert field is not None, line
            column, kind, is_list, optional, attributes = field.groups()
            if kind not in PRISMA_TYPES:
                continue  # a relation to another model: no column
            definition = PRISMA_TYPES[kind] + ("[]" if is_list else "")
            if "@id" in attributes:
                primary.append(column)
            if not optional and not is_list:
                definition += " NOT NULL"
            default = re.search(r"@default\s*\(((?:[^()]|\(\))*)\)", attributes)
            if default and (value := _sql_default(default.group(1))) is not None:
                definition += f" DEFAULT {value}"
            mapped = re.search(r'@map\("(.*?)"\)', attributes)
            columns[mapped.group(1) if mapped else column] = definition
    return PrismaTable(name, columns, primary, indexes)


def _sql_default(value: str) -> str | None:
    if value == "now()":
        return "CURRENT_TIMESTAMP"
    if value in ("uuid()", "cuid()"):
        return None  # made by the client, not the database
    if value.startswith('"'):
        return "'" + json.loads(value).replace("'", "''") + "'"
    return value


SPEND_LOGS = prisma_table(litellm_schema().read_text(encoding="utf-8"), "LiteLLM_SpendLogs")


def test_the_tables_ddl_is_the_one_litellms_own_migrations_create():
    """The translation agrees, column by column, with the SQL migrations the same LiteLLM release ships
    (``litellm_proxy_extras/migrations``): the test table is the proxy's."""
    migrations = sorted(litellm_schema().parents[2].glob("litellm_proxy_extras/migrations/*/migration.sql"))
    assert migrations, "litellm_proxy_extras (installed with litellm[proxy]) holds the migrations"
    created: dict[str, str] = {}
    for migration in migrations:
        for statement in migration.read_text(encoding="utf-8").split(";"):
            statement = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
            if not re.search(r'(CREATE|ALTER) TABLE (IF NOT EXISTS )?"LiteLLM_SpendLogs"', statement):
                continue
            for line in statement.splitlines():
                line = line.strip().removeprefix('ALTER TABLE "LiteLLM_SpendLogs"').strip()
                column = re.fullmatch(r'(?:ADD COLUMN IF NOT EXISTS )?"(\w+)" ([A-Z].*?),?', line)
                if column:
                    created[column.group(1)] = column.group(2)
    assert created == SPEND_LOGS.columns
    assert SPEND_LOGS.primary_key == ["request_id"] and ["startTime"] in SPEND_LOGS.indexes


# --- rows as LiteLLM writes them ----------------------------------------------------------------------

FIXTURE: dict[str, Any] = json.loads(LITELLM_FIXTURE.read_text(encoding="utf-8"))
"""LiteLLM's SpendLogsPayload from its own tests: gpt-4o, 10 prompt and 20 completion tokens."""


def spend_log(request_id: str, start: str, *, model: str = "gpt-4o", provider: str = "openai", prompt: int = 10,
              completion: int = 20, spend: float = 0.0, usage: dict[str, Any] | None = None,
              call_type: str = "acompletion", cache_hit: str = "None", status: str = "success",
              feature: str = "support", json_text_metadata: bool = False) -> dict[str, Any]:
    """A row as LiteLLM writes it: its own fixture with this request's model, usage and time (UTC)."""
    metadata = json.loads(FIXTURE["metadata"])
    usage_object = {"completion_tokens": completion, "prompt_tokens": prompt, "total_tokens": prompt + completion,
                    "completion_tokens_details": None, "prompt_tokens_details": None, **(usage or {})}
    metadata.update(usage_object=usage_object, user_api_key=HASHED_KEY, user_api_key_alias="prod",
                    spend_logs_metadata={"feature": feature},
                    additional_usage_values={key: value for key, value in usage_object.items()
                                             if key not in ("completion_tokens", "prompt_tokens", "total_tokens")})
    metadata["model_map_information"]["model_map_key"] = model
    started = datetime.fromisoformat(start)
    metadata_text = json.dumps(metadata)
    return {
        **FIXTURE,
        "request_id": request_id, "call_type": call_type, "api_key": HASHED_KEY, "model": model,
        "custom_llm_provider": provider, "prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": prompt + completion, "spend": spend, "cache_hit": cache_hit, "status": status,
        "startTime": started, "endTime": started + timedelta(seconds=1.2),
        "completionStartTime": started + timedelta(seconds=0.4), "request_duration_ms": 1200,
        "metadata": json.dumps(metadata_text) if json_text_metadata else metadata_text,
        "request_tags": json.dumps(["env:prod"]),
        "messages": json.dumps([{"role": "user", "content": "the prompt: stays in the database"}]),
    }


# gpt-4o: $2.50 input, $1.25 cached input, $10.00 output per MTok (OpenAI's price page);
# claude-haiku-4-5: $1.00 input, $0.10 cache read, $1.25 5-minute cache write, $5.00 output per MTok.
FIXTURE_COST = (10 * 2.50 + 20 * 10.00) / MTOK  # = 0.000225, LiteLLM's own spend for its fixture
CACHED_COST = ((2000 - 1500) * 2.50 + 1500 * 1.25 + 300 * 10.00) / MTOK  # 0.00125 + 0.001875 + 0.003 = 0.006125
HAIKU_COST = (50 * 1.00 + 3000 * 0.10 + 1200 * 1.25 + 400 * 5.00) / MTOK  # 0.00005 + 0.0003 + 0.0015 + 0.002 = 0.00385
TEXT_METADATA_COST = (100 * 2.50 + 50 * 10.00) / MTOK  # 0.00025 + 0.0005 = 0.00075
IN_RANGE_COST = FIXTURE_COST + CACHED_COST + HAIKU_COST + TEXT_METADATA_COST  # = 0.01095; failure and cache hit: $0
EARLY_COST = FIXTURE_COST  # the row logged a millisecond before --since


def spend_logs() -> list[dict[str, Any]]:
    haiku_usage = {"cache_read_input_tokens": 3000, "cache_creation_input_tokens": 1200,
                   "prompt_tokens_details": {"cached_tokens": 3000, "cache_creation_tokens": 1200,
                                             "cache_creation_token_details": {"ephemeral_5m_input_tokens": 1200,
                                                                              "ephemeral_1h_input_tokens": 0}}}
    return [
        spend_log("chatcmpl-early", "2026-09-30T23:59:59.999", spend=EARLY_COST),
        spend_log(FIXTURE["request_id"], "2026-10-03T09:20:46.847", spend=FIXTURE_COST),
        spend_log("chatcmpl-cached", "2026-10-04T10:00:00", prompt=2000, completion=300, spend=CACHED_COST,
                  usage={"prompt_tokens_details": {"cached_tokens": 1500}, "cache_read_input_tokens": 1500},
                  feature="search"),
        spend_log("msg_01haiku", "2026-10-05T11:30:00", model="claude-haiku-4-5-20251001", provider="anthropic",
                  prompt=50 + 3000 + 1200, completion=400, spend=HAIKU_COST, usage=haiku_usage),
        spend_log("chatcmpl-failed", "2026-10-06T08:00:00", prompt=10, completion=0, status="failure"),
        spend_log("chatcmpl-cache-hit_cache_hit1791100000.5", "2026-10-07T08:00:00", cache_hit="True"),
        spend_log("chatcmpl-text-metadata", "2026-10-08T08:00:00", prompt=100, completion=50,
                  spend=TEXT_METADATA_COST, json_text_metadata=True),
        spend_log("batch_abc123", "2026-10-09T08:00:00", call_type="acreate_batch", prompt=0, completion=0),
        spend_log("chatcmpl-broken", "2026-10-10T08:00:00", prompt=2_000_000_000),  # over 100M: malformed
        spend_log("chatcmpl-impossible", "2026-10-11T08:00:00", prompt=10,  # more cached than sent: malformed
                  usage={"prompt_tokens_details": {"cached_tokens": 50}}),
        spend_log("chatcmpl-late-broken", "2026-11-01T00:00:00", prompt=2_000_000_000),  # at --until: excluded
    ]


def insert(connection: Any, rows: list[dict[str, Any]], table: str = '"LiteLLM_SpendLogs"') -> None:
    columns = [name for name in rows[0] if name in SPEND_LOGS.columns]
    statement = (f"INSERT INTO {table} ({', '.join(f'{chr(34)}{name}{chr(34)}' for name in columns)}) "
                 f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection.cursor() as cursor:
        cursor.executemany(statement, [[row[name] for name in columns] for row in rows])


@dataclass(frozen=True)
class Database:
    postgres: Postgres
    dbname: str

    def url(self, *, with_password: bool = False, query: str = "") -> str:
        return self.postgres.url(self.dbname, with_password=with_password, query=query)

    @property
    def env(self) -> dict[str, str]:
        return {"PGPASSWORD": self.postgres.password}

    def connect(self) -> Any:
        return psycopg.connect(self.url(with_password=True), autocommit=True)

    def log_after(self, offset: int) -> str:
        return self.postgres.server.log.read_bytes()[offset:].decode(errors="replace")

    def log_size(self) -> int:
        return self.postgres.server.log.stat().st_size


@pytest.fixture(scope="module")
def litellm_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with postgres_server(tmp_path_factory.mktemp("postgres")) as postgres:
        with psycopg.connect(postgres.url(with_password=True), autocommit=True) as admin:
            admin.execute("CREATE DATABASE litellm")
        db = Database(postgres, "litellm")
        with db.connect() as connection:
            for statement in SPEND_LOGS.ddl():
                connection.execute(statement)
            insert(connection, spend_logs())
        yield db


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    return subprocess.run([*ROUTECOST, *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**clean, **(env or {})})


def audit_json(*args: str, env: dict[str, str]) -> dict[str, Any]:
    done = run("audit", *args, "--format", "json", "--as-of", "2026-11-01", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- the audit --------------------------------------------------------------------------------------------


def test_a_url_is_shown_without_credentials_and_prismas_parameters_are_left_out(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "from-the-environment")
    url = database.DatabaseUrl.parse(  # LiteLLM's DATABASE_URL as Prisma takes it
        "postgresql://llmproxy:p%40ss%3Aword@db.internal:5432/litellm?schema=proxy&connection_limit=5&sslmode=require")
    assert url.display == "postgresql://db.internal:5432/litellm?table=proxy.LiteLLM_SpendLogs"
    assert url.table == ("proxy", "LiteLLM_SpendLogs")
    assert url.conninfo == "postgresql://llmproxy:p%40ss%3Aword@db.internal:5432/litellm?sslmode=require"
    assert url.redact("p@ss:word, p%40ss%3Aword and from-the-environment") == "***, *** and ***"
    other = database.DatabaseUrl.parse("postgres:///litellm?table=archive.spend_2025&password=hunter2")
    assert (other.display, other.table) == ("postgres:///litellm?table=archive.spend_2025", ("archive", "spend_2025"))
    assert other.redact("hunter2") == "***" and "table" not in other.conninfo
    with pytest.raises(database.UsageError, match=r"^postgresql://db/x\?table=: \?table= names no table"):
        database.DatabaseUrl.parse("postgresql://db/x?table=")


def test_spend_logs_rows_are_priced_exactly_from_the_database(litellm_db):
    offset = litellm_db.log_size()
    report = audit_json(litellm_db.url(), "--since", SINCE, "--until", UNTIL, "--category-key", "feature",
                        env=litellm_db.env)
    assert report["sources"] == [f"postgresql://127.0.0.1:{litellm_db.postgres.port}/litellm"]
    assert report["baseline"]["cost_usd"] == pytest.approx(IN_RANGE_COST, rel=1e-12)
    by_model = {row["model"]: row for row in report["baseline"]["by_model"]}
    assert by_model["openai/gpt-4o"]["cost_usd"] == pytest.approx(FIXTURE_COST + CACHED_COST + TEXT_METADATA_COST,
                                                                  rel=1e-12)
    assert by_model["openai/gpt-4o"]["cache_read_tokens"] == 1500
    haiku = by_model["anthropic/claude-haiku-4-5"]
    assert (haiku["input_tokens"], haiku["cache_read_tokens"], haiku["cache_write_tokens"]) == (4250, 3000, 1200)
    assert haiku["cost_usd"] == pytest.approx(HAIKU_COST, rel=1e-12)
    # failure and response-cache hit are requests that cost nothing; the batch job is not a request
    assert (report["requests"], report["successful_requests"], report["failed_requests"]) == (6, 5, 1)
    assert report["skipped"] == {"LiteLLM batch-job bookkeeping row": 1}  # and nothing fetched outside the range
    source = f"postgresql://127.0.0.1:{litellm_db.postgres.port}/litellm"
    assert report["malformed"] == 2
    assert report["malformed_examples"] == [
        f"{source} request_id chatcmpl-broken: prompt_tokens: Expected `int` <= 100000000 (litellm-spendlog row)",
        (f"{source} request_id chatcmpl-impossible: cache_read_tokens: cache reads and writes exceed the input "
         "they are part of")]
    assert {row["category"]: row["requests"] for row in report["baseline"]["categories"]} == {"support": 5, "search": 1}
    assert report["reconciliation"]["differing_requests"] == 0  # routecost agrees with LiteLLM's spend
    assert report["period"]["start"] == "2026-10-03T09:20:46.847000Z"
    statement = _declared(litellm_db.log_after(offset))
    assert re.search(r'WHERE "startTime" >= \$1 AND "startTime" < \$2 ORDER BY "startTime", "request_id"', statement)
    assert "$1 = '2026-10-01 00:00:00', $2 = '2026-11-01 00:00:00'" in statement


def _declared(log: str) -> str:
    """The statement that declared routecost's cursor, and its parameters, from the server's statement log."""
    found = re.search(r'LOG:  execute \S+: (DECLARE "routecost_spend_logs" .*?)\n(?:.*DETAIL:  (parameters: .*?)\n)?',
                      log)
    assert found is not None, log[-3000:]
    return " ".join(filter(None, found.groups()))


def test_strict_stops_at_the_first_bad_row_named_by_its_request_id(litellm_db):
    line = _error(run("audit", litellm_db.url(), "--strict", "--since", SINCE, "--until", UNTIL, env=litellm_db.env),
                  _secret_forms(litellm_db.postgres.password))
    assert line == (f"routecost: error: postgresql://127.0.0.1:{litellm_db.postgres.port}/litellm request_id "
                    "chatcmpl-broken: prompt_tokens: Expected `int` <= 100000000 (litellm-spendlog row)")


def test_the_other_commands_read_the_database_too(litellm_db):
    done = run("policy", "init", litellm_db.url(), "--category-key", "feature", env=litellm_db.env)
    assert done.returncode == 0, done.stderr
    assert "openai/gpt-4o" in done.stdout and "search" in done.stdout


def test_only_the_columns_and_keys_pricing_needs_are_selected(litellm_db):
    offset = litellm_db.log_size()
    run("audit", litellm_db.url(), "--format", "json", env=litellm_db.env)
    statement = _declared(litellm_db.log_after(offset))
    selected = set(re.findall(r"'(\w+)', ", statement.partition("json_build_object(")[2]))
    assert {"request_id", "startTime", "model", "prompt_tokens", "spend", "metadata"} <= selected
    assert not selected & {"api_key", "messages", "response", "proxy_server_request", "cache_key", "api_base",
                           "requester_ip_address"}
    metadata_keys = set(re.findall(r"'(\w+)'", statement.partition("WHERE key IN (")[2].partition(")")[0]))
    assert metadata_keys == {"usage_object", "additional_usage_values", "spend_logs_metadata", "requester_metadata",
                             "user_api_key_user_id", "user_api_key_end_user_id"}  # never user_api_key (the hash)
    assert "WHERE \"startTime\"" not in statement  # no time range, no filter


def test_the_same_rows_exported_to_json_lines_give_the_same_audit(litellm_db, tmp_path, monkeypatch):
    """The rows as a database export writes them (``row_to_json``: every column), read as the existing
    ``litellm-spendlog`` format, price to the same cents, row by row, as the rows read from the table."""
    with litellm_db.connect() as connection:
        exported = [row[0] for row in connection.execute(
            'SELECT row_to_json(t) FROM "LiteLLM_SpendLogs" t ORDER BY "startTime"')]
    path = write_jsonl(tmp_path / "spend_logs.jsonl", exported)
    monkeypatch.setenv("PGPASSWORD", litellm_db.postgres.password)
    from_db, from_file = (run_audit(AuditOptions(paths=[source], reader=ReaderConfig(workers=1), as_of=AS_OF))
                          for source in (litellm_db.url(), str(path)))
    assert from_db.report.cost_usd == pytest.approx(IN_RANGE_COST + EARLY_COST, rel=1e-12)
    assert from_file.report.cost_usd == pytest.approx(from_db.report.cost_usd, rel=1e-12)
    columns = ["request_id", "ts", "model_id", "input_tokens", "cache_read_tokens", "cache_write_tokens",
               "output_tokens", "status", "gateway_cache_hit", "latency_ms", "cost_usd", "logged_cost_usd"]
    assert (from_db.priced.requests.select(columns).sort("request_id").to_dicts()
            == from_file.priced.requests.select(columns).sort("request_id").to_dicts())
    assert (from_db.report.malformed, from_db.report.skipped) == (from_file.report.malformed, from_file.report.skipped)
    assert set(from_db.priced.requests["format"].to_list()) == {"litellm-spendlog"}


def test_a_schema_qualified_table_is_streamed_through_a_server_side_cursor(litellm_db, monkeypatch):
    """50,000 rows, fetched 2,000 at a time: the server's log shows the cursor and each FETCH, and the
    reader never held more than one block of rows from it."""
    rows, itersize = 50_000, 2_000
    with litellm_db.connect() as connection:
        connection.execute('CREATE SCHEMA IF NOT EXISTS archive')
        for statement in SPEND_LOGS.ddl(schema="archive"):
            connection.execute(statement.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")
                               .replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
        connection.execute('TRUNCATE archive."LiteLLM_SpendLogs"')
        connection.execute(  # gpt-4o, 1000 prompt and 100 completion tokens each, one a second from 2026-10-01
            """INSERT INTO archive."LiteLLM_SpendLogs" ("request_id", "call_type", "spend", "total_tokens",
                   "prompt_tokens", "completion_tokens", "startTime", "endTime", "model", "custom_llm_provider",
                   "metadata", "cache_hit", "request_tags", "status")
               SELECT 'chatcmpl-' || n, 'acompletion', 0.0035, 1100, 1000, 100,
                      TIMESTAMP '2026-10-01' + n * INTERVAL '1 second', TIMESTAMP '2026-10-01' + n * INTERVAL '1 second',
                      'gpt-4o', 'openai',
                      jsonb_build_object('user_api_key', %s::text, 'usage_object',
                                         jsonb_build_object('prompt_tokens', 1000, 'completion_tokens', 100)),
                      'False', '[]', 'success'
               FROM generate_series(1, %s) AS n""", (HASHED_KEY, rows))
    blocks: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Iterator[list[tuple[str, str]]]:
        for block in real(*args, **kwargs):
            blocks.append(len(block))
            yield block

    real = database.spend_log_rows
    monkeypatch.setattr(database, "spend_log_rows", counted)
    monkeypatch.setattr(database, "ITERSIZE", itersize)
    monkeypatch.setenv("PGPASSWORD", litellm_db.postgres.password)
    offset = litellm_db.log_size()
    read = read_logs([litellm_db.url(query="?table=archive.LiteLLM_SpendLogs")], ReaderConfig(workers=1))
    assert read.requests.height == rows and read.malformed == 0
    assert read.sources == [f"postgresql://127.0.0.1:{litellm_db.postgres.port}/litellm?table=archive.LiteLLM_SpendLogs"]
    assert blocks == [itersize] * (rows // itersize)
    log = litellm_db.log_after(offset)
    assert 'DECLARE "routecost_spend_logs" CURSOR FOR SELECT' in log and 'FROM "archive"."LiteLLM_SpendLogs"' in log
    assert log.count(f'FETCH FORWARD {itersize} FROM "routecost_spend_logs"') == rows // itersize + 1  # + the empty one
    audit = run_audit(AuditOptions(paths=[litellm_db.url(query="?schema=archive")], reader=ReaderConfig(workers=1),
                                   as_of=AS_OF))  # Prisma's ?schema= (LiteLLM's DATABASE_URL) names it too
    assert audit.report.cost_usd == pytest.approx(rows * (1000 * 2.50 + 100 * 10.00) / MTOK, rel=1e-9)  # $175


def test_a_time_range_leaves_the_rows_outside_it_in_the_database(litellm_db, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", litellm_db.postgres.password)
    since, until = datetime(2026, 10, 4, tzinfo=UTC), datetime(2026, 10, 6, tzinfo=UTC)
    blocks: list[list[tuple[str, str]]] = []
    real = database.spend_log_rows
    monkeypatch.setattr(database, "spend_log_rows", lambda *args: (blocks.append(b) or b for b in real(*args)))
    read = read_logs([litellm_db.url()], ReaderConfig(workers=1, since=since, until=until))
    assert [request_id for block in blocks for request_id, _ in block] == ["chatcmpl-cached", "msg_01haiku"]
    assert read.requests["request_id"].to_list() == ["chatcmpl-cached", "msg_01haiku"]
    assert OUTSIDE_WINDOW not in read.skipped
    empty = read_logs([litellm_db.url()], ReaderConfig(workers=1, since=datetime(2030, 1, 1, tzinfo=UTC)))
    assert empty.requests.height == 0
    assert empty.notes == [(f"postgresql://127.0.0.1:{litellm_db.postgres.port}/litellm: no rows in "
                            "LiteLLM_SpendLogs in --since/--until")]


# --- credentials and errors -------------------------------------------------------------------------------


def _secret_forms(password: str) -> list[str]:
    return [password, quote(password, safe="")]


def test_the_password_is_never_shown_or_stored(litellm_db, tmp_path):
    """A password written in the URL (the user's choice) is used, and appears in no output, report or file."""
    per_request = tmp_path / "requests.jsonl"
    done = run("audit", litellm_db.url(with_password=True), "--per-request", str(per_request), "--format", "json",
               "--since", SINCE, "--until", UNTIL)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["sources"] == [f"postgresql://127.0.0.1:{litellm_db.postgres.port}/litellm"]
    assert report["baseline"]["cost_usd"] == pytest.approx(IN_RANGE_COST, rel=1e-12)
    written = per_request.read_text(encoding="utf-8")
    for secret in _secret_forms(litellm_db.postgres.password):
        assert secret not in done.stdout and secret not in done.stderr and secret not in written
    assert litellm_db.postgres.user not in report["sources"][0]  # no user either
    assert HASHED_KEY not in done.stdout and HASHED_KEY not in written


def test_the_password_file_of_libpq_is_used(litellm_db, tmp_path):
    """``~/.pgpass`` (here ``PGPASSFILE``): no password on the command line or in the environment."""
    escaped = litellm_db.postgres.password.replace("\\", "\\\\").replace(":", "\\:")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{litellm_db.postgres.port}:litellm:routecost:{escaped}\n", encoding="utf-8")
    passfile.chmod(0o600)
    report = audit_json(litellm_db.url(), "--since", SINCE, "--until", UNTIL, env={"PGPASSFILE": str(passfile)})
    assert report["baseline"]["cost_usd"] == pytest.approx(IN_RANGE_COST, rel=1e-12)


def _error(done: subprocess.CompletedProcess[str], secrets: list[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == "" and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("routecost: error: postgres"), done.stderr
    for secret in secrets:
        assert secret not in done.stderr
    return lines[0]


def test_a_wrong_password_is_a_one_line_error_that_does_not_show_it(litellm_db):
    wrong = "Wr0ng-secret:@/%"
    url = f"postgresql://routecost:{quote(wrong, safe='')}@127.0.0.1:{litellm_db.postgres.port}/litellm"
    line = _error(run("audit", url), _secret_forms(wrong))
    assert "cannot connect" in line and 'password authentication failed for user "routecost"' in line
    line = _error(run("audit", litellm_db.url(), env={"PGPASSWORD": wrong}), _secret_forms(wrong))
    assert "password authentication failed" in line


@pytest.mark.parametrize(("query", "expected"), [
    ("?table=NoSuchTable", "no table NoSuchTable in this database"),
    ("?table=nowhere.LiteLLM_SpendLogs", "no table nowhere.LiteLLM_SpendLogs in this database"),
    ("?table=pg_catalog.pg_class", ("pg_catalog.pg_class has no column request_id, call_type, startTime, model, "
                                    "spend, prompt_tokens, completion_tokens: not a LiteLLM_SpendLogs table")),
    ("?sslmode=sometimes", 'invalid sslmode value: "sometimes"'),
])
def test_a_missing_table_or_a_bad_url_is_a_one_line_error(litellm_db, query, expected):
    line = _error(run("audit", litellm_db.url(query=query), env=litellm_db.env),
                  _secret_forms(litellm_db.postgres.password))
    assert expected in line


def test_a_server_that_cannot_be_reached_is_a_one_line_error(litellm_db):
    port = free_port()
    line = _error(run("audit", f"postgres://routecost:hunter2@127.0.0.1:{port}/litellm"), ["hunter2"])
    assert line.startswith(f"routecost: error: postgres://127.0.0.1:{port}/litellm: cannot connect: ")
    assert "Connection refused" in line
    line = _error(run("audit", "postgresql://routecost:hunter2@127.0.0.1:notaport/litellm"), ["hunter2"])
    assert 'invalid integer value "notaport" for connection option "port"' in line


def test_without_the_postgres_extra_the_error_says_how_to_install_it(litellm_db):
    code = ("import sys; sys.modules['psycopg'] = None; sys.argv = ['routecost', 'audit', sys.argv[1]]; "
            "from routecost.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, litellm_db.url()], capture_output=True, text=True,
                          timeout=60, check=False)
    line = _error(done, [])
    assert line.endswith("reading a PostgreSQL database needs psycopg: pip install 'routecost[postgres]'")
