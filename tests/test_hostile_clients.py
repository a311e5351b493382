"""The generated image under attack: each hostile client of issue 13, on a real Docker engine.

The stack is test_containers.py's (compose.yaml, the Fargate task run locally),
over the same covering set; each test is an attack and what must hold after it.
"""

import contextlib
import json
import socket
import threading
import time

import pytest
import test_containers
from conftest import free_port
from test_containers import TOKEN, Stack, docker

# test_containers.py's fixtures: the same stack, built for this module's attacks.
engine = test_containers.engine
stack = test_containers.stack

pytestmark = pytest.mark.container

GREETINGS = "/api/v1/greetings"
MiB = 1024 * 1024


def send(stack, head: str, body: bytes = b"", *, hang_up=False) -> tuple[int | None, bytes]:
    """Send a raw request; return the status and body of the answer (None if there was none).

    hang_up closes the sending side after the body, as a client that gives up does.
    """
    with socket.create_connection(("127.0.0.1", stack.port), timeout=20) as connection:
        try:
            connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
            if hang_up:
                connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before taking the whole body
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except OSError:
            pass
    if not answer.startswith(b"HTTP/1.1 "):
        return None, answer
    return int(answer[9:12]), answer.partition(b"\r\n\r\n")[2]


def head(method, path, *lines, token=True) -> str:
    auth = [f"Authorization: Bearer {TOKEN}"] if token else []
    return "\n".join(
        [f"{method} {path} HTTP/1.1", "Host: t", "Connection: close", *auth, *lines, ""]
    )


def logs(stack) -> str:
    return stack.compose("logs", "--no-log-prefix", "app").stdout


def data_files(container) -> list[str]:
    return docker("exec", container, "ls", "-A", "/data").stdout.split()


def oom_kills(container) -> int:
    """The kernel's count of OOM kills in the container's memory cgroup (v2, else v1)."""
    script = "cat /sys/fs/cgroup/memory.events || cat /sys/fs/cgroup/memory/memory.oom_control"
    text = docker("exec", container, "sh", "-c", script).stdout
    (count,) = [int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill ")]
    return count


def error_status(data: bytes) -> int:
    return json.loads(data)["error"]["status"]


def test_writes_without_a_valid_token_change_nothing(stack):
    """No token, or a wrong one: a JSON 401 with WWW-Authenticate: Bearer, and nothing changes."""
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789abcdef"}):
        status, answer_headers, data = stack.request(
            "POST",
            GREETINGS,
            body=b'{"name": "Ada"}',
            token=False,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert (status, error_status(data)) == (401, 401)
        assert answer_headers["WWW-Authenticate"] == "Bearer"
    if stack.volume:
        for method in ("PUT", "GET", "DELETE"):
            status, _, _ = stack.request(method, "/files/open.txt", body=b"x", token=False)
            assert status == 401, method
        assert stack.request("GET", "/files", token=False)[0] == 401
        assert stack.request("GET", "/files/open.txt")[0] == 404
    assert TOKEN not in logs(stack)
    assert stack.request("GET", "/readyz", token=False)[0] == 200


def test_an_upload_cut_short_replaces_nothing(stack):
    """A PUT whose client hangs up before its Content-Length is a 400; the old file stays."""
    if not stack.volume:
        pytest.skip("no file store without the volume")
    assert stack.request("PUT", "/files/good.txt", body=b"the good version")[0] in (200, 201)
    status, _ = send(
        stack, head("PUT", "/files/good.txt", "Content-Length: 3000000"), b"x" * 100, hang_up=True
    )
    assert status in (400, None)
    assert stack.request("GET", "/files/good.txt")[2] == b"the good version"
    assert not [name for name in data_files(stack.container()) if name.startswith(".upload-")]


@pytest.mark.parametrize(
    "chunk", [b"zz\r\nxx\r\n0\r\n\r\n", b"2\r\nxxxx0\r\n\r\n"], ids=["size", "end"]
)
def test_bad_chunked_framing_is_a_json_4xx_without_a_traceback(stack, chunk):
    """A chunked body with a bad chunk size or a missing terminator: a JSON 400 (gunicorn's
    parser raises as the app reads it), and the file store, whose free-space check needs the
    size first, refuses chunked uploads with a 411."""
    expected = {GREETINGS: (400,), **({"/files/chunked.bin": (411,)} if stack.volume else {})}
    for path, statuses in expected.items():
        method = "PUT" if path.startswith("/files") else "POST"
        lines = ("Transfer-Encoding: chunked", "Content-Type: application/json")
        answer, data = send(stack, head(method, path, *lines), chunk)
        assert answer in statuses and error_status(data) == answer, data
    if stack.volume:
        assert not [name for name in data_files(stack.container()) if name == "chunked.bin"]
    assert "Traceback" not in logs(stack)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 413),  # over MAX_JSON_BYTES before it is parsed
        (b'{"name": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", 400),
        (b'{"name": ' + b"9" * 5_000 + b"}", 400),
    ],
    ids=["100000-deep", "5000-deep", "5000-digit-integer"],
)
def test_hostile_json_is_a_json_4xx_without_a_traceback(stack, body, status):
    """Deep nesting and huge numbers are refused, never a 500, and leave no traceback."""
    answer = stack.request(
        "POST", GREETINGS, body=body, headers={"Content-Type": "application/json"}
    )
    assert (answer[0], error_status(answer[2])) == (status, status)
    assert "Traceback" not in logs(stack)


