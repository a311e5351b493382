import logging

import pytest

from {{ cookiecutter.package_name }} import create_app


@pytest.fixture
def environ(tmp_path):
    """Return the environment the app is created from, one per test."""
    return {
        "LOG_LEVEL": "INFO",
{%- if cookiecutter.use_volume %}
        "DATA_DIR": str(tmp_path),
{%- endif %}
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
