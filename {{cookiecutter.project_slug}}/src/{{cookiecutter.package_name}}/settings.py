"""Settings read once from the environment, refused early when malformed."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SWITCH = ("ON", "OFF")
# RFC 6750's token characters, and long enough that guessing is hopeless.
_BEARER = re.compile(r"[A-Za-z0-9._~+/-]{16,}=*")
BEARER_RULE = "16 or more of A-Z a-z 0-9 . _ ~ + / - (openssl rand -hex 32 makes one)"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    port: int
    log_level: str
    max_request_bytes: int
    # The body limit of JSON requests, far below MAX_REQUEST_BYTES: parsed JSON takes
    # many times its size in memory.
    max_json_bytes: int
    web_concurrency: int | None
    web_connections: int | None
    # Where the file store keeps its files; None (DATA_DIR unset) means no file store.
    data_dir: Path | None
    # Free space on the data folder's volume below which the file store is not ready
    # and refuses uploads.
    data_min_free_bytes: int
    # The bearer tokens protected routes accept; left out of repr, so never logged.
    api_tokens: tuple[str, ...] = field(repr=False)
    # False only when API_AUTH=off says the service is open on purpose.
    api_auth: bool


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    return Settings(
        port=_integer(env, "PORT", default={{ cookiecutter.container_port }}, low=1024, high=65535),
        log_level=_choice(env, "LOG_LEVEL", default="INFO", choices=LOG_LEVELS),
        max_request_bytes=_integer(
            env, "MAX_REQUEST_BYTES", default=10 * 1024 * 1024, low=1, high=2**40
        ),
        max_json_bytes=_integer(env, "MAX_JSON_BYTES", default=64 * 1024, low=1, high=2**40),
        web_concurrency=_optional_integer(env, "WEB_CONCURRENCY", low=1, high=64),
        web_connections=_optional_integer(env, "WEB_CONNECTIONS", low=1, high=10_000),
        data_dir=_optional_absolute_path(env, "DATA_DIR"),
        data_min_free_bytes=_integer(
            env, "DATA_MIN_FREE_BYTES", default=64 * 1024 * 1024, low=0, high=2**60
        ),
        api_tokens=_tokens(env, "API_TOKENS"),
        api_auth=_choice(env, "API_AUTH", default="ON", choices=SWITCH) == "ON",
    )


def _integer(env: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    value = _optional_integer(env, name, low=low, high=high)
    return default if value is None else value


def _optional_integer(env: Mapping[str, str], name: str, *, low: int, high: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range; use {low} to {high}")
    return value


def _choice(env: Mapping[str, str], name: str, *, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().upper() or default
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def _optional_absolute_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith("/"):
        raise SettingsError(f"{name}={raw!r} must be an absolute path")
    return Path(raw)


def _tokens(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    tokens = tuple(token.strip() for token in env.get(name, "").split(",") if token.strip())
    for position, token in enumerate(tokens, start=1):
        if not _BEARER.fullmatch(token):
            # The message names the token by position: it must never carry the token itself.
            raise SettingsError(
                f"{name}: token {position} is not a bearer token; use {BEARER_RULE}"
            )
    return tokens
