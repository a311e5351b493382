import io
import json
import logging

import pytest


@pytest.fixture
def log_lines(app):
    """Capture what the app writes to its log stream, as parsed JSON objects."""
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    handler.setStream(buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_request_is_logged_as_one_json_line(client, log_lines):
    """A request logs one JSON object with its method, path, status, duration and ID."""
    client.get("/readyz", headers={"X-Request-ID": "req-1"})
    (line,) = log_lines()
    assert line["message"] == "request"
    assert line["level"] == "INFO"
    assert line["request_id"] == "req-1"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/readyz", 200)
    assert line["duration_ms"] >= 0
    assert line["time"]


@pytest.mark.parametrize(
    ("forwarded", "client_ip"),
    [
        (None, "127.0.0.1"),
        ("203.0.113.7", "203.0.113.7"),
        # The load balancer appends the address it saw; whatever came before is the client's.
        ("10.6.6.6, 203.0.113.7", "203.0.113.7"),
    ],
    ids=["direct", "behind-the-load-balancer", "forged-hop-ignored"],
)
def test_the_client_address_is_logged(client, log_lines, forwarded, client_ip):
    """The request line names the client: X-Forwarded-For's last hop, one proxy trusted."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    client.get("/readyz", headers=headers)
    (line,) = log_lines()
    assert line["client_ip"] == client_ip


def test_health_checks_are_not_logged(client, log_lines):
    """Liveness probes stay out of the logs."""
    client.get("/healthz")
    assert log_lines() == []


def test_app_log_lines_carry_the_request_id(app, client, log_lines):
    """Anything logged while serving a request carries that request's ID."""

    @app.get("/work")
    def work():
        logging.getLogger("work").warning("halfway")
        return {"done": True}

    client.get("/work", headers={"X-Request-ID": "req-2"})
    lines = log_lines()
    assert [line["message"] for line in lines] == ["halfway", "request"]
    assert {line["request_id"] for line in lines} == {"req-2"}


def test_errors_are_logged_with_their_status(client, log_lines):
    """Failed requests are logged with their status."""
    client.get("/nowhere")
    (line,) = log_lines()
    assert line["status"] == 404


def test_log_level_filters_records(environ, log_lines):
    """LOG_LEVEL=WARNING drops the per-request INFO lines."""
    from {{ cookiecutter.package_name }} import create_app

    environ["LOG_LEVEL"] = "warning"
    quiet = create_app(environ)
    (handler,) = logging.getLogger().handlers
    buffer = io.StringIO()
    handler.setStream(buffer)
    quiet.test_client().get("/readyz")
    assert buffer.getvalue() == ""
