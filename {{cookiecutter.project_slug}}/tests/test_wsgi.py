import pytest
from flask import Flask

from {{ cookiecutter.package_name }} import wsgi
from {{ cookiecutter.package_name }}.settings import SettingsError


@pytest.fixture
def fresh(monkeypatch):
    """The wsgi module before the server asked it for the app."""
    monkeypatch.delitem(vars(wsgi), "app", raising=False)
    for name in ("API_TOKENS", "API_AUTH", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_app_is_made_when_the_server_asks_for_it(fresh, token):
    """Importing the module makes nothing; asking for app makes it from the environment."""
    fresh.setenv("API_TOKENS", token)
    assert "app" not in vars(wsgi)
    assert isinstance(wsgi.app, Flask)
    assert wsgi.app is wsgi.app


def test_bad_settings_are_refused_when_the_app_is_asked_for(fresh):
    """Asking for the app without the settings it needs raises the SettingsError naming them."""
    with pytest.raises(SettingsError, match=r"^API_TOKENS is empty"):
        wsgi.app  # noqa: B018 - the attribute access is the test
