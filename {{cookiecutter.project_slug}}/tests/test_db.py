"""db.py: the DATABASE_* settings, the pool, readiness, the 503s and the driver under gevent."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import UNREACHABLE_DATABASE
from sqlalchemy import text

from {{ cookiecutter.package_name }} import create_app, db, serve
from {{ cookiecutter.package_name }}.settings import SettingsError

SOURCE = Path(__file__).resolve().parent.parent / "src"


def test_the_settings_are_read_from_the_environment():
    settings = db.load_database_settings(
        {
            **UNREACHABLE_DATABASE,
            "DATABASE_PORT": "6432",
            "DATABASE_SSLMODE": "require",
            "DATABASE_POOL_SIZE": "4",
            "DATABASE_STATEMENT_TIMEOUT_MS": "250",
        }
    )
    assert (settings.host, settings.port, settings.name, settings.user) == (
        "127.0.0.1",
        6432,
        "app",
        "app",
    )
    assert (settings.sslmode, settings.pool_size, settings.statement_timeout_ms) == (
        "require",
        4,
        250,
    )


def test_without_database_host_there_is_no_database(environ):
    """As for tests and `flask run`: no engine, no notes routes, no readiness check."""
    assert db.load_database_settings({}) is None
    app = create_app(environ)
    assert "database" not in app.extensions
    assert not any(rule.rule.startswith("/api/v1/notes") for rule in app.url_map.iter_rules())


def test_the_server_refuses_to_start_without_a_database(monkeypatch, capsys):
    """serve.main stops before gunicorn with one JSON line naming DATABASE_HOST."""
    monkeypatch.setenv("API_TOKENS", "test-token-0123456789abcdef")
    monkeypatch.delenv("DATABASE_HOST", raising=False)
    monkeypatch.setattr(serve.Server, "run", lambda self: pytest.fail("gunicorn was started"))
    assert serve.main([]) == 1
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["level"] == "CRITICAL"
    assert line["message"].startswith("DATABASE_HOST is not set")
    logging.getLogger().handlers.clear()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DATABASE_PASSWORD": ""}, "DATABASE_HOST is set but DATABASE_PASSWORD is not"),
        ({"DATABASE_PORT": "0"}, "DATABASE_PORT=0 is out of range"),
        ({"DATABASE_SSLMODE": "sometimes"}, "DATABASE_SSLMODE='SOMETIMES' is not one of"),
        ({"DATABASE_POOL_SIZE": "many"}, "DATABASE_POOL_SIZE='many' is not a whole number"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(changes, message):
    with pytest.raises(SettingsError, match=message):
        db.load_database_settings({**UNREACHABLE_DATABASE, **changes})


def test_the_password_is_never_in_the_settings_repr():
    settings = db.load_database_settings({**UNREACHABLE_DATABASE, "DATABASE_PASSWORD": "s3cr3t-pw"})
    assert "s3cr3t-pw" not in repr(settings)
    assert "s3cr3t-pw" not in repr(db.url_of(settings))


@pytest.mark.parametrize(
    ("pool_size", "web_connections", "expected"),
    [("10", None, 10), ("10", "4", 4), ("3", "1000", 3)],
)
def test_the_pool_is_bounded_by_the_workers_concurrency(
    environ, pool_size, web_connections, expected
):
    """Never more connections than requests a worker runs at once, and no overflow."""
    environ = {**environ, **UNREACHABLE_DATABASE, "DATABASE_POOL_SIZE": pool_size}
    if web_connections:
        environ["WEB_CONNECTIONS"] = web_connections
    pool = db.engine_of(create_app(environ)).pool
    assert (pool.size(), pool._max_overflow) == (expected, 0)
    assert pool._pre_ping


def test_connections_are_bounded_by_timeouts(monkeypatch):
    """Connecting, waiting for a pooled connection and each statement have a limit."""
    made = {}
    monkeypatch.setattr(db, "create_engine", lambda url, **options: made.update(options))
    settings = db.load_database_settings(UNREACHABLE_DATABASE)
    db.make_engine(settings, pool_size=2)
    assert made["pool_timeout"] == settings.pool_timeout_seconds
    assert made["connect_args"]["connect_timeout"] == settings.connect_timeout_seconds
    timeout = settings.statement_timeout_ms
    assert made["connect_args"]["options"] == f"-c statement_timeout={timeout}"


def test_the_database_applies_the_statement_timeout(db_app):
    with db.engine_of(db_app).connect() as connection:
        assert connection.scalar(text("SHOW statement_timeout")) == "5s"


def test_readiness_names_an_unreachable_database_and_liveness_ignores_it(environ):
    """/readyz is 503 naming the database check and the cause; /healthz stays 200."""
    client = create_app({**environ, **UNREACHABLE_DATABASE}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["check"] == "database"
    assert response.json["reason"].startswith("database 127.0.0.1:1 is unreachable:")
    assert client.get("/healthz").status_code == 200


def test_readiness_with_the_database(db_app):
    assert db_app.test_client().get("/readyz").json == {"status": "ready"}


def test_a_statement_over_the_timeout_is_a_503_not_a_500(environ, database_environ, make_client):
    """DATABASE_STATEMENT_TIMEOUT_MS cancels a slow statement; the client gets a JSON 503."""
    app = create_app({**environ, **database_environ, "DATABASE_STATEMENT_TIMEOUT_MS": "50"})

    @app.get("/slow")
    def slow():
        db.session().execute(text("SELECT pg_sleep(1)"))
        return {}

    response = make_client(app).get("/slow")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    db.engine_of(app).dispose()


def test_a_statement_the_database_refuses_is_a_json_500_logged_once(db_app, make_client, caplog):
    """Bad SQL is the code's fault: a 500 in the shared shape, with the cause in the log."""

    @db_app.get("/broken")
    def broken():
        db.session().execute(text("SELECT * FROM no_such_function()"))
        return {}

    response = make_client(db_app).get("/broken")
    assert response.status_code == 500
    assert set(response.json) == {"error"}
    assert [record.message for record in caplog.records if record.levelno >= logging.ERROR] == [
        "the database refused a statement"
    ]


