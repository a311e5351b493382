"""Settings read once from the environment, refused early when malformed."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    port: int
    log_level: str
    max_request_bytes: int
    web_concurrency: int | None
    web_threads: int | None
    # Where the file store keeps its files; None (DATA_DIR unset) means no file store.
    data_dir: Path | None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    return Settings(
        port=_integer(env, "PORT", default={{ cookiecutter.container_port }}, low=1024, high=65535),
        log_level=_choice(env, "LOG_LEVEL", default="INFO", choices=LOG_LEVELS),
        max_request_bytes=_integer(
            env, "MAX_REQUEST_BYTES", default=10 * 1024 * 1024, low=1, high=2**40
        ),
        web_concurrency=_optional_integer(env, "WEB_CONCURRENCY", low=1, high=64),
        web_threads=_optional_integer(env, "WEB_THREADS", low=1, high=512),
        data_dir=_optional_absolute_path(env, "DATA_DIR"),
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
