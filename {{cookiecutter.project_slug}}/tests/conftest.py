import logging

import pytest

from {{ cookiecutter.package_name }} import create_app


@pytest.fixture
def environ(tmp_path):
    """Return the environment the app is created from, one per test."""
    return {
        "LOG_LEVEL": "INFO",
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
def client(app):
    return app.test_client()
