import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import healthcheck


@pytest.fixture
def serve(monkeypatch):
    """Serve /healthz on a free loopback port with the given status; return nothing."""
    servers = []

    def start(status):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status if self.path == "/healthz" else 404)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        monkeypatch.setenv("PORT", str(server.server_port))

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthy_service_exits_zero(serve):
    """A 200 from /healthz makes the health check pass."""
    serve(200)
    assert healthcheck.main() == 0


def test_failing_service_exits_non_zero(serve, capsys):
    """A 5xx from /healthz makes the health check fail, saying why."""
    serve(503)
    assert healthcheck.main() == 1
    assert "health check of http://127.0.0.1:" in capsys.readouterr().err


def test_unreachable_service_exits_non_zero(monkeypatch, unused_port):
    """Nothing listening makes the health check fail rather than hang."""
    monkeypatch.setenv("PORT", str(unused_port))
    assert healthcheck.main() == 1
