"""migrate.py and migrations/: they build exactly the models' schema, both ways, as one command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from conftest import UNREACHABLE_DATABASE

from {{ cookiecutter.package_name }} import migrate

SOURCE = Path(__file__).resolve().parent.parent / "src"


def run_migrate(environ, *args):
    """python -m ...migrate as make deploy's one-off task runs it: (exit code, JSON lines)."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    result = subprocess.run(  # noqa: S603 - this interpreter, this repo's module
        [sys.executable, "-m", "{{ cookiecutter.package_name }}.migrate", *args],
        env={**variables, **environ, "PYTHONPATH": str(SOURCE)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.returncode, lines


@pytest.fixture
def in_environment(monkeypatch, database_environ):
    """The tests' database in os.environ, where migrations/env.py reads it."""
    for name, value in database_environ.items():
        monkeypatch.setenv(name, value)


def test_the_revisions_form_one_line_from_base_to_head():
    """One head and no branches: every deploy applies the same sequence."""
    history = ScriptDirectory.from_config(migrate.config())
    assert len(history.get_heads()) == 1
    revisions = list(history.walk_revisions())
    assert revisions[-1].down_revision is None


def test_the_migrations_build_exactly_the_models_schema(in_environment):
    """alembic check: autogenerate finds nothing to add, so no model change lacks its migration."""
    command.check(migrate.config())


def test_every_migration_goes_down_and_up_again(in_environment):
    """downgrade to base, then upgrade to head, leave the schema the models describe."""
    config = migrate.config()
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)


def test_upgrading_twice_changes_nothing(database_environ):
    """make deploy migrates on every deploy: at head, the command succeeds and does nothing."""
    assert run_migrate(database_environ)[0] == 0
    assert run_migrate(database_environ)[0] == 0


def test_an_unreachable_database_is_one_critical_line_and_exit_1():
    code, lines = run_migrate({**UNREACHABLE_DATABASE, "DATABASE_CONNECT_TIMEOUT_SECONDS": "1"})
    assert code == 1
    assert lines[-1]["level"] == "CRITICAL"
    assert lines[-1]["message"].startswith("the migrations did not run: connection failed")


def test_without_database_host_migrate_refuses_and_names_it():
    code, lines = run_migrate({})
    assert code == 1
    assert lines[-1]["level"] == "CRITICAL"
    assert lines[-1]["message"].startswith("DATABASE_HOST is not set")
