"""gunicorn's gevent worker, answering what its HTTP parser refuses as JSON.

A request line or header block that gunicorn cannot parse never reaches the app,
and gunicorn answers it with an HTML page of its own; this worker answers with
the status gunicorn gives it and the app's error body (errors.py) instead.
"""

import json

from gunicorn.http.errors import (
    ConfigurationProblem,
    ExpectationFailed,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.workers.ggevent import GeventWorker

# gunicorn's statuses for its parser's refusals; every other one is a 400.
_STATUSES = (
    (LimitRequestLine, 414, "URI Too Long"),
    (LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (ExpectationFailed, 417, "Expectation Failed"),
    (UnsupportedTransferCoding, 501, "Not Implemented"),
)
# The app's or the configuration's fault, not the client's: gunicorn's 500 stands.
_NOT_THE_CLIENTS = (ConfigurationProblem, InvalidResponseHeader, InvalidResponseHeaderName)


class JsonErrorWorker(GeventWorker):
    def handle_error(self, req, client, addr, exc) -> None:
        """Answer a request gunicorn refused as JSON; leave every other error to gunicorn."""
        if not isinstance(exc, ParseException) or isinstance(exc, _NOT_THE_CLIENTS):
            super().handle_error(req, client, addr, exc)
            return
        status, reason = refusal_status(exc)
        self.log.warning("refused a malformed request from %s: %s", (addr or ("",))[0], exc)
        try:
            client.sendall(refusal(status, reason))
        except OSError:
            self.log.debug("the client left before the refusal was sent")


def refusal_status(exc: ParseException) -> tuple[int, str]:
    """Return the status and reason gunicorn gives ``exc``."""
    for kind, status, reason in _STATUSES:
        if isinstance(exc, kind):
            return status, reason
    return 400, "Bad Request"


def refusal(status: int, reason: str) -> bytes:
    """Return a whole response: ``status`` with the app's JSON error body, closing."""
    body = json.dumps({"error": {"status": status, "message": reason}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
