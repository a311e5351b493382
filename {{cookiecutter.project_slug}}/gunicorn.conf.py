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

# Worker model: gthread. Threads let one worker keep answering health checks
# while another request waits on a slow client or the volume; the worker
# count follows the CPU quota and the memory limit, not the host's cores.
# WEB_CONCURRENCY and GUNICORN_THREADS override both.
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
