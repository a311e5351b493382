"""The generated image and compose files, built and run on a real Docker engine.

Covering set: every Python version with a base image on this engine, the volume
on and off. Python 3.12 has no python:3.12-slim stand-in in the sandbox (no
Debian suite ships 3.12), so it skips with that reason; its static checks still
run in test_bake.py.
"""

import http.client
import json
import os
import socket
import threading
import time
import uuid

import pytest
from conftest import (
    PACKAGE,
    assert_exited,
    choices,
    docker_engine_available,
    free_port,
    matrix_params,
    run,
)

pytestmark = pytest.mark.container

COVERING_SET = [
    {"python_version": version, "use_volume": volume, "ci_provider": "github"}
    for version in choices("python_version")
    for volume in choices("use_volume")
]


def docker(*args, **kwargs):
    return run("docker", *args, **kwargs)


@pytest.fixture(scope="session")
def engine():
    """Skip without a Docker engine, except in CI (TEMPLATE_REQUIRE_ALL=1), where it fails."""
    if not docker_engine_available():
        if os.environ.get("TEMPLATE_REQUIRE_ALL") == "1":
            pytest.fail("no Docker engine is reachable, and CI requires one")
        pytest.skip("no Docker engine is reachable (start one to run the container tier)")


TOKEN = "container-test-token-0123456789abcdef"
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}

# compose.yaml alone is the Fargate task (make up-ecs); with the override, the dev stack (make up).
FARGATE = ("compose.yaml",)
DEVELOPMENT = ("compose.yaml", "compose.override.yaml")


class Stack:
    """One baked project, its image, and its compose.yaml stack."""

    def __init__(self, project, options):
        self.project = project
        self.name = f"t{uuid.uuid4().hex[:10]}"
        self.image = f"{project.name}:{self.name}"
        self.port = free_port()
        self.volume = options["use_volume"]
        self.env = {**os.environ, "IMAGE": self.image, "HOST_PORT": str(self.port)}
        # compose.yaml passes API_TOKENS through; requests to protected routes send it.
        self.env["API_TOKENS"] = TOKEN

    def compose(self, *args, files=FARGATE, expect=0):
        options = [option for file in files for option in ("-f", file)]
        command = ("compose", *options, "-p", self.name, *args)
        return docker(*command, cwd=self.project, env=self.env, expect=expect)

    def up(self):
        result = self.compose("up", "--detach", "--wait", "--wait-timeout", "60", expect=None)
        assert result.returncode == 0, result.stderr + self.compose("logs", expect=None).stdout

    def container(self) -> str:
        return self.compose("ps", "--all", "--quiet", "app").stdout.strip()

    def request(self, method, path, body=None, headers=None, token=True, timeout=10):
        """Send one request, with the stack's bearer token unless token=False."""
        headers = {**(AUTHORIZATION if token else {}), **(headers or {})}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module", params=matrix_params(COVERING_SET))
def stack(request, engine, baked):
    options = request.param
    image = f"python:{options['python_version']}-slim"
    if docker("image", "inspect", image, expect=None).returncode != 0:
        pytest.skip(f"no {image} image on this engine; nothing can be pulled here")
    stack = Stack(baked(options), options)
    docker("build", "--tag", stack.image, stack.project)
    stack.up()
    yield stack
    stack.compose("down", "--volumes", "--remove-orphans", expect=None)
    docker("image", "rm", "--force", stack.image, expect=None)


def test_compose_files_are_valid(stack):
    """The Fargate and development configurations pass `docker compose config -q`."""
    for files in (FARGATE, DEVELOPMENT):
        stack.compose("config", "--quiet", files=files)


def test_container_runs_as_non_root_on_a_read_only_root(stack):
    """The task's user is 10001:10001 and the root file system refuses writes."""
    container = stack.container()
    inspect = json.loads(docker("inspect", container).stdout)[0]
    assert inspect["Config"]["User"] == "10001:10001"
    assert inspect["HostConfig"]["ReadonlyRootfs"] is True
    assert inspect["State"]["Health"]["Status"] == "healthy"
    assert docker("exec", container, "id", "-u").stdout.strip() == "10001"
    write = docker("exec", container, "touch", "/app/written", expect=None)
    assert write.returncode != 0
    assert "Read-only file system" in write.stderr
    docker("exec", container, "touch", "/tmp/scratch")


