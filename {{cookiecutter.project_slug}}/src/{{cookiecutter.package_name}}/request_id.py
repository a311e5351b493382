"""Request IDs: taken from the caller when well-formed, made up otherwise."""

import re
import uuid

from flask import Flask, g, request
from flask.wrappers import Response

HEADER = "X-Request-ID"
# Bounded and free of characters that could forge log lines or headers.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def current() -> str | None:
    """Return the current request's ID, or None outside a request."""
    return g.get("request_id") if g else None


def _assign() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    response.headers[HEADER] = g.request_id
    return response


def init_app(app: Flask) -> None:
    """Give every request an ID and return it on every response."""
    app.before_request(_assign)
    app.after_request(_echo)
