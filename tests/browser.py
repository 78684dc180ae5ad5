"""Headless Chromium driven over the DevTools protocol (a websocket), for tests that need a real
browser: open a local file, evaluate script in the page, collect console errors and uncaught
exceptions, and take a full-page screenshot.

Debian's ``chromium`` is installed by the README's test command; where no Chromium is found the
tests using it skip and say why.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.servers import ServerDied, describe_exit

EXECUTABLES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((path for name in EXECUTABLES if (path := shutil.which(name))), None)


class Chromium:
    def __init__(self, executable: str, timeout_s: float = 30.0) -> None:
        self.executable = executable
        self.timeout_s = timeout_s
        self._profile = tempfile.TemporaryDirectory()
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        self._process: subprocess.Popen[str] | None = None
        self._socket: ClientConnection | None = None
        self._connections = contextlib.ExitStack()
        self._stderr_tail: deque[str] = deque(maxlen=30)

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [self.executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--remote-debugging-port=0", f"--user-data-dir={self._profile.name}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self._process.stderr is not None
        deadline = time.monotonic() + self.timeout_s
        for line in self._process.stderr:
            if line.startswith("DevTools listening on "):
                self._socket = self._connections.enter_context(self._connect(line.split(" on ", 1)[1].strip(), deadline))
                # keep reading what the browser writes, or a full pipe would stall it
                threading.Thread(target=self._stderr_tail.extend, args=(self._process.stderr,), daemon=True).start()
                return self
            if time.monotonic() > deadline:
                break
        code = self._process.poll()
        self.__exit__()
        ended = "" if code is None else f": it exited with {describe_exit(code)}"
        raise ServerDied(f"{self.executable} did not open its DevTools port{ended}")

    def _connect(self, url: str, deadline: float) -> ClientConnection:
        """The DevTools websocket; the port is announced a moment before it accepts connections."""
        while True:
            try:
                return connect(url, max_size=None, open_timeout=self.timeout_s)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self._connections.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._profile.cleanup()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send a command and wait for its answer, keeping the events that arrive meanwhile."""
        assert self._socket is not None
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:
            reply = self._receive()
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self._events.append(reply)

    def _receive(self) -> dict[str, Any]:
        """The next DevTools message; a browser that died says how, not just that the socket closed."""
        assert self._socket is not None and self._process is not None
        try:
            return dict(json.loads(self._socket.recv(timeout=self.timeout_s)))
        except ConnectionClosed as closed:
            try:
                code = self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                raise closed from None
            raise ServerDied(f"Chromium (pid {self._process.pid}) exited with {describe_exit(code)}; its last output:\n"
                             + "".join(self._stderr_tail)) from closed

    def wait_for(self, method: str, session: str) -> None:
        assert self._socket is not None
        if any(event.get("method") == method and event.get("sessionId") == session for event in self._events):
            return
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            event = self._receive()
            self._events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return
        raise TimeoutError(method)

    def open(self, path: Path) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session)
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session)

    def errors(self, session: str) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors of a page so far."""
        found = []
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", "error"))
        return found


class Page:
    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def evaluate(self, expression: str) -> Any:
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("text", "evaluation failed"))
        return result["result"].get("value")

    def errors(self) -> list[str]:
        return self.browser.errors(self.session)

    def screenshot(self, path: Path) -> None:
        data = self.browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                 self.session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
