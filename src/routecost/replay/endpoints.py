"""Where replay sends each model's requests: a base URL, the API it speaks, and the NAME of the
environment variable holding its key (keys are read from the environment at call time, never
stored, printed or logged).

Defaults cover the big providers' public APIs. An endpoints file (``--endpoints FILE``) adds
gateways and self-hosted servers and takes precedence, first match wins::

    endpoints:
      - name: gateway
        base_url: http://127.0.0.1:4000/v1
        api: openai                     # openai (chat completions) or anthropic (messages)
        key_env: LITELLM_MASTER_KEY     # the variable's name, not the key
        headers: {X-Team: platform}
        models: [openai/*, anthropic/claude-haiku-4-5]   # canonical ids, * globs
        model_names: {openai/gpt-4o-mini: mini}          # what the endpoint calls them (default: the
                                                         # part after the provider)
        json_mode: auto                 # how the judge asks for JSON (below)
        timeout: 120                    # seconds per attempt

``json_mode`` is the strongest way the judge asks for a JSON reply; the client steps down from it
when the endpoint refuses it (an HTTP error naming the response format, the schema or the grammar:
llama.cpp behind LiteLLM answers OpenAI's ``json_schema`` with a 500), at once and without spending
retries, and the rest of the run starts where it landed for that endpoint and model:

- ``auto`` (the default): ``openai`` on an ``api: openai`` endpoint, ``prompt`` on ``api: anthropic``;
- ``openai``: OpenAI's ``json_schema`` response format (strict), then ``llama-cpp``, then ``prompt``;
- ``llama-cpp``: ``json_object`` with the schema (llama.cpp's grammar-constrained output), then ``prompt``;
- ``prompt``: no response format, only the judge prompt's instruction (the reply is read leniently).

An explicit ``openai`` also falls back: a run where no judge call is answered helps nobody, and the
verdict is read from the reply's text whichever way it was asked for. To keep an endpoint from ever
receiving a response format, say ``prompt``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from routecost.yamlfile import KeyPath, YamlDocument, load_yaml

APIS = ("openai", "anthropic")
JSON_MODES = ("auto", "openai", "llama-cpp", "prompt")
JSON_FORMS = ("openai", "llama-cpp", "prompt")
"""The ways to ask for JSON, strongest first: what a refused one steps down to."""
ENDPOINT_KEYS = ("name", "base_url", "api", "key_env", "headers", "models", "providers", "model_names", "json_mode",
                 "timeout")


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str
    api: str = "openai"
    key_env: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    model_names: Mapping[str, str] = field(default_factory=dict)
    json_mode: str = "auto"
    """The strongest way a judge asks for a JSON reply: OpenAI's ``json_schema`` response format,
    llama.cpp's ``json_object`` with a schema (grammar-constrained), or only in the prompt; ``auto``
    picks by the API. A refused way steps down to the next (see the module's docstring)."""
    timeout_s: float | None = None

    def serves(self, model_id: str) -> bool:
        provider = model_id.partition("/")[0]
        return provider in self.providers or any(fnmatch.fnmatchcase(model_id, pattern) for pattern in self.models)

    def model_name(self, model_id: str) -> str:
        """What this endpoint calls the model."""
        return self.model_names.get(model_id) or model_id.partition("/")[2] or model_id

    @property
    def json_form(self) -> str:
        """The JSON form (one of ``JSON_FORMS``) a judge call starts with, before any step-down."""
        if self.api == "anthropic":
            return "prompt"
        return "openai" if self.json_mode == "auto" else self.json_mode


DEFAULT_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("openai", "https://api.openai.com/v1", key_env="OPENAI_API_KEY", providers=("openai",)),
    Endpoint("anthropic", "https://api.anthropic.com/v1", api="anthropic", key_env="ANTHROPIC_API_KEY",
             providers=("anthropic",), json_mode="prompt"),
    Endpoint("google", "https://generativelanguage.googleapis.com/v1beta/openai", key_env="GEMINI_API_KEY",
             providers=("google",)),
    Endpoint("mistral", "https://api.mistral.ai/v1", key_env="MISTRAL_API_KEY", providers=("mistral",),
             json_mode="prompt"),
    Endpoint("deepseek", "https://api.deepseek.com/v1", key_env="DEEPSEEK_API_KEY", providers=("deepseek",),
             json_mode="prompt"),
    Endpoint("groq", "https://api.groq.com/openai/v1", key_env="GROQ_API_KEY", providers=("groq",),
             json_mode="prompt"),
    Endpoint("x-ai", "https://api.x.ai/v1", key_env="XAI_API_KEY", providers=("x-ai",)),
    Endpoint("openrouter", "https://openrouter.ai/api/v1", key_env="OPENROUTER_API_KEY", providers=("openrouter",),
             json_mode="prompt"),
)


