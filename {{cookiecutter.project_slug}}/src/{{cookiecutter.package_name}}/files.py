"""A small file store on the service's volume: PUT, GET and DELETE /files/<name>."""

import os
import re
import tempfile
from functools import partial
from pathlib import Path

from flask import Flask, abort, current_app, request, send_file
from flask.wrappers import Response
from flask_smorest import Api
from marshmallow import Schema, fields

from . import health
from .errors import ErrorSchema
from .openapi import Blueprint

bp = Blueprint("files", __name__, url_prefix="/files", description="Files on the service's volume.")


@bp.before_request
def _allow_large_bodies() -> None:
    # Streamed to the volume, whatever their type: MAX_JSON_BYTES is for parsed bodies.
    request.max_content_length = current_app.config["MAX_CONTENT_LENGTH"]


# One plain file name: no folders, no leading dot, so no traversal and no
# clash with the hidden temporary files of uploads in progress.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_NAME_RULE = "use letters, digits, '.', '_' and '-', starting with a letter or digit, up to 255"
_CHUNK_BYTES = 64 * 1024

# The request and response bodies are raw bytes, so they are documented by hand.
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_NAME_PARAMETER = {
    "in": "path",
    "name": "name",
    "required": True,
    "description": f"The file name: {_NAME_RULE} characters",
    "schema": {"type": "string", "pattern": f"^{_NAME.pattern}$", "maxLength": 255},
}


class FileList(Schema):
    files = fields.List(fields.String(), required=True, metadata={"example": ["report.csv"]})


class StoredFile(Schema):
    name = fields.String(required=True, metadata={"example": "report.csv"})
    bytes = fields.Integer(required=True, metadata={"example": 8})


def init_app(app: Flask, api: Api) -> None:
    """Serve /files from DATA_DIR and make readiness depend on it; without DATA_DIR, do nothing."""
    data_dir = app.config["SETTINGS"].data_dir
    if data_dir is None:
        return
    api.register_blueprint(bp)
    health.register_check(app, "data_dir", partial(_unwritable_reason, data_dir))


def _unwritable_reason(data_dir: Path) -> str | None:
    # A real write, because a mounted but read-only or full volume passes os.access().
    try:
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as error:
        return f"data folder {data_dir} is not writable: {error.strerror}"
    return None


def _data_dir() -> Path:
    return current_app.config["SETTINGS"].data_dir


def _path_for(name: str) -> Path:
    if not _NAME.fullmatch(name):
        abort(400, description=f"invalid file name {name!r}: {_NAME_RULE}")
    return _data_dir() / name


@bp.get("")
@bp.response(200, FileList)
def list_files() -> dict:
    """List the stored file names, sorted."""
    with os.scandir(_data_dir()) as entries:
        names = sorted(e.name for e in entries if e.is_file() and _NAME.fullmatch(e.name))
    return {"files": names}


@bp.put("/<path:name>", parameters=[_NAME_PARAMETER])
# An absent body stores an empty file, as an empty one does.
@bp.doc(requestBody={"required": False, "content": _BINARY})
@bp.response(201, StoredFile, description="Stored as a new file")
@bp.alt_response(200, schema=StoredFile, description="Replaced the file", success=True)
@bp.alt_response(400, schema=ErrorSchema, description="The name is not a plain file name")
@bp.alt_response(413, schema=ErrorSchema, description="The body is over MAX_REQUEST_BYTES")
def put_file(name: str) -> tuple[dict, int]:
    """Store the request body under ``name``, replacing it atomically."""
    target = _path_for(name)
    created = not target.exists()
    # Write beside the target and rename, so readers never see half a file.
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".upload-", delete=False) as temp:
        try:
            size = _copy_body(temp)
            temp.flush()
            os.fsync(temp.fileno())
        except BaseException:
            temp.close()
            os.unlink(temp.name)
            raise
    os.chmod(temp.name, 0o640)
    os.replace(temp.name, target)
    return {"name": name, "bytes": size}, 201 if created else 200


def _copy_body(destination) -> int:
    # request.stream enforces MAX_CONTENT_LENGTH, raising 413 past the limit.
    size = 0
    while chunk := request.stream.read(_CHUNK_BYTES):
        destination.write(chunk)
        size += len(chunk)
    return size


@bp.get("/<path:name>", parameters=[_NAME_PARAMETER])
@bp.doc(responses={"200": {"description": "The stored bytes", "content": _BINARY}})
@bp.alt_response(400, schema=ErrorSchema, description="The name is not a plain file name")
@bp.alt_response(404, schema=ErrorSchema, description="No file has that name")
def get_file(name: str) -> Response:
    """Return the stored file, or a JSON 404."""
    path = _path_for(name)
    if not path.is_file():
        abort(404, description=f"no file named {name!r}")
    return send_file(path, mimetype="application/octet-stream")


@bp.delete("/<path:name>", parameters=[_NAME_PARAMETER])
@bp.response(204, description="Deleted")
@bp.alt_response(400, schema=ErrorSchema, description="The name is not a plain file name")
@bp.alt_response(404, schema=ErrorSchema, description="No file has that name")
def delete_file(name: str) -> Response:
    """Delete the stored file, or answer a JSON 404."""
    path = _path_for(name)
    try:
        path.unlink()
    except FileNotFoundError:
        abort(404, description=f"no file named {name!r}")
    return current_app.response_class(status=204)
