import logging

import pytest

from {{ cookiecutter.package_name }} import create_app

TOKEN = "test-token-0123456789abcdef"  # noqa: S105 - the test app's own


@pytest.fixture
def token():
    """The bearer token the test app accepts."""
    return TOKEN


@pytest.fixture
def environ(tmp_path):
    """Return the environment the app is created from, one per test."""
    return {
        "LOG_LEVEL": "INFO",
        "API_TOKENS": TOKEN,
        # Read only where the file store exists: an unset DATA_DIR means no file store.
        "DATA_DIR": str(tmp_path),
    }


@pytest.fixture
def app(environ):
    app = create_app(environ)
    app.config["TESTING"] = True
    yield app
    logging.getLogger().handlers.clear()


@pytest.fixture
def make_client():
    """Return a function that gives a client of app sending the test's bearer token."""

    def make(app):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
        return client

    return make


@pytest.fixture
def client(app, make_client):
    return make_client(app)


@pytest.fixture
def anonymous(app):
    """A client that sends no token."""
    return app.test_client()