def test_concurrent_json_bombs_do_not_oom_kill_a_worker(stack):
    """Eight 10 MiB JSON bodies at once, framed both ways, at the default task size: the
    kernel's OOM counter does not move and the probes keep answering."""
    container = stack.container()
    before = oom_kills(container)
    # An array of empty objects just under MAX_REQUEST_BYTES: parsed, about 285 MiB.
    bomb = b"[" + b"{}," * ((10 * MiB - 4) // 3) + b"{}]"
    framings = [f"Content-Length: {len(bomb)}", "Transfer-Encoding: chunked"]
    answers = []

    def attack(framing):
        body = (
            bomb if framing.startswith("Content") else b"%x\r\n%s\r\n0\r\n\r\n" % (len(bomb), bomb)
        )
        lines = ("Content-Type: application/json", framing)
        answers.append(send(stack, head("POST", GREETINGS, *lines), body)[0])

    threads = [threading.Thread(target=attack, args=(framings[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert oom_kills(container) == before
    assert set(answers) <= {413, None}, answers
    assert stack.request("GET", "/healthz")[0] == 200


def test_a_body_of_exactly_the_limit_is_accepted(stack):
    """MAX_REQUEST_BYTES (10 MiB) is the largest upload, and MAX_JSON_BYTES the largest JSON."""
    json_body = b'{"name": "Ada"}'.ljust(64 * 1024)
    answer = stack.request(
        "POST", GREETINGS, body=json_body, headers={"Content-Type": "application/json"}
    )
    assert answer[0] == 200
    if stack.volume:
        assert stack.request("PUT", "/files/max.bin", body=b"x" * (10 * MiB))[0] in (200, 201)
        # Refused on its Content-Length alone, before any of it is sent.
        over = head("PUT", "/files/over.bin", f"Content-Length: {10 * MiB + 1}")
        assert send(stack, over)[0] == 413


def test_no_redirect_echoes_the_host_and_downloads_are_not_sniffed(stack):
    """Doubled or encoded slashes get a JSON 4xx, never a 308 to the client's Host; every
    answer carries X-Content-Type-Options: nosniff."""
    paths = ["/api/v1//greetings"] + (["/files/%2fetc"] if stack.volume else [])
    for path in paths:
        status, headers, _ = stack.request("GET", path, headers={"Host": "evil.example"})
        assert 400 <= status < 500 and "Location" not in headers, (path, status)
    if stack.volume:
        stack.request("PUT", "/files/page.html", body=b"<script>alert(1)</script>")
        status, headers, _ = stack.request("GET", "/files/page.html")
        assert status == 200
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert stack.request("GET", "/readyz")[1]["X-Content-Type-Options"] == "nosniff"


def test_the_client_ip_behind_the_load_balancer_is_logged(stack):
    """The request log names X-Forwarded-For's last hop, the address the load balancer saw."""
    forwarded = {"X-Forwarded-For": "10.6.6.6, 203.0.113.9", "X-Request-ID": "ip-check"}
    stack.request("GET", "/readyz", headers=forwarded)
    records = [json.loads(line) for line in logs(stack).splitlines() if line.strip()]
    (record,) = [r for r in records if r.get("request_id") == "ip-check"]
    assert record["client_ip"] == "203.0.113.9"


def test_without_a_token_the_service_refuses_to_start_in_one_line(stack):
    """A container started with no API_TOKENS exits, naming API_TOKENS, without a traceback."""
    name = f"{stack.name}-tokenless"
    try:
        # At the task's size, as on Fargate.
        docker("run", "--detach", "--name", name, *task_size(stack), stack.image)
        for _ in range(60):
            state = json.loads(docker("inspect", name).stdout)[0]["State"]
            if not state["Running"]:
                break
            time.sleep(0.5)
        output = docker("logs", name).stderr + docker("logs", name).stdout
        assert not state["Running"] and state["ExitCode"] != 0, output
        assert "API_TOKENS is empty: set it to one or more comma-separated" in output
        assert "Traceback" not in output
    finally:
        docker("rm", "--force", name, expect=None)


def test_a_full_volume_is_a_json_507_and_not_ready(stack):
    """On a 4 MiB volume keeping 1 MiB free: a PUT that does not fit is a 507 naming the
    limit and leaves nothing; filled to the brim, /readyz is 503."""
    if not stack.volume:
        pytest.skip("no file store without the volume")
    name, port = f"{stack.name}-full", free_port()
    full = FullVolume(port)
    try:
        docker(
            *("run", "--detach", "--name", name, "--user", "10001:10001", *task_size(stack)),
            *("-p", f"127.0.0.1:{port}:{option(stack, 'container_port')}"),
            # Owned by the app user, as the image's /data is (a tmpfs mode does not suffice).
            *("--tmpfs", f"/data:rw,size={4 * MiB},uid=10001,gid=10001", "-e", "DATA_DIR=/data"),
            *("-e", f"DATA_MIN_FREE_BYTES={MiB}", "-e", f"API_TOKENS={TOKEN}", stack.image),
        )
        full.wait_until_ready()
        status, data = send(
            full,
            head("PUT", "/files/big.bin", f"Content-Length: {5 * MiB}"),
            b"x" * 5 * MiB,
        )
        assert (status, error_status(data)) == (507, 507), data
        assert b"DATA_MIN_FREE_BYTES=1048576" in data
        status, data = send(
            full,
            head("PUT", "/files/big.bin", f"Content-Length: {int(3.5 * MiB)}"),
            b"x" * int(3.5 * MiB),
        )
        assert status == 507 and b"DATA_MIN_FREE_BYTES=1048576" in data
        assert data_files(name) == []
        docker("exec", name, "sh", "-c", "cat /dev/zero > /data/filler", expect=None)
        status, _, data = full.request("GET", "/readyz")
        assert (status, json.loads(data)["check"]) == (503, "data_free_space")
        assert "Traceback" not in docker("logs", name).stdout
    finally:
        docker("rm", "--force", name, expect=None)


def test_a_killed_upload_is_swept_at_the_next_start(stack):
    """A worker killed mid-upload leaves a temporary file; once it is older than the sweep's
    bound, the next start removes it, and an upload in progress elsewhere is kept."""
    if not stack.volume:
        pytest.skip("no file store without the volume")
    connection = socket.create_connection(("127.0.0.1", stack.port), timeout=20)
    connection.sendall(
        head("PUT", "/files/killed.bin", "Content-Length: 1000000").replace("\n", "\r\n").encode()
        + b"\r\n"
        + b"x" * 100_000
    )
    time.sleep(1)  # the upload is being written
    container = stack.container()
    docker("kill", container)
    connection.close()
    volume = f"{stack.name}_data"
    on_volume = ("run", "--rm", "--user", "10001:10001", "-v", f"{volume}:/data", stack.image)
    orphans = [
        n
        for n in docker(*on_volume, "ls", "-A", "/data").stdout.split()
        if n.startswith(".upload-")
    ]
    assert orphans, "the kill left no temporary file to sweep"
    docker(*on_volume, "sh", "-c", "touch -d @0 /data/.upload-* && touch /data/.upload-live")
    stack.up()
    left = [n for n in data_files(stack.container()) if n.startswith(".upload-")]
    assert left == [".upload-live"]
    docker("exec", stack.container(), "rm", "/data/.upload-live")


def option(stack, name) -> str:
    """One of the options the stack's project was baked with."""
    return json.loads((stack.project / ".cookiecutter.json").read_text())[name]


def task_size(stack) -> tuple[str, ...]:
    """docker run's options for the Fargate task's read-only root, CPU and memory."""
    cpus = int(option(stack, "fargate_cpu")) / 1024
    memory = f"{option(stack, 'fargate_memory')}m"
    return ("--read-only", "--tmpfs", "/tmp", "--cpus", str(cpus), "--memory", memory)


class FullVolume:
    """A container of the stack's image on a tiny tmpfs volume, reached as a Stack is."""

    request = Stack.request

    def __init__(self, port):
        self.port = port

    def wait_until_ready(self):
        for _ in range(60):
            with contextlib.suppress(OSError):
                if self.request("GET", "/readyz")[0] == 200:
                    return
            time.sleep(0.5)
        pytest.fail("the full-volume container never became ready")


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        ("GARBAGE\n", 400),
        (f"GET /{'a' * 70_000} HTTP/1.1\nHost: t\n", 414),
        # More header fields than the parser takes: small, so nothing blocks on sending.
        ("GET / HTTP/1.1\nHost: t\n" + "".join(f"X-H{i}: v\n" for i in range(200)), 431),
    ],
    ids=["request-line", "uri", "headers"],
)
def test_the_servers_own_rejections_are_json(stack, request_head, status):
    """What gunicorn refuses before the app sees a request (an unparseable request line, a
    URI over its limit, too many header fields) gets its status with the app's JSON error
    body, no HTML page, and the connection closes (worker.py)."""
    answer = b""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=20) as connection:
        connection.sendall(request_head.replace("\n", "\r\n").encode() + b"\r\n")
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    assert b"content-type: application/json" in head.lower()
    assert error_status(body) == status
