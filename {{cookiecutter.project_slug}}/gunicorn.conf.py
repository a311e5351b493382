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
# threads each; WEB_CONCURRENCY and GUNICORN_THREADS override both. Chosen by
# the template's `make bench` (wrk, 32 connections, 10 s; req/s and p99 on
# /healthz): at 1 vCPU, sync 1x1 gave 1,218 req/s, 43 ms; gthread 1x4 1,933,
# 46 ms; gthread 2x4 2,393, 61 ms; docker init's single sync worker 1,466,
# 36 ms. Two processes on one vCPU spend the CFS quota in parallel and are
# then throttled, which costs p99; threads keep a worker answering health
# checks while a request waits on a slow client, the volume or a database.
# At 0.25 vCPU every model reached about 260 req/s on the API route with a
# p99 near 200 ms (the quota's throttling dominates), so the cheaper memory
# of one worker wins there.
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
