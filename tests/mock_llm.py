"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions and Anthropic messages APIs,
with faults to inject: rate limits with Retry-After, server errors, answers slower than the client's
timeout, bodies that are not JSON, and connections dropped without an answer.

A request's faults are chosen by a marker in its last user message (``faults["[flaky]"] = ["429",
"500"]`` answers the first two requests carrying ``[flaky]`` with those faults, then normally).
Judge requests (the judge's system prompt) are answered with ``judge_reply``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from routecost.replay.judge import JUDGE_SYSTEM


class MockLLM:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.faults: dict[str, list[str]] = {}
        self.always: dict[str, str] = {}
        """Markers whose requests always get this fault."""
        self.hits: Counter[str] = Counter()
        """Requests received per last user message (judge requests under ``judge``)."""
        self.completed: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.delay_s = delay_s
        self.slow_s = 2.0
        self.judge_reply: Callable[[str], str] = lambda prompt: '{"winner": "B"}'
        self.judge_fault: str | None = None
        """A fault every judge request gets."""
        self.refuse_formats: dict[str, tuple[int, str]] = {}
        """Response-format types (``json_schema``, ``json_object``) refused with this status and error
        message, as a server without them does (none by default)."""
        self.formats: list[str | None] = []
        """The response-format type of each judge request received (None without one)."""
        self.answer: Callable[[str, str], str] = lambda model, text: f"{model} says: {text[:40]}"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _fault(self, text: str) -> str | None:
        with self._lock:
            for marker, fault in self.always.items():
                if marker in text:
                    return fault
            for marker, pending in self.faults.items():
                if marker in text and pending:
                    return pending.pop(0)
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                anthropic = self.path.endswith("/messages")
                system = body.get("system", "") if anthropic else next(
                    (message["content"] for message in body["messages"] if message["role"] == "system"), "")
                last = [message for message in body["messages"] if message["role"] == "user"][-1]["content"]
                judging = system == JUDGE_SYSTEM
                key = "judge" if judging else last
                with mock._lock:
                    mock.hits[key] += 1
                    mock.headers.append({name.lower(): value for name, value in self.headers.items()})
                response_format = (body.get("response_format") or {}).get("type")
                if judging:
                    with mock._lock:
                        mock.formats.append(response_format)
                if response_format in mock.refuse_formats:
                    status, message = mock.refuse_formats[response_format]
                    return self._send(status, {"error": {"message": message}})
                fault = mock.judge_fault if judging else mock._fault(last)
                if fault == "429":
                    return self._send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0.05"})
                if fault == "500":
                    return self._send(500, {"error": {"message": "boom"}})
                if fault == "400":
                    return self._send(400, {"error": {"message": "bad request"}})
                if fault == "echo":  # a server that echoes the credentials it was sent
                    sent = self.headers.get("authorization") or self.headers.get("x-api-key")
                    return self._send(401, {"error": {"message": f"invalid credentials: {sent}"}})
                if fault == "slow":
                    time.sleep(mock.slow_s)
                if fault == "malformed":
                    return self._send_raw(200, b'{"choices": [{"message": ')
                if fault == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return None
                if mock.delay_s:
                    time.sleep(mock.delay_s)
                text = mock.judge_reply(last) if judging else mock.answer(body["model"], last)
                words = sum(len(str(message["content"]).split()) for message in body["messages"]) + len(system.split())
                completion = len(text.split())
                with mock._lock:
                    mock.completed[key] += 1
                if anthropic:
                    return self._send(200, {"id": "msg_1", "type": "message", "role": "assistant",
                                            "model": body["model"], "content": [{"type": "text", "text": text}],
                                            "usage": {"input_tokens": words, "output_tokens": completion}})
                return self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                     "finish_reason": "stop"}],
                                        "usage": {"prompt_tokens": words, "completion_tokens": completion,
                                                  "total_tokens": words + completion}})

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(payload).encode(), headers)

            def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler



def hits_by_marker(mock: MockLLM, markers: list[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for text, count in mock.hits.items():
        for marker in markers:
            if marker in text:
                counts[marker] += count
    return dict(counts)


_PAIR = re.compile(r"\[Conversation\]\n(?P<conversation>.*)\n\n\[Answer A\]\n(?P<a>.*)\n\n\[Answer B\]\n(?P<b>.*)\n\nReply",
                   re.DOTALL)
_SINGLE = re.compile(r"\[Conversation\]\n(?P<conversation>.*)\n\n\[Answer\]\n(?P<answer>.*)\n\nReply", re.DOTALL)


def fair_judge(prompt: str) -> str:
    """A judge that tells answers apart, whichever comes first: an answer that takes up the user's
    last question beats one that does not, then the longer wins (pairwise); it scores 3 for an
    answer that does not take it up, more the longer it is (rubric)."""
    pair = _PAIR.search(prompt)
    if pair is None:
        single = _SINGLE.search(prompt)
        assert single is not None, prompt
        relevant, words = _merit(single["conversation"], single["answer"])
        return json.dumps({"score": min(10, 3 + words // 4) if relevant else 3})
    first, second = _merit(pair["conversation"], pair["a"]), _merit(pair["conversation"], pair["b"])
    return json.dumps({"winner": "A" if first > second else "B" if second > first else "tie"})


def _merit(conversation: str, answer: str) -> tuple[bool, int]:
    question = conversation.rpartition("USER: ")[2].strip()
    return question in answer, len(answer.split())
