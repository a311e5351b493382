import re
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.settings import SettingsError, load_settings


def test_defaults_apply_when_the_environment_is_empty():
    """With no variables set, the service runs with documented defaults."""
    settings = load_settings({})
    assert settings.port == {{ cookiecutter.container_port }}
    assert settings.log_level == "INFO"
    assert settings.max_request_bytes == 10 * 1024 * 1024
    assert settings.max_json_bytes == 64 * 1024
    assert settings.web_concurrency is None
    assert settings.web_connections is None
    assert settings.data_dir is None
    assert settings.data_min_free_bytes == 64 * 1024 * 1024
    assert (settings.api_tokens, settings.api_auth) == ((), True)


def test_values_are_read_from_the_environment():
    """Each setting is read from its environment variable."""
    settings = load_settings(
        {
            "PORT": "9000",
            "LOG_LEVEL": "debug",
            "WEB_CONCURRENCY": "3",
            "WEB_CONNECTIONS": "200",
            "DATA_DIR": "/data",
            "API_TOKENS": " one-token-0123456789abcdef, ,two-token-0123456789abcdef ",
            "API_AUTH": "off",
        }
    )
    assert (settings.port, settings.log_level) == (9000, "DEBUG")
    assert (settings.web_concurrency, settings.web_connections) == (3, 200)
    assert settings.data_dir == Path("/data")
    assert settings.api_tokens == ("one-token-0123456789abcdef", "two-token-0123456789abcdef")
    assert settings.api_auth is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "eighty"}, "PORT='eighty' is not a whole number"),
        ({"PORT": "80"}, "PORT=80 is out of range; use 1024 to 65535"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not one of"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY=0 is out of range"),
        ({"WEB_CONNECTIONS": "10001"}, "WEB_CONNECTIONS=10001 is out of range; use 1 to 10000"),
        ({"MAX_REQUEST_BYTES": "-1"}, "MAX_REQUEST_BYTES=-1 is out of range"),
        ({"MAX_JSON_BYTES": "0"}, "MAX_JSON_BYTES=0 is out of range"),
        ({"DATA_DIR": "relative/path"}, "DATA_DIR='relative/path' must be an absolute path"),
        ({"API_AUTH": "maybe"}, "API_AUTH='MAYBE' is not one of ON, OFF"),
    ],
)
def test_bad_values_stop_start_up_with_a_clear_message(environ, message):
    """A malformed variable is refused with a message naming it and the fix."""
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(environ)


def test_the_app_refuses_to_start_with_bad_settings():
    """create_app raises before serving anything when a setting is bad."""
    from {{ cookiecutter.package_name }} import create_app

    with pytest.raises(SettingsError):
        create_app({"PORT": "not-a-port"})
