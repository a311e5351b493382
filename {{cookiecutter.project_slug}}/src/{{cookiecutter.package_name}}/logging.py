"""JSON logs on stdout: one object per line, carrying the request ID."""

import logging
import sys
import time

from flask import Flask, g, request
from flask.wrappers import Response
from pythonjsonlogger.json import JsonFormatter
from werkzeug.middleware.proxy_fix import ProxyFix

from . import request_id

# Health checks arrive every few seconds from ECS, the ALB and Docker:
# logging them would drown the logs and cost throughput.
QUIET_PATHS = frozenset({"/healthz"})
FORMAT = ("asctime", "levelname", "name", "message")
RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}

log = logging.getLogger("{{ cookiecutter.package_name }}.request")


class RequestIdFilter(logging.Filter):
    """Add the current request's ID to every record logged during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.current()
        return True


def json_formatter() -> JsonFormatter:
    """Return the formatter shared by the app and the server."""
    return JsonFormatter(FORMAT, rename_fields=RENAMES, datefmt="%Y-%m-%dT%H:%M:%S%z")


def configure(level: str) -> None:
    """Send every log record to stdout as JSON at ``level``."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _start_timer() -> None:
    g.started = time.perf_counter()


def _log_request(response: Response) -> Response:
    if request.path not in QUIET_PATHS:
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "client_ip": request.remote_addr,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
            },
        )
    return response


def init_app(app: Flask) -> None:
    """Log one line per request, health checks excepted, with the client's address."""
    # The load balancer appends the address it was reached from to X-Forwarded-For:
    # trust that one hop only, as anything before it is whatever the client sent.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    app.before_request(_start_timer)
    app.after_request(_log_request)
