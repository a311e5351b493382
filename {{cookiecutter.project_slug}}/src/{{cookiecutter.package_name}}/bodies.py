"""Request bodies: read whole or refused, within the limit of their kind.

gunicorn marks each body terminated (wsgi.input_terminated) and ends it where the
client stopped sending, so werkzeug reads up to MAX_CONTENT_LENGTH and cannot
tell a client that hung up halfway from a complete, shorter body; it also
refuses a body of exactly the limit. Here a body with a Content-Length must
arrive whole, one without (chunked) may be as long as the limit, and broken
chunked framing, which gunicorn raises from its parser as the app reads, is a 400.
"""

import io

import flask
from flask import Flask, current_app, request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream


class Request(flask.Request):
    @cached_property
    def stream(self):
        """Return the body; a short one raises ClientDisconnected, a long one a 413."""
        limit, length = self.max_content_length, self.content_length
        body = _Framed(self.environ["wsgi.input"])
        if length is not None:
            if limit is not None and length > limit:
                raise RequestEntityTooLarge()
            return LimitedStream(body, length)
        if "wsgi.input_terminated" not in self.environ:
            return io.BytesIO()  # werkzeug's choice: a body of unknown end is not read
        return body if limit is None else _Capped(body, limit)


class _Capped(LimitedStream):
    """A chunked body of at most limit bytes: one byte more raises, however it is read.

    werkzeug's own maximum refuses a body of exactly the limit when read in
    chunks, and cuts a longer one short without a word when read whole.
    """

    def __init__(self, stream, limit: int) -> None:
        super().__init__(stream, limit + 1, is_max=True)

    def readinto(self, buffer) -> int:
        count = super().readinto(buffer)
        if self.is_exhausted:
            raise RequestEntityTooLarge()
        return count


class _Framed(io.RawIOBase):
    """The server's body stream, with a chunked body's broken framing a 400."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            if hasattr(self._stream, "readinto"):
                return self._stream.readinto(buffer)
            data = self._stream.read(len(buffer))  # gunicorn's body has read() only
        except ParseException as error:
            raise BadRequest(f"the chunked body is malformed: {type(error).__name__}") from error
        buffer[: len(data)] = data
        return len(data)


def _limit_json_bodies() -> None:
    # Parsed JSON takes many times its size in memory; a raw upload is streamed.
    if request.is_json:
        request.max_content_length = current_app.config["SETTINGS"].max_json_bytes


def init_app(app: Flask) -> None:
    """Read bodies whole, and hold JSON bodies to MAX_JSON_BYTES."""
    app.request_class = Request
    app.before_request(_limit_json_bodies)
