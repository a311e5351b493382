"""gunicorn settings: sized from the container's limits, safe on a read-only root."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from {{ cookiecutter.package_name }}.capacity import read_limits, worker_count
from {{ cookiecutter.package_name }}.settings import load_settings

settings = load_settings()

wsgi_app = "{{ cookiecutter.package_name }}.wsgi:app"
bind = f"0.0.0.0:{settings.port}"

# Worker model: gthread, one worker per vCPU (capped by the memory limit), 4
# threads each; WEB_CONCURRENCY and GUNICORN_THREADS override both.
# The models were compared by `make bench` in the template (cookiecutter-flask-ecs,
# benchmarks/results/latest.md, "Worker models"); the default's figures for each
# task size are in README.md's Sizing table.
# One thread is faster on short CPU-bound requests, but then one slow request
# (a slow client upload, a slow database) holds the only thread and the health
# checks queue behind it until ECS replaces the task. Two processes on one vCPU
# are throttled by the CFS quota, which lengthens the slowest responses. Threads
# keep the probes answering; set GUNICORN_THREADS=1 for a service whose every
# request is short and CPU-bound.
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

# One JSON log format for gunicorn and the app. The app logs requests itself
# (without health checks), so gunicorn's access log stays off.
logger_class = "{{ cookiecutter.package_name }}.logging.GunicornLogger"
accesslog = None
errorlog = "-"
loglevel = settings.log_level.lower()
