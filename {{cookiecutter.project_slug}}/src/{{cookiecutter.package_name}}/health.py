"""Liveness and readiness probes for Docker, ECS and the load balancer."""
{%- if cookiecutter.use_volume %}

import tempfile
{%- endif %}

from flask import Blueprint, current_app, jsonify
from flask.wrappers import Response

bp = Blueprint("health", __name__)


def _status_body(*statuses: str, reason: bool = False) -> dict:
    properties = {"status": {"type": "string", "enum": list(statuses)}}
    if reason:
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
                    "description": "Not ready; the reason says why",
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
    """Answer 200 when the service can do its work, 503 with a reason when not."""
    reason = _not_ready_reason(current_app.config["SETTINGS"])
    if reason:
        return jsonify(status="unavailable", reason=reason), 503
    return jsonify(status="ready"), 200


def _not_ready_reason(settings) -> str | None:
{%- if cookiecutter.use_volume %}
    # A real write, because a mounted but read-only or full volume passes os.access().
    try:
        with tempfile.TemporaryFile(dir=settings.data_dir):
            pass
    except OSError as error:
        return f"data folder {settings.data_dir} is not writable: {error.strerror}"
{%- endif %}
    return None
