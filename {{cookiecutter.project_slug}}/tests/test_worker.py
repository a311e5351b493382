import json
import socket

import pytest
from gunicorn.http.errors import (
    InvalidChunkSize,
    InvalidRequestLine,
    InvalidResponseHeader,
    LimitRequestHeaders,
    LimitRequestLine,
)

from {{ cookiecutter.package_name }}.worker import JsonErrorWorker, refusal, refusal_status


class Log:
    def __init__(self):
        self.lines = []

    def warning(self, message, *args):
        self.lines.append(message % args)

    debug = warning


@pytest.fixture
def worker():
    """A worker with only what handle_error uses: its log."""
    worker = JsonErrorWorker.__new__(JsonErrorWorker)
    worker.log = Log()
    return worker


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidRequestLine("GARBAGE"), 400),
        (LimitRequestLine(70_000, 4094), 414),
        (LimitRequestHeaders("limit request headers fields"), 431),
        (InvalidChunkSize(b"zz"), 400),
    ],
    ids=["request-line", "uri", "headers", "chunk-size"],
)
def test_a_refused_request_is_answered_in_the_apps_json_error_shape(worker, error, status):
    """What gunicorn's parser refuses gets gunicorn's status and the app's error body."""
    server, client = socket.socketpair()
    with server, client:
        worker.handle_error(None, server, ("10.0.0.7", 5000), error)
        server.shutdown(socket.SHUT_WR)
        answer = client.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"Content-Type: application/json" in head and b"Connection: close" in head
    assert json.loads(body)["error"]["status"] == status
    assert "10.0.0.7" in worker.log.lines[0]


def test_a_bad_header_from_the_app_stays_gunicorns_500(worker, monkeypatch):
    """A header the app tried to send is the app's fault: gunicorn's own handling answers it."""
    handled = []
    monkeypatch.setattr(
        JsonErrorWorker.__mro__[1], "handle_error", lambda self, *args: handled.append(args[-1])
    )
    error = InvalidResponseHeader("X-Bad\n")
    worker.handle_error(None, None, None, error)
    assert handled == [error]


def test_the_refusal_is_one_whole_response_that_closes():
    """The body's length is announced, and the connection ends with it."""
    head, _, body = refusal(*refusal_status(LimitRequestLine(5000, 4094))).partition(b"\r\n\r\n")
    assert b"Content-Length: %d" % len(body) in head
    assert json.loads(body) == {"error": {"status": 414, "message": "URI Too Long"}}
