"""A small file store on the service's volume: PUT, GET and DELETE /files/<name>."""

import contextlib
import errno
import os
import re
import tempfile
import time
from functools import partial
from pathlib import Path

from flask import Flask, abort, current_app, request, send_file
from flask.wrappers import Response
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from . import auth, health
from .errors import ErrorSchema
from .openapi import Blueprint
from .settings import Settings

bp = Blueprint("files", __name__, url_prefix="/files", description="Files on the service's volume.")
# Every route of this blueprint needs a bearer token (auth.py).
bp.before_request(auth.require_token)

# One plain file name: no folders, no leading dot, so no traversal and no
# clash with the hidden temporary files of uploads in progress.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_NAME_RULE = "use letters, digits, '.', '_' and '-', starting with a letter or digit, up to 255"
_CHUNK_BYTES = 64 * 1024
# Uploads are written to a hidden temporary file beside the target, then renamed.
UPLOAD_PREFIX = ".upload-"
# A temporary file unwritten for this long is a dead upload's (its worker was killed):
# a live one is written at every chunk, on whichever task shares the volume.
STALE_UPLOAD_SECONDS = 3600
# How often uploads sweep the dead ones, besides each start.
SWEEP_INTERVAL_SECONDS = 600
_VOLUME_FULL = (errno.ENOSPC, errno.EDQUOT)

# The request and response bodies are raw bytes, so they are documented by hand.
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_NAME_PARAMETER = {
    "in": "path",
    "name": "name",
    "required": True,
    "description": f"The file name: {_NAME_RULE} characters",
    "schema": {"type": "string", "pattern": f"^{_NAME.pattern}$", "maxLength": 255},
}


class InsufficientStorage(HTTPException):
    """507, which werkzeug has no exception for."""

    code = 507
    description = "The volume has no room for the body."


class FileList(Schema):
    files = fields.List(fields.String(), required=True, metadata={"example": ["report.csv"]})


class StoredFile(Schema):
    name = fields.String(required=True, metadata={"example": "report.csv"})
    bytes = fields.Integer(required=True, metadata={"example": 8})


def init_app(app: Flask, api: Api) -> None:
    """Serve /files from DATA_DIR and make readiness depend on it; without DATA_DIR, do nothing."""
    settings = app.config["SETTINGS"]
    if settings.data_dir is None:
        return
    api.register_blueprint(bp)
    health.register_check(app, "data_dir", partial(_unwritable_reason, settings.data_dir))
    health.register_check(
        app, "data_free_space", partial(_low_space_reason, settings.data_dir, settings)
    )
    app.extensions["files"] = {"swept": None}
    _sweep_when_due(app)


@bp.before_request
def _allow_large_bodies() -> None:
    # Streamed to the volume, whatever their type: MAX_JSON_BYTES is for parsed bodies.
    request.max_content_length = current_app.config["MAX_CONTENT_LENGTH"]


def _unwritable_reason(data_dir: Path) -> str | None:
    # A real write, because a mounted but read-only or full volume passes os.access().
    try:
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as error:
        return f"data folder {data_dir} is not writable: {error.strerror}"
    return None


def _low_space_reason(data_dir: Path, settings: Settings) -> str | None:
    try:
        free = free_bytes(data_dir)
    except OSError as error:
        return f"data folder {data_dir} cannot be measured: {error.strerror}"
    if free < settings.data_min_free_bytes:
        return f"data folder {data_dir} has {free} bytes free, under {_min_free(settings)}"
    return None


def free_bytes(data_dir: Path) -> int:
    """Return the bytes an unprivileged process may still write to the data folder's volume."""
    stats = os.statvfs(data_dir)
    return stats.f_bavail * stats.f_frsize


def _min_free(settings: Settings) -> str:
    return f"DATA_MIN_FREE_BYTES={settings.data_min_free_bytes}"


def sweep_dead_uploads(data_dir: Path) -> None:
    """Delete the temporary files of uploads unwritten for STALE_UPLOAD_SECONDS."""
    cutoff = time.time() - STALE_UPLOAD_SECONDS
    with os.scandir(data_dir) as entries:
        for entry in entries:
            if not entry.name.startswith(UPLOAD_PREFIX):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
            except FileNotFoundError:
                pass  # finished, or swept by another worker or task meanwhile


def _sweep_when_due(app: Flask) -> None:
    state, now = app.extensions["files"], time.monotonic()
    if state["swept"] is not None and now - state["swept"] < SWEEP_INTERVAL_SECONDS:
        return
    state["swept"] = now
    # An unreadable data folder is for its readiness check to report.
    with contextlib.suppress(OSError):
        sweep_dead_uploads(app.config["SETTINGS"].data_dir)


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
@bp.alt_response(
    400, schema=ErrorSchema, description="The name is not a plain file name, or the body was cut"
)
@bp.alt_response(408, schema=ErrorSchema, description="The upload stalled and was discarded")
@bp.alt_response(411, schema=ErrorSchema, description="The upload has no Content-Length")
@bp.alt_response(413, schema=ErrorSchema, description="The body is over MAX_REQUEST_BYTES")
@bp.alt_response(507, schema=ErrorSchema, description="The volume has no room for the body")
def put_file(name: str) -> tuple[dict, int]:
    """Store the request body under ``name``, replacing it atomically."""
    target = _path_for(name)
    if request.content_length is None and request.headers.get("Transfer-Encoding"):
        # The free-space check needs the size before the first byte is written.
        abort(411, description="send the upload with a Content-Length; chunked uploads are refused")
    _sweep_when_due(current_app)
    _refuse_unless_room(request.content_length or 0)
    created = not target.exists()
    # Write beside the target and rename, so readers never see half a file.
    descriptor, temp = tempfile.mkstemp(dir=target.parent, prefix=UPLOAD_PREFIX)
    stored = False
    try:
        with open(descriptor, "wb") as out:
            size = _copy_body(out)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), 0o640)
        _replace(temp, target)
        stored = True
    except OSError as error:
        if error.errno in _VOLUME_FULL:
            raise InsufficientStorage(f"the volume is full; {_room_left()}") from None
        raise
    finally:
        # Whatever was raised, even by closing the file on a full volume, the temporary
        # file goes first: nothing of a failed upload is left behind.
        if not stored:
            Path(temp).unlink(missing_ok=True)
    return {"name": name, "bytes": size}, 201 if created else 200


def _refuse_unless_room(size: int) -> None:
    settings = current_app.config["SETTINGS"]
    if free_bytes(settings.data_dir) - size < settings.data_min_free_bytes:
        raise InsufficientStorage(f"no room for {size} bytes; {_room_left()}")


def _room_left() -> str:
    settings = current_app.config["SETTINGS"]
    return f"{free_bytes(settings.data_dir)} bytes free, of which {_min_free(settings)} stay free"


def _replace(temp: str, target: Path) -> None:
    try:
        os.replace(temp, target)
    except FileNotFoundError:
        # Swept while the client stalled longer than STALE_UPLOAD_SECONDS.
        abort(408, description="the upload stalled too long and was discarded; send it again")


def _copy_body(destination) -> int:
    # request.stream (bodies.py) raises a 413 past the limit, a 400 on a body cut short.
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
