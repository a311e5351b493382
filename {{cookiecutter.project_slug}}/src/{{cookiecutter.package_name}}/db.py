"""The service's PostgreSQL database: its settings, engine and pool, sessions, readiness, 503s.

SQLAlchemy 2 over psycopg 3, which cooperates with gevent by itself once the worker
has patched the standard library (psycopg 3.1.14 and later): a greenlet waiting on
the database lets the worker's other greenlets run. The engine is made in each
worker (serve.Server.load imports the app there), never shared across a fork.
"""

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, current_app, g
from flask.wrappers import Response
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from werkzeug.exceptions import InternalServerError

from . import health
from .errors import error_response
from .settings import SettingsError, _choice, _integer

log = logging.getLogger(__name__)

# libpq's sslmode values. The task definition asks for require: RDS offers TLS, and
# the traffic crosses the VPC. The local database (compose.yaml) has no certificate.
SSL_MODES = ("DISABLE", "ALLOW", "PREFER", "REQUIRE", "VERIFY-CA", "VERIFY-FULL")
_REQUIRED = ("DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD")
# What a client is told to wait before it tries again, when the database is unavailable.
RETRY_AFTER_SECONDS = 5
# PostgreSQL's SQLSTATE for a table that does not exist: the migrations have not run.
_UNDEFINED_TABLE = "42P01"


class Base(DeclarativeBase):
    """The models' base: Base.metadata is the schema that the migrations build."""


@dataclass(frozen=True)
class DatabaseSettings:
    host: str
    port: int
    name: str
    user: str
    # From Secrets Manager on Fargate (infra/service.yaml), from .env locally; never logged.
    password: str = field(repr=False)
    sslmode: str
    # Connections each worker keeps at most. A gevent worker runs up to WEB_CONNECTIONS
    # requests at once, far more than PostgreSQL admits connections (db.t4g.micro: about
    # 80 for every task together), so the pool bounds the requests in the database at once.
    pool_size: int
    # How long a request waits for a free connection before its 503.
    pool_timeout_seconds: int
    connect_timeout_seconds: int
    # The longest a request's statement may run; migrations (migrate.py) have none.
    statement_timeout_ms: int


def load_database_settings(environ: Mapping[str, str] | None = None) -> DatabaseSettings | None:
    """Read DATABASE_* (default: from the process environment); None without DATABASE_HOST."""
    environ = os.environ if environ is None else environ
    host = environ.get("DATABASE_HOST", "").strip()
    if not host:
        return None
    missing = [name for name in _REQUIRED if not environ.get(name, "").strip()]
    if missing:
        raise SettingsError(f"DATABASE_HOST is set but {', '.join(missing)} is not")
    return DatabaseSettings(
        host=host,
        port=_integer(environ, "DATABASE_PORT", default=5432, low=1, high=65535),
        name=environ["DATABASE_NAME"].strip(),
        user=environ["DATABASE_USER"].strip(),
        password=environ["DATABASE_PASSWORD"],
        sslmode=_choice(environ, "DATABASE_SSLMODE", default="PREFER", choices=SSL_MODES).lower(),
        pool_size=_integer(environ, "DATABASE_POOL_SIZE", default=10, low=1, high=1000),
        pool_timeout_seconds=_integer(
            environ, "DATABASE_POOL_TIMEOUT_SECONDS", default=5, low=1, high=300
        ),
        connect_timeout_seconds=_integer(
            environ, "DATABASE_CONNECT_TIMEOUT_SECONDS", default=3, low=1, high=300
        ),
        statement_timeout_ms=_integer(
            environ, "DATABASE_STATEMENT_TIMEOUT_MS", default=5000, low=1, high=3_600_000
        ),
    )


def refuse_without_database(environ: Mapping[str, str] | None = None) -> None:
    """Raise SettingsError unless the DATABASE_* settings name a database.

    The server calls this before it starts: the service keeps its data in PostgreSQL,
    and must not serve without it. Tests and `flask run` may leave DATABASE_HOST unset.
    """
    if load_database_settings(environ) is None:
        raise SettingsError(
            "DATABASE_HOST is not set: the service keeps its data in PostgreSQL"
            " (compose.yaml and the task definition set it; docs/database.md)"
        )


