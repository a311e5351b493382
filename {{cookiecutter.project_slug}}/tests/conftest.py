import logging
{%- if cookiecutter.database == "postgres" %}
import os
import subprocess
import sys
from pathlib import Path
{%- endif %}

import pytest
{%- if cookiecutter.database == "postgres" %}
from sqlalchemy import text
{%- endif %}

from {{ cookiecutter.package_name }} import create_app{% if cookiecutter.database == "postgres" %}, db{% endif %}

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
{%- if cookiecutter.database == "postgres" %}


# An address where nothing listens: the database is down, without waiting for a timeout.
UNREACHABLE_DATABASE = {
    "DATABASE_HOST": "127.0.0.1",
    "DATABASE_PORT": "1",
    "DATABASE_NAME": "app",
    "DATABASE_USER": "app",
    "DATABASE_PASSWORD": "unused",
}


@pytest.fixture(scope="session")
def database_environ():
    """DATABASE_* naming a database of the tests' own, migrated to head by migrate.py.

    From the DATABASE_* of the environment (make test-db, or CI's database service),
    with _test appended to DATABASE_NAME, so the tests never touch the data beside
    them. Without DATABASE_HOST the tests that need it skip, or fail under
    REQUIRE_DATABASE=1, as in CI.
    """
    if not os.environ.get("DATABASE_HOST"):
        message = "no PostgreSQL: set DATABASE_HOST and the other DATABASE_* (make test-db does)"
        if os.environ.get("REQUIRE_DATABASE") == "1":
            pytest.fail(f"REQUIRE_DATABASE=1 but {message}")
        pytest.skip(message)
    given = {name: value for name, value in os.environ.items() if name.startswith("DATABASE_")}
    name = f"{given.get('DATABASE_NAME', 'app')}_test"
    engine = db.make_engine(db.load_database_settings(given))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not connection.scalar(exists, {"name": name}):
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    environ = {**given, "DATABASE_NAME": name}
    # As make deploy runs it: the command, in a process of its own.
    source = Path(__file__).resolve().parent.parent / "src"
    subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}.migrate"],
        env={**os.environ, **environ, "PYTHONPATH": str(source)},
        check=True,
    )
    return environ


@pytest.fixture
def db_app(environ, database_environ):
    """The app with the tests' database, its tables emptied first."""
    app = create_app({**environ, **database_environ})
    app.config["TESTING"] = True
    with db.engine_of(app).begin() as connection:
        connection.execute(text("TRUNCATE notes RESTART IDENTITY"))
    yield app
    db.engine_of(app).dispose()
    logging.getLogger().handlers.clear()


@pytest.fixture
def db_client(db_app, make_client):
    return make_client(db_app)
{%- endif %}
