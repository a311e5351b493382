"""Apply the database migrations: `python -m {{ cookiecutter.package_name }}.migrate`.

Without arguments, `upgrade head`; with arguments, any Alembic command, such as
`revision --autogenerate -m "add a column"` (make migration) or `downgrade -1`.
The database comes from the DATABASE_* settings, as for the app (db.py).
`make migrate` runs it locally; `make deploy` runs it as a one-off ECS task of the
new image before the service changes, and stops when it fails.
"""

import logging
import sys
from pathlib import Path

from alembic.config import CommandLine, Config
from sqlalchemy.exc import OperationalError

from . import logging as app_logging
from .settings import SettingsError

# The migrations, beside this file: in the image too, under /app/src.
SCRIPTS = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)


def config() -> Config:
    """Alembic's configuration, without an alembic.ini: everything it needs is here."""
    alembic = Config()
    alembic.set_main_option("script_location", str(SCRIPTS))
    # New revisions are named by date and slug, so that they list in order.
    alembic.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return alembic


def main(argv: list[str] | None = None) -> int:
    """Run one Alembic command (default: upgrade head); 0 when it succeeded."""
    app_logging.configure("INFO")
    args = sys.argv[1:] if argv is None else argv
    cli = CommandLine(prog="python -m {{ cookiecutter.package_name }}.migrate")
    options = cli.parser.parse_args(args or ["upgrade", "head"])
    try:
        cli.run_cmd(config(), options)
    except SettingsError as error:
        log.critical("%s", error)
        return 1
    except OperationalError as error:
        # Unreachable, refused, or a lock held too long: one line, not a traceback.
        log.critical("the migrations did not run: %s", str(error.orig or error).splitlines()[0])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
