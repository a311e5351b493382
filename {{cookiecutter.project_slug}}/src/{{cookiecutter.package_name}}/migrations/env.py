"""Alembic's environment: the DATABASE_* settings and the models' metadata (migrate.py runs it).

Online only, under a PostgreSQL advisory lock: two deploys migrating at once take
turns instead of racing. Statements may run as long as they need (no statement
timeout), but waiting for a table lock is bounded, so a migration behind a long
transaction fails instead of stalling every request queued behind its lock.
"""

from alembic import context
from sqlalchemy import text

from {{ cookiecutter.package_name }} import db, notes  # noqa: F401 - notes registers its table
from {{ cookiecutter.package_name }}.settings import SettingsError

# A 64-bit key no other code locks: the eight bytes of 'migrate!'.
MIGRATION_LOCK = int.from_bytes(b"migrate!", "big")
LOCK_TIMEOUT = "10s"


def run_migrations_online() -> None:
    settings = db.load_database_settings()
    if settings is None:
        raise SettingsError("DATABASE_HOST is not set: no database to migrate (docs/database.md)")
    engine = db.make_engine(settings, statement_timeout=False)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=db.Base.metadata,
                # One transaction per migration, so a failed one leaves the ones before it.
                transaction_per_migration=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
run_migrations_online()
