"""Remove what the chosen options do not need from the generated project.

Importable: the table and functions are unit-tested in tests/test_hooks.py.
Cookiecutter renders this file, filling RENDERED below, and runs it in the
generated project's folder.
"""

import json
import shutil
import sys
from pathlib import Path

PACKAGE = "src/{package_name}"

# Where each option acts, in two tables: tests/test_option_tables.py checks that
# together they name every file with a Jinja conditional on the option.
#
# option -> value -> paths that value does not need (relative to the project).
UNNEEDED = {
    "use_volume": {
        False: [
            f"{PACKAGE}/files.py",
            "tests/test_files.py",
            "infra/volume.yaml",
            "docs/volume.md",
        ],
    },
    "ci_provider": {
        "github": [".gitlab-ci.yml", "docs/ci-gitlab.md"],
        "gitlab": [".github", "docs/ci-github.md"],
        "none": [".github", ".gitlab-ci.yml", "docs/ci-github.md", "docs/ci-gitlab.md"],
    },
    "database": {
        "none": [
            f"{PACKAGE}/db.py",
            f"{PACKAGE}/notes.py",
            f"{PACKAGE}/migrate.py",
            f"{PACKAGE}/migrations",
            "tests/test_db.py",
            "tests/test_notes.py",
            "tests/test_migrations.py",
            "tests/test_database_settings.py",
            "infra/database.yaml",
            "docs/database.md",
        ],
    },
}

# option -> the files kept whatever its value, where a Jinja conditional acts on it
# because it is clearer there than a file of its own.
CONDITIONAL_IN = {
    "use_volume": [
        f"{PACKAGE}/__init__.py",  # the app factory imports and initialises the file store
        "compose.yaml",  # the named volume and DATA_DIR
        "Dockerfile",  # the /data mount point, owned by the app user
        "Makefile",  # make run with a local data folder
        # Prose that names the volume's files where it lists what a repo has.
        "README.md",
        "docs/deployment.md",
        "docs/development.md",
    ],
    "ci_provider": ["README.md", "docs/deployment.md"],
    "database": [
        f"{PACKAGE}/__init__.py",  # the app factory connects the database and serves /notes
        f"{PACKAGE}/serve.py",  # the server refuses to start without DATABASE_HOST
        "compose.yaml",  # the db service, its volume, and the app's DATABASE_*
        "compose.override.yaml",  # the db port on 127.0.0.1, for make migration and test-db
        ".env.example",  # the local database's password
        "Makefile",  # make migrate, migration, test-db and db-shell
        # SQLAlchemy, psycopg and Alembic; requirements*.txt include the locks of the
        # database choice (templates/locks/VERSION/postgres), a choice in an expression.
        "requirements.in",
        "tests/conftest.py",  # the tests' database, migrated, and an unreachable one
        "tests/test_openapi.py",  # schemathesis runs the notes routes against a database
        "tests/test_serve.py",  # the server starts only with a database named
        "README.md",
        "docs/development.md",  # the database's driver, among those that cooperate with gevent
        ".github/workflows/ci.yml",  # the test job's PostgreSQL service and DATABASE_* settings
        ".gitlab-ci.yml",  # lint-test's PostgreSQL service and DATABASE_* settings
        # Prose on that service, in each provider's guide.
        "docs/ci-github.md",
        "docs/ci-gitlab.md",
        # The AWS side of the database, where a file kept for both decides on it.
        "infra/service.yaml",  # the database stack's outputs: settings, secret, ingress
        "infra/bootstrap.yaml",  # the CloudFormation role's RDS actions, CI's migrations
        "infra/environments/staging.env",  # the database stack's settings
        "infra/environments/production.env",
        "scripts/common.sh",  # the database stack's name, a data stack
        "scripts/deploy.sh",  # the database stack and the migrations before the service
        "scripts/destroy.sh",  # the database kept by make destroy, deleted by destroy-data
        "Makefile",  # make destroy-data, with a data stack
        "README.md",  # make help's destroy-data line
        "scripts/rollback.sh",  # a rollback keeps the schema: no migrations
        "docs/deployment.md",  # the database stack, the migrations, destroy-data, the cost
        "docs/operations.md",  # what a rollback does with the schema
    ],
}


def unneeded_paths(options: dict) -> list[str]:
    """Return the paths that the chosen options leave without a purpose."""
    return [
        path.format(**options)
        for option, by_value in UNNEEDED.items()
        for path in by_value.get(options[option], [])
    ]


def remove_paths(root: Path, paths: list[str]) -> None:
    """Delete each path under root, file or folder, then any folder left empty."""
    for relative in paths:
        path = root / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == root or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()


# A raw string, so the JSON keeps its escapes; unrendered, it is plain text.
RENDERED = r"""{{ cookiecutter | jsonify }}"""


def main() -> int:
    remove_paths(Path.cwd(), unneeded_paths(json.loads(RENDERED)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
