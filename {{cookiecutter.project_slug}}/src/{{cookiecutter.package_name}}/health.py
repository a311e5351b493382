"""Liveness and readiness probes for Docker, ECS and the load balancer.

Features add what readiness depends on with register_check() in their own
init_app; /readyz runs every registered check and names the first that fails.
"""

from collections.abc import Callable

from flask import Blueprint, Flask, current_app, jsonify
from flask.wrappers import Response

bp = Blueprint("health", __name__)

# A readiness check returns None when its dependency is usable, else the reason it is not.
ReadinessCheck = Callable[[], str | None]
_CHECKS = "readiness_checks"


def _status_body(*statuses: str, reason: bool = False) -> dict:
    properties = {"status": {"type": "string", "enum": list(statuses)}}
    if reason:
        properties["check"] = {"type": "string", "description": "The check that failed"}
        properties["reason"] = {"type": "string"}
    return {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["status"],
                "properties": properties,
                "additionalProperties": False,
            }
        }
    }


# Probes are plain Flask views, so flask-smorest cannot describe them: this
# hand-written description goes into /openapi.json (openapi.document_views).
OPENAPI_PATHS = {
    "/healthz": {
        "get": {
            "tags": ["health"],
            "summary": "Liveness: the process can serve a request",
            "operationId": "healthz",
            "responses": {
                "200": {"description": "Alive", "content": _status_body("ok")},
                "default": "DEFAULT_ERROR",  # the shared error shape, from errors.py
            },
        }
    },
    "/readyz": {
        "get": {
            "tags": ["health"],
            "summary": "Readiness: the service can do its work",
            "operationId": "readyz",
            "responses": {
                "200": {"description": "Ready", "content": _status_body("ready")},
                "503": {
                    "description": "Not ready; the failed check and the reason say why",
                    "content": _status_body("unavailable", reason=True),
                },
                "default": "DEFAULT_ERROR",
            },
        }
    },
}


@bp.get("/healthz")
def healthz() -> Response:
    """Answer as long as the process can serve a request at all."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Answer 200 when every registered check passes, 503 naming the first that fails."""
    for name, check in current_app.extensions.get(_CHECKS, {}).items():
        reason = check()
        if reason:
            return jsonify(status="unavailable", check=name, reason=reason), 503
    return jsonify(status="ready"), 200


def register_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    """Make readiness depend on check, run on every /readyz in the order registered."""
    checks = app.extensions.setdefault(_CHECKS, {})
    if name in checks:
        raise ValueError(f"a readiness check named {name!r} is already registered")
    checks[name] = check
