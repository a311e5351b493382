"""Serve the app with gunicorn's gevent worker, sized from the container's limits.

`python -m {{ cookiecutter.package_name }}.serve` is the image's command; `--reload`
(compose.override.yaml only) serves one worker that restarts when the source changes.
"""

import argparse
import json
import logging
import sys
import traceback
from pathlib import Path

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.util import import_app, make_fail_app

from . import auth{% if cookiecutter.database == "postgres" %}, db{% endif %}
from . import logging as app_logging
from .capacity import Limits, read_limits, worker_count
from .settings import Settings, SettingsError, load_settings

WSGI_APP = "{{ cookiecutter.package_name }}.wsgi:app"
# Worker model: gunicorn's gevent worker, one worker per vCPU (capped by the memory
# limit), up to CONNECTIONS connections each; WEB_CONCURRENCY and WEB_CONNECTIONS
# override both. Chosen by `make bench` in the template (cookiecutter-flask-ecs,
# benchmarks/results/latest.md, "Server models"): at the same CPU quota it serves
# more requests than docker init's sync worker with a tail no longer, and /healthz
# keeps answering while slow clients trickle request bodies, where the sync and
# gthread workers stall (a slow upload holds a thread) and granian's threads
# lengthened the tail. A greenlet waiting on a socket costs a few KiB; the CPU work
# of one request runs to its end before another's starts, so at most one JSON body
# is parsed at a time per worker.
WORKER_CLASS = "{{ cookiecutter.package_name }}.worker.JsonErrorWorker"
CONNECTIONS = 1000
# ECS sends SIGTERM, waits stopTimeout (30 s in the task definition), then SIGKILL:
# requests in flight get this long to finish.
GRACEFUL_TIMEOUT_SECONDS = 20
# How long a connection may take to send a request head, after a response too. Above
# the ALB's 60 s idle timeout, so the ALB closes idle connections first.
KEEPALIVE_SECONDS = 75
# What --reload watches: the modules under the folder this package is in, /app/src
# in the image, whether or not they imported.
SOURCE = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


class JsonLogger(Logger):
    """gunicorn's own lines (start, workers, errors) in the app's JSON format."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(app_logging.json_formatter())
            # The app's lines go to stdout: one stream keeps both in order.
            if getattr(handler, "stream", None) is sys.stderr:
                handler.setStream(sys.stdout)


def server_options(settings: Settings, limits: Limits, *, reload: bool = False) -> dict:
    """Return gunicorn's settings for ``settings``, sized from ``limits`` unless overridden."""
    return {
        "bind": [f"0.0.0.0:{settings.port}"],
        "worker_class": WORKER_CLASS,
        "workers": 1 if reload else settings.web_concurrency or worker_count(limits),
        "worker_connections": settings.web_connections or CONNECTIONS,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        "keepalive": KEEPALIVE_SECONDS,
        # Nothing may be written to the root file system: it is read-only. /tmp is a
        # tmpfs of this container's own (compose.yaml, infra/service.yaml).
        "worker_tmp_dir": "/tmp",  # noqa: S108
        "control_socket_disable": True,
        "loglevel": settings.log_level.lower(),
        "logger_class": JsonLogger,
        # The app logs requests itself, without the health checks. Any logging
        # configuration (logconfig_dict too) makes gunicorn build an access line for
        # every request, logged or not: `make bench` measured that cost in the tail.
        "accesslog": None,
        # Polls the files' modification times: no file watcher to install.
        "reload": reload,
        "reload_engine": "poll",
        "reload_extra_files": sorted(str(path) for path in SOURCE.rglob("*.py")) if reload else [],
        "worker_exit": close_app,
    }


def close_app(server, worker) -> None:
    """gunicorn's worker_exit hook: run what the app registered to close as a worker stops."""
    app = getattr(worker, "wsgi", None)
    for close in getattr(app, "extensions", {}).get("on_worker_exit", []):
        close()


class Server(BaseApplication):
    """gunicorn, configured from a dict rather than a file or its command line."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        # In each worker, after the gevent worker patched the standard library.
        if self.cfg.reload:
            forget_source_modules()
        try:
            return import_app(WSGI_APP)
        except Exception:
            if not self.cfg.reload:
                raise
            # A save that breaks the import: answer with the traceback and keep
            # watching for the fix, as gunicorn itself does for a SyntaxError only.
            log.exception("the app does not import")
            return make_fail_app(traceback.format_exc())


def forget_source_modules() -> None:
    """Drop the modules imported from SOURCE, so that the next import reads the files.

    A worker is forked from the arbiter, which imported this package to run this
    module: without this, a reloaded worker would serve the code as it was at start.
    """
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").is_relative_to(SOURCE):
            del sys.modules[name]


def refused(error: SettingsError) -> int:
    """Log a refused setting as one JSON line, and return the exit status that says so."""
    app_logging.configure("INFO")
    log.critical("%s", error)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM; refuse bad settings before the server starts."""
    parser = argparse.ArgumentParser(prog="python -m {{ cookiecutter.package_name }}.serve")
    parser.add_argument("--reload", action="store_true", help="one worker, restarted on changes")
    parser.add_argument(
        "--describe", action="store_true", help="print the derived model as JSON and exit"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        # Before any worker starts, so a refusal is one line rather than a traceback each.
        auth.refuse_without_tokens(settings)
    except SettingsError as error:
        return refused(error)
    options = server_options(settings, read_limits(), reload=args.reload)
    if args.describe:
        # What `make bench` in the template reads to label the derived defaults.
        described = {"server": "gunicorn gevent", "workers": options["workers"]}
        print(json.dumps({**described, "connections": options["worker_connections"]}))
        return 0
{%- if cookiecutter.database == "postgres" %}
    try:
        # After --describe, which needs no database; before any worker starts.
        db.refuse_without_database()
    except SettingsError as error:
        return refused(error)
{%- endif %}
    Server(options).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
