import pytest
from flask import Flask
from gunicorn.errors import AppImportError

from {{ cookiecutter.package_name }} import wsgi


@pytest.fixture
def fresh(monkeypatch):
    """The wsgi module before gunicorn asked it for the app."""
    monkeypatch.delitem(vars(wsgi), "app", raising=False)
    for name in ("API_TOKENS", "API_AUTH", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_app_is_made_when_gunicorn_asks_for_it(fresh, token):
    """Importing the module makes nothing; asking for app makes it from the environment."""
    fresh.setenv("API_TOKENS", token)
    assert "app" not in vars(wsgi)
    assert isinstance(wsgi.app, Flask)
    assert wsgi.app is wsgi.app


def test_bad_settings_stop_gunicorn_with_one_line(fresh):
    """A setting the service cannot start with is an AppImportError, which gunicorn prints
    as one line before it stops, instead of a traceback per worker."""
    with pytest.raises(AppImportError, match=r"^API_TOKENS is empty") as raised:
        wsgi.app  # noqa: B018 - the attribute access is the test
    assert raised.value.__cause__ is None
