"""gunicorn settings: sized from the container's limits, safe on a read-only root."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from {{ cookiecutter.package_name }}.capacity import read_limits, worker_count
from {{ cookiecutter.package_name }}.logging import json_formatter
from {{ cookiecutter.package_name }}.settings import load_settings

settings = load_settings()

wsgi_app = "{{ cookiecutter.package_name }}.wsgi:app"
bind = f"0.0.0.0:{settings.port}"

# Worker model: gthread, one worker per vCPU (capped by the memory limit), 4
# threads each; WEB_CONCURRENCY and GUNICORN_THREADS override both. Measured
# by the template's `make bench` (wrk, 32 connections, 10 s, /healthz), two
# runs at 1 vCPU on a shared 2-core machine: gthread 1x4 1,933 and 1,420
# req/s, p99 46 and 49 ms; gthread 2x4 2,393 and 1,988 req/s, p99 61 and
# 58 ms; sync 1x1 1,218 and 2,102 req/s, p99 43 and 34 ms. Two processes on
# one vCPU spend the CFS quota in parallel and are then throttled, so 2x4
# buys throughput with a longer tail; sync has the shortest tail but one slow
# request (a slow client, the volume, a database) blocks the health check.
# At 0.25 vCPU every model reached 190-290 req/s on the API route with a p99
# near 200 ms (the quota's throttling dominates): one worker's memory wins.
worker_class = "gthread"
workers = settings.web_concurrency or worker_count(read_limits())
threads = settings.threads or 4

# ECS sends SIGTERM, waits stopTimeout (30 s in the task definition), then
# SIGKILL: finish requests in flight well before that.
graceful_timeout = 20
timeout = 30
keepalive = 75  # above the ALB's 60 s idle timeout, so the ALB closes first

# Nothing may be written to the root file system: it is read-only.
worker_tmp_dir = "/tmp"  # noqa: S108 - a tmpfs owned by this container alone
control_socket_disable = True

# One JSON log format for gunicorn and the app; the app logs requests itself
# (without health checks), so gunicorn's access log stays off.
accesslog = None
loglevel = settings.log_level.lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": json_formatter}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    # gunicorn merges this dict shallowly into its defaults: name every logger.
    "root": {"handlers": ["stdout"], "level": settings.log_level},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": settings.log_level, "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
