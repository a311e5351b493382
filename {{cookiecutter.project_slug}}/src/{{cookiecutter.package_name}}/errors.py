"""Every error answered as JSON: never an HTML page, never a stack trace."""

import logging
from collections.abc import Mapping

from flask import Flask, jsonify, request
from flask.wrappers import Response
from marshmallow import Schema, fields
from werkzeug.exceptions import (
    ClientDisconnected,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)

log = logging.getLogger(__name__)

# Where webargs found a bad value, as a client would say it: (the whole, one field).
_LOCATIONS = {
    "json": ("body", "body field"),
    "query": ("query string", "query parameter"),
    "view_args": ("path", "path parameter"),
}


class ErrorDetail(Schema):
    status = fields.Integer(required=True, metadata={"example": 422})
    message = fields.String(
        required=True, metadata={"example": "body field 'name': Missing data for required field."}
    )


class ErrorSchema(Schema):
    """The body of every error response, as documented in /openapi.json."""

    error = fields.Nested(ErrorDetail, required=True)


def error_response(status: int, message: str) -> tuple[Response, int]:
    """Return the JSON body and status shared by every error."""
    return jsonify(error={"status": status, "message": message}), status


def validation_message(messages: Mapping) -> str:
    """Flatten webargs' nested messages into one line that names each bad field.

    {"json": {"name": ["Too long."]}} becomes "body field 'name': Too long.".
    """
    parts = []
    for location, problems in messages.items():
        whole, one = _LOCATIONS.get(location, (location, f"{location} field"))
        for path, texts in _flatten(problems):
            where = f"{one} '{path}'" if path else whole
            parts.append(f"{where}: {' '.join(texts)}")
    return "; ".join(parts)


def _flatten(problems, path: tuple[str, ...] = ()):
    """Yield (dotted field path, messages); marshmallow names whole-value errors _schema."""
    if isinstance(problems, Mapping):
        for key, nested in problems.items():
            yield from _flatten(nested, path if key == "_schema" else (*path, str(key)))
    else:
        yield ".".join(path), [str(text) for text in problems]


def _http_error(error: HTTPException) -> Response:
    response = error.get_response()  # keeps headers such as Allow on a 405
    # Set by webargs (through flask-smorest) when a schema refuses the request.
    messages = (getattr(error, "data", None) or {}).get("messages")
    message = validation_message(messages) if messages else error.description or error.name
    body, status = error_response(error.code or 500, message)
    response.data = body.get_data()
    response.content_type = body.content_type
    response.status_code = status
    return response


def _too_large(error: RequestEntityTooLarge) -> tuple[Response, int]:
    limit = request.max_content_length
    return error_response(413, f"the body is over {limit} bytes, this request's limit")


def _cut_short(error: ClientDisconnected) -> tuple[Response, int]:
    # bodies.Request reads a body with a Content-Length to its end or raises this.
    return error_response(400, "the body ended before its Content-Length")


def _unexpected_error(error: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return error_response(500, InternalServerError.description)


def init_app(app: Flask) -> None:
    """Answer HTTP errors, malformed bodies and unexpected exceptions with JSON.

    Call after the flask-smorest Api is set up: it registers its own handler
    for HTTPException, and the handler registered last is the one Flask uses.
    """
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(ClientDisconnected, _cut_short)
    app.register_error_handler(Exception, _unexpected_error)
