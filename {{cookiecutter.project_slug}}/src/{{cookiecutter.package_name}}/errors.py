"""Every error answered as JSON: never an HTML page, never a stack trace."""

import logging

from flask import Flask, jsonify
from flask.wrappers import Response
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def error_response(status: int, message: str) -> tuple[Response, int]:
    """Return the JSON body and status shared by every error."""
    return jsonify(error={"status": status, "message": message}), status


def _http_error(error: HTTPException) -> Response:
    response = error.get_response()  # keeps headers such as Allow on a 405
    body, status = error_response(error.code or 500, error.description or error.name)
    response.data = body.get_data()
    response.content_type = body.content_type
    response.status_code = status
    return response


def _unexpected_error(error: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return error_response(500, InternalServerError.description)


def init_app(app: Flask) -> None:
    """Answer HTTP errors and unexpected exceptions with JSON."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