@dataclass(frozen=True)
class Endpoints:
    configured: tuple[Endpoint, ...] = ()

    def for_model(self, model_id: str) -> Endpoint | None:
        """The first configured endpoint serving the model, else the provider's default."""
        for endpoint in (*self.configured, *DEFAULT_ENDPOINTS):
            if endpoint.serves(model_id):
                return endpoint
        return None


def load_endpoints(path: str | None) -> Endpoints:
    if path is None:
        return Endpoints()
    document = load_yaml(path)
    data = document.data or {}
    if not isinstance(data, dict):
        raise document.error((), "expected a mapping with an `endpoints` list")
    document.check_keys((), data, ("endpoints",))
    raw = data.get("endpoints") or []
    if not isinstance(raw, list):
        raise document.error(("endpoints",), "`endpoints` is a list (each item starting with `- `)")
    return Endpoints(tuple(_endpoint(document, ("endpoints", index), item) for index, item in enumerate(raw)))


def _endpoint(document: YamlDocument, path: KeyPath, item: Any) -> Endpoint:
    if not isinstance(item, dict):
        raise document.error(path, "an endpoint is a mapping with at least `base_url`")
    document.check_keys(path, item, ENDPOINT_KEYS)
    base_url = item.get("base_url")
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise document.error((*path, "base_url"), "an http:// or https:// URL")
    api = item.get("api", "openai")
    if api not in APIS:
        raise document.error((*path, "api"), f"one of: {', '.join(APIS)}")
    json_mode = item.get("json_mode", "auto")
    if json_mode not in JSON_MODES:
        raise document.error((*path, "json_mode"), f"one of: {', '.join(JSON_MODES)}")
    key_env = item.get("key_env")
    if key_env is not None and (not isinstance(key_env, str) or not key_env.replace("_", "").isalnum()):
        raise document.error((*path, "key_env"), "the NAME of an environment variable (not the key itself)")
    timeout = item.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise document.error((*path, "timeout"), "seconds, a positive number")
    models, providers = _strings(document, (*path, "models"), item), _strings(document, (*path, "providers"), item)
    if not models and not providers:
        raise document.error(path, "say which models go to this endpoint: `models` and/or `providers`")
    return Endpoint(
        name=str(item.get("name") or base_url),
        base_url=base_url.rstrip("/"),
        api=api,
        key_env=key_env,
        headers=_string_map(document, (*path, "headers"), item),
        models=models,
        providers=providers,
        model_names=_string_map(document, (*path, "model_names"), item),
        json_mode=json_mode,
        timeout_s=float(timeout) if timeout is not None else None,
    )


def _strings(document: YamlDocument, path: KeyPath, item: Mapping[str, Any]) -> tuple[str, ...]:
    value = item.get(str(path[-1]))
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise document.error(path, "a list of names")
    return tuple(value)


def _string_map(document: YamlDocument, path: KeyPath, item: Mapping[str, Any]) -> dict[str, str]:
    value = item.get(str(path[-1]))
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(entry, str | int | float) for entry in value.values()):
        raise document.error(path, "a mapping of names to text")
    return {str(key): str(entry) for key, entry in value.items()}


def endpoint_summary(endpoints: Sequence[Endpoint]) -> str:
    """Where prompts would go, for the plan: names and hosts, never keys."""
    return ", ".join(f"{endpoint.name} ({endpoint.base_url})" for endpoint in endpoints)
