"""Serve the app with granian, sized from the container's limits.

`python -m {{ cookiecutter.package_name }}.serve` is the image's command; `--reload`
(compose.override.yaml only) serves one worker that restarts when the source changes.
"""

import argparse
import copy
import json
import logging
import multiprocessing
import sys
from pathlib import Path

from granian import Granian
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels

from . import auth
from . import logging as app_logging
from .capacity import Limits, read_limits, worker_count
from .settings import Settings, SettingsError, load_settings

# Worker model: granian's WSGI mode, one worker per vCPU (capped by the memory
# limit), THREADS Python threads each; WEB_CONCURRENCY and WEB_THREADS override
# both. Compared with gunicorn's workers by `make bench` in the template
# (cookiecutter-flask-ecs, benchmarks/results/latest.md, "Server models"): at the
# same CPU quota it serves more requests than docker init's sync worker, and
# /healthz keeps answering while slow clients trickle request bodies, where
# gunicorn's gthread and sync workers stall. granian hands the body to the app as
# it arrives, so a slow upload holds a thread until it ends: the threads are what
# keep the probes answering (one thread stalls). Their cost is a longer tail at one
# vCPU than the sync worker's, as busy threads contend; fewer threads shorten it
# and hold fewer slow clients, which that table measures. A busy thread holds at
# most one chunk of an upload, or one JSON body of up to MAX_JSON_BYTES. granian
# warns at start-up that this is many threads for the cores: they mostly wait.
THREADS = 128
# Connections a worker keeps open at once, idle keep-alive ones included: granian's
# backpressure holds a permit for a connection's whole life, not per request, so at
# the thread count the ALB's idle connections would keep a health check out. A
# request beyond the threads waits, its body unread, for the next free thread (like
# gunicorn's worker_connections). WEB_THREADS is capped below it.
CONNECTIONS = 1024
# ECS sends SIGTERM, waits stopTimeout (30 s in the task definition), then SIGKILL:
# requests in flight get this long to finish.
KILL_TIMEOUT_SECONDS = 20
# hyper's header read timeout is also the idle keep-alive timeout: it closes a
# connection that sends no complete request head for this long, after a response
# too. Above the ALB's 60 s idle timeout, so the ALB closes idle connections first.
HEADER_READ_TIMEOUT_MS = 75_000
# What --reload watches: the folder this package is in, /app/src in the image.
SOURCE = Path(__file__).resolve().parent.parent

# granian's own lines (start, workers, errors) in the app's JSON format. The app
# logs requests itself, without the health checks, so the access log stays off.
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": app_logging.json_formatter}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    "loggers": {
        "_granian": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "granian.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}

log = logging.getLogger(__name__)


def build_server(settings: Settings, limits: Limits, *, reload: bool = False) -> Granian:
    """Return the server for ``settings``, sized from ``limits`` unless overridden."""
    workers = 1 if reload else settings.web_concurrency or worker_count(limits)
    threads = settings.web_threads or THREADS
    return Granian(
        "{{ cookiecutter.package_name }}.wsgi:app",
        address="0.0.0.0",  # noqa: S104 - the container's port, published by Docker or the ALB
        port=settings.port,
        interface=Interfaces.WSGI,
        # The ALB speaks HTTP/1.1 to its targets (infra/service.yaml).
        http=HTTPModes.http1,
        websockets=False,
        workers=workers,
        blocking_threads=threads,
        backpressure=CONNECTIONS,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_TIMEOUT_MS),
        workers_kill_timeout=KILL_TIMEOUT_SECONDS,
        # A worker the kernel OOM-kills is replaced, as gunicorn's arbiter did, rather
        # than leaving the task without one until ECS notices.
        respawn_failed_workers=True,
        log_level=LogLevels(settings.log_level.lower()),
        # granian writes its log level into the dict it is given.
        log_dictconfig=copy.deepcopy(LOG_CONFIG),
        log_access=False,
        reload=reload,
        reload_paths=[SOURCE],
        # A save that breaks the import keeps the server watching for the fix.
        reload_ignore_worker_failure=reload,
    )


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
        app_logging.configure("INFO")
        log.critical("%s", error)
        return 1
    if args.reload:
        # A forked worker would inherit the modules this process imported with the
        # package, edits unseen; a spawned one imports the source afresh.
        multiprocessing.set_start_method("spawn", force=True)
    server = build_server(settings, read_limits(), reload=args.reload)
    if args.describe:
        # What `make bench` in the template reads to label the derived defaults.
        described = {"server": "granian", "workers": server.workers}
        print(json.dumps({**described, "threads": server.blocking_threads}))
        return 0
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