def url_of(settings: DatabaseSettings) -> URL:
    return URL.create(
        "postgresql+psycopg",
        username=settings.user,
        password=settings.password,
        host=settings.host,
        port=settings.port,
        database=settings.name,
    )


def make_engine(
    settings: DatabaseSettings, *, pool_size: int | None = None, statement_timeout: bool = True
) -> Engine:
    """Return an engine for settings: pooled (pool_size), or one connection per use (None)."""
    options = f"-c statement_timeout={settings.statement_timeout_ms if statement_timeout else 0}"
    connect_args = {
        "connect_timeout": settings.connect_timeout_seconds,
        "sslmode": settings.sslmode,
        "options": options,
        "application_name": "{{ cookiecutter.project_slug }}",
    }
    if pool_size is None:
        return create_engine(url_of(settings), poolclass=NullPool, connect_args=connect_args)
    return create_engine(
        url_of(settings),
        pool_size=pool_size,
        # No overflow: pool_size is the bound, whatever the load.
        max_overflow=0,
        pool_timeout=settings.pool_timeout_seconds,
        # A connection the database closed (a restart, a failover) is replaced before
        # use, so the service recovers by itself when the database comes back.
        pool_pre_ping=True,
        # Under RDS Proxy's and NAT gateways' idle timeouts (350 s), which drop silently.
        pool_recycle=300,
        connect_args=connect_args,
    )


def init_app(app: Flask, environ: Mapping[str, str] | None = None) -> bool:
    """Connect app to its database and make readiness depend on it; False without DATABASE_HOST."""
    settings = load_database_settings(environ)
    if settings is None:
        return False
    web_connections = app.config["SETTINGS"].web_connections
    # Never more connections than the worker has requests at once.
    pool_size = min(settings.pool_size, web_connections or settings.pool_size)
    engine = make_engine(settings, pool_size=pool_size)
    app.extensions["database"] = {"engine": engine, "sessions": sessionmaker(engine)}
    app.teardown_appcontext(_close_session)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PoolTimeout, _pool_exhausted)
    health.register_check(app, "database", lambda: unreachable_reason(engine))
    on_worker_exit(app, engine.dispose)
    return True


def engine_of(app: Flask) -> Engine:
    return app.extensions["database"]["engine"]


def session() -> Session:
    """Return this request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["database"]["sessions"]()
    return g.db_session


@contextmanager
def transaction() -> Iterator[Session]:
    """This request's session in a transaction: committed at the end, rolled back on error."""
    current = session()
    with current.begin():
        yield current


def _close_session(_error: BaseException | None) -> None:
    current = g.pop("db_session", None)
    if current is not None:
        current.close()  # rolls back whatever was not committed


def unreachable_reason(engine: Engine) -> str | None:
    """Run SELECT 1, bounded by the connect and statement timeouts; None when it answers."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (DBAPIError, PoolTimeout) as error:
        return f"database {engine.url.host}:{engine.url.port} is unreachable: {_summary(error)}"
    return None


def _summary(error: Exception) -> str:
    # The driver's first line names the cause; later lines can quote SQL.
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def _unavailable(message: str) -> tuple[Response, int]:
    response, status = error_response(503, message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


def _database_error(error: DBAPIError) -> tuple[Response, int]:
    if isinstance(error, ProgrammingError) and _sqlstate(error) == _UNDEFINED_TABLE:
        log.error("the database schema is not migrated (make migrate): %s", _summary(error))
        return _unavailable("the database schema is not migrated yet")
    if not isinstance(error, OperationalError) and not error.connection_invalidated:
        # A statement the database refused (a constraint, bad SQL): the code's to fix.
        log.exception("the database refused a statement")
        return error_response(500, InternalServerError.description)
    # Unreachable, restarting, failing over, or over the statement timeout.
    log.warning("the database is unavailable: %s", _summary(error))
    return _unavailable("the database is unavailable; try again shortly")


def _pool_exhausted(error: PoolTimeout) -> tuple[Response, int]:
    log.warning("no free database connection: %s", _summary(error))
    return _unavailable("the database is busy; try again shortly")


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def on_worker_exit(app: Flask, close: Callable[[], None]) -> None:
    """Have serve.py's worker_exit hook call close when this worker stops."""
    app.extensions.setdefault("on_worker_exit", []).append(close)
