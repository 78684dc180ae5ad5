"""A test that loses its server says how the server ended, not just that a connection failed."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import ServerDied, dead_servers, describe_exit, free_port, running


def toy_server(tmp_path: Path) -> tuple[list[str], str]:
    port = free_port()
    return [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)], f"http://127.0.0.1:{port}/"


def killed(server_process: object, signal_number: int) -> None:
    os.kill(server_process.pid, signal_number)  # type: ignore[attr-defined]
    server_process.wait(timeout=10)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("code", "expected"), [
    (-signal.SIGILL, "status 132 (SIGILL: illegal instruction"),
    (-signal.SIGSEGV, "status 139 (SIGSEGV: segmentation fault"),
    (3, "status 3"),
])
def test_an_exit_is_described_as_a_shell_shows_it(code: int, expected: str) -> None:
    assert describe_exit(code).startswith(expected)


def test_a_server_killed_inside_the_block_raises_its_exit_and_log(tmp_path: Path) -> None:
    command, url = toy_server(tmp_path)
    with pytest.raises(ServerDied) as died, running(command, url, {}, tmp_path / "toy.log", "the toy server") as server:
        killed(server.process, signal.SIGILL)
        httpx.get(url, timeout=2)
    message = str(died.value)
    assert message.startswith("the toy server (pid ")
    assert "exited with status 132 (SIGILL" in message and str(tmp_path / "toy.log") in message
    assert isinstance(died.value.__cause__, httpx.ConnectError)
    assert dead_servers() == []  # stopped servers are forgotten


def test_a_server_that_exits_during_start_up_says_so(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('no model file here'); sys.exit(3)"]
    expected = r"(?s)during start-up: the toy server .* exited with status 3; .*no model file here"
    with pytest.raises(ServerDied, match=expected), running(
            command, f"http://127.0.0.1:{free_port()}/", {}, tmp_path / "toy.log", "the toy server", timeout_s=30):
        pass


def test_a_test_whose_fixture_server_died_fails_with_the_exit(pytester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    pytester.makeconftest("from tests.servers import pytest_runtest_call  # noqa: F401\n")
    pytester.makepyfile(test_uses_a_server='''
import os, signal, sys
import httpx, pytest
from tests.servers import free_port, running

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    log = tmp_path_factory.mktemp("server") / "server.log"
    with running(command, f"http://127.0.0.1:{port}/", {}, log, "the toy server") as started:
        yield started, f"http://127.0.0.1:{port}/"

def test_loses_it(server):
    started, url = server
    os.kill(started.process.pid, signal.SIGILL)
    started.process.wait(timeout=10)
    httpx.get(url, timeout=2)
''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ServerDied: the toy server (pid *) exited with status 132 (SIGILL*"])