def test_the_pool_is_disposed_when_the_worker_exits(db_app):
    """serve.close_app, gunicorn's worker_exit hook, closes the worker's pooled connections."""
    engine = db.engine_of(db_app)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert engine.pool.checkedin() == 1

    class Worker:
        wsgi = db_app

    serve.close_app(None, Worker())
    assert engine.pool.checkedin() == 0


# The arbiter imports the app's package (serve.py), then each worker patches the
# standard library with gevent and creates the app, which loads the driver.
WORKER_START = """
import json, sys
import {{ cookiecutter.package_name }}.serve
assert "psycopg" not in sys.modules, "psycopg was imported before the worker patched"
if sys.argv[2] == "patched":
    from gevent import monkey
    monkey.patch_all()
from {{ cookiecutter.package_name }} import create_app
create_app(json.loads(sys.argv[1]))
from psycopg import waiting
print(waiting.wait.__name__)
"""


def wait_function(environ, mode):
    result = subprocess.run(  # noqa: S603 - this interpreter, the script above
        [sys.executable, "-c", WORKER_START, json.dumps(environ), mode],
        env={**os.environ, "PYTHONPATH": str(SOURCE)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()[-1]


def test_the_driver_cooperates_with_gevent_as_in_a_worker(environ):
    """psycopg picks its wait function when first imported: its C one would block the
    worker's other greenlets, so the app must not load the driver before gevent patches."""
    environ = {**environ, **UNREACHABLE_DATABASE}
    assert wait_function(environ, "unpatched") == "wait_c"
    assert wait_function(environ, "patched") != "wait_c"