def test_the_container_runs_without_capabilities_or_escalation(stack):
    """compose.yaml drops every capability and sets no-new-privileges; the app serves anyway."""
    inspect = json.loads(docker("inspect", stack.container()).stdout)[0]
    assert inspect["HostConfig"]["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in inspect["HostConfig"]["SecurityOpt"]
    # Every process of the container, the init process included, has an empty bounding set.
    status = docker("exec", stack.container(), "cat", "/proc/1/status").stdout
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert (fields["CapBnd"], fields["CapEff"], fields["NoNewPrivs"]) == ("0" * 16, "0" * 16, "1")
    assert stack.request("GET", "/healthz")[0] == 200


def test_the_code_belongs_to_root_and_no_file_can_gain_privileges(stack):
    """/app is root's, so the app user cannot write it even on a writable root; no setuid file."""
    owners = docker(
        "run", "--rm", "--entrypoint", "stat", stack.image, "-c", "%U %a %n", "/app", "/app/src"
    ).stdout.split("\n")
    assert [line.split()[:2] for line in owners if line] == [["root", "755"], ["root", "755"]]
    write = docker("run", "--rm", "--entrypoint", "touch", stack.image, "/app/written", expect=None)
    assert write.returncode != 0
    assert "Permission denied" in write.stderr
    find_setuid = ["/", "-xdev", "-perm", "/6000", "-type", "f"]
    found = docker("run", "--rm", "--user", "0", "--entrypoint", "find", stack.image, *find_setuid)
    assert found.stdout.strip() == ""


def test_health_and_readiness_answer(stack):
    """/healthz and /readyz answer 200 with JSON."""
    for path, body in (("/healthz", {"status": "ok"}), ("/readyz", {"status": "ready"})):
        status, headers, data = stack.request("GET", path)
        assert (status, json.loads(data)) == (200, body)
        assert headers["Content-Type"] == "application/json"


def test_errors_are_json_and_request_ids_come_back(stack):
    """An unknown route is a JSON 404 that returns the caller's request ID."""
    status, headers, data = stack.request("GET", "/nowhere", headers={"X-Request-ID": "ci-123"})
    assert status == 404
    assert json.loads(data)["error"]["status"] == 404
    assert headers["X-Request-ID"] == "ci-123"
    assert "<html" not in data.decode().lower()


def test_an_oversized_body_is_a_json_413(stack):
    """A body declared over MAX_REQUEST_BYTES (10 MiB by default) is refused with a JSON 413."""
    status, _, data = stack.request(
        "POST",
        "/api/v1/greetings",
        headers={"Content-Type": "application/json", "Content-Length": str(10 * 2**20 + 1)},
    )
    assert (status, json.loads(data)["error"]["status"]) == (413, 413)


@pytest.mark.parametrize("clients", [16, 64])
def test_health_checks_answer_while_slow_clients_upload(stack, clients):
    """/healthz answers in time while slow clients trickle request bodies, 1 KiB/s each.

    In time is Docker's 5 s health-check timeout; the container stays healthy, and
    the slow requests succeed once their bodies are complete.
    """
    size, sent = 8 * 1024, 1024
    body = b'{"name": "slow"}'.ljust(size)  # JSON allows trailing whitespace
    head = (
        "POST /api/v1/greetings HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    slow = [socket.create_connection(("127.0.0.1", stack.port), timeout=20) for _ in range(clients)]
    try:
        for conn in slow:
            conn.sendall(head + body[:sent])
        for _ in range(3):
            started = time.monotonic()
            status, _, _ = stack.request("GET", "/healthz", timeout=5)
            assert status == 200
            for conn in slow:
                conn.sendall(body[sent : sent + 1024])
            sent += 1024
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        # Docker's own check, run now rather than at its next 10 s tick.
        docker("exec", stack.container(), "python", "/app/healthcheck.py")
        for conn in slow:
            conn.sendall(body[sent:])
        replies = [conn.makefile("rb").readline() for conn in slow]
        assert set(replies) == {b"HTTP/1.1 200 OK\r\n"}, set(replies)
    finally:
        for conn in slow:
            conn.close()
    state = json.loads(docker("inspect", stack.container()).stdout)[0]["State"]
    assert state["Health"]["Status"] == "healthy"


def test_logs_are_json_lines_with_request_ids(stack):
    """Every log line on stdout is a JSON object; request lines carry the request ID."""
    stack.request("GET", "/readyz", headers={"X-Request-ID": "log-check"})
    lines = [
        line
        for line in stack.compose("logs", "--no-log-prefix", "app").stdout.splitlines()
        if line.strip()
    ]
    records = [json.loads(line) for line in lines]
    assert any(r.get("request_id") == "log-check" and r.get("path") == "/readyz" for r in records)
    assert not any(r.get("path") == "/healthz" for r in records)


def test_files_survive_down_and_up_and_traversal_is_refused(stack):
    """With the volume, a stored file outlives the container; a traversal name is a 400.

    Without it there is no file store at all: /files answers a JSON 404.
    """
    if not stack.volume:
        status, _, data = stack.request("PUT", "/files/kept.txt", body=b"x")
        assert (status, json.loads(data)["error"]["status"]) == (404, 404)
        return
    assert stack.request("PUT", "/files/kept.txt", body=b"still here")[0] == 201
    assert stack.request("PUT", "/files/..%2F..%2Fetc%2Fpasswd", body=b"x")[0] == 400
    stack.compose("down")
    stack.up()
    status, _, data = stack.request("GET", "/files/kept.txt")
    assert (status, data) == (200, b"still here")


def test_stop_is_graceful_and_finishes_the_request_in_flight(stack):
    """SIGTERM lets a slow request finish; the container stops quickly with exit code 0."""
    if stack.volume:
        # A slow upload is in flight when `docker stop` sends SIGTERM.
        body = b"x" * 4096
        conn = socket.create_connection(("127.0.0.1", stack.port), timeout=20)
        conn.sendall(
            b"PUT /files/slow.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            + f"Authorization: Bearer {TOKEN}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:1024]
        )
        time.sleep(0.5)
    stopped = {}

    def stop():
        started = time.monotonic()
        stopped["result"] = stack.compose("stop", "app", expect=None)
        stopped["seconds"] = time.monotonic() - started

    stopper = threading.Thread(target=stop)
    stopper.start()
    if stack.volume:
        time.sleep(1.0)  # SIGTERM has arrived; the upload is still in flight
        conn.sendall(body[1024:])
        reply = conn.recv(4096).decode()
        conn.close()
        assert reply.startswith("HTTP/1.1 201"), reply
    stopper.join(60)
    assert_exited(stopped["result"])
    state = json.loads(docker("inspect", stack.container()).stdout)[0]["State"]
    assert state["ExitCode"] == 0, stack.compose("logs", expect=None).stdout[-2000:]
    # stop_grace_period is 30 s: stopping well before it shows SIGTERM was handled.
    assert stopped["seconds"] < 10
    stack.up()


def test_development_stack_serves_with_the_source_mounted(stack):
    """compose.yaml with its override mounts the source, stays read-only and becomes healthy."""
    stack.compose("stop", "app")
    result = stack.compose(
        "up", "--detach", "--wait", "--wait-timeout", "60", files=DEVELOPMENT, expect=None
    )
    try:
        logs = stack.compose("logs", files=DEVELOPMENT, expect=None).stdout
        assert result.returncode == 0, result.stderr + logs[-3000:]
        status, _, _ = stack.request("GET", "/healthz")
        assert status == 200
        container = stack.compose("ps", "--all", "--quiet", "app", files=DEVELOPMENT).stdout
        inspect = json.loads(docker("inspect", container.strip()).stdout)[0]
        assert inspect["HostConfig"]["ReadonlyRootfs"] is True
        mounts = {mount["Destination"]: mount["RW"] for mount in inspect["Mounts"]}
        assert mounts["/app/src"] is False
        assert "--reload" in inspect["Config"]["Cmd"]
        assert_an_edit_is_served(stack)
    finally:
        stack.compose("down", "--volumes", files=DEVELOPMENT, expect=None)


def assert_an_edit_is_served(stack, seconds=30):
    """Edit /healthz's answer under src/: the reloaded worker serves the edit."""
    health = stack.project / "src" / PACKAGE / "health.py"
    source = health.read_text()
    assert 'jsonify(status="ok")' in source
    health.write_text(source.replace('jsonify(status="ok")', 'jsonify(status="edited")'))
    try:
        deadline = time.monotonic() + seconds
        answer = b""
        while time.monotonic() < deadline and b"edited" not in answer:
            time.sleep(0.5)
            try:
                answer = stack.request("GET", "/healthz", timeout=2)[2]
            except OSError:
                answer = b""  # the worker restarting
        assert b"edited" in answer, f"no reload within {seconds} s: {answer!r}"
    finally:
        health.write_text(source)
