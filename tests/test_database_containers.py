"""database=postgres on a real Docker engine: compose.yaml's db, migrations, data that stays,
a database that goes away and comes back, and the generated repo's database tests.

Covering set: the volume off and on, with the Python version of the default bake. The
postgres:17 image is the sandbox's stand-in with the official image's interface.
"""

import json
import os
import sys
import time

import pytest
import test_containers
from conftest import PACKAGE, free_port, matrix_params, run
from test_containers import Stack, docker

pytestmark = pytest.mark.container
engine = test_containers.engine

COVERING_SET = [
    {
        "python_version": "3.13",
        "use_volume": volume,
        "ci_provider": "github",
        "database": "postgres",
    }
    for volume in (False, True)
]
DB_PASSWORD = "container-test-db-password"
NOTES = "/api/v1/notes"


class DatabaseStack(Stack):
    def __init__(self, project, options):
        super().__init__(project, options)
        # compose.yaml refuses to start without it; .env gives it with make dev-up.
        self.env["DATABASE_PASSWORD"] = DB_PASSWORD

    def migrate(self):
        return self.compose("exec", "-T", "app", "python", "-m", f"{PACKAGE}.migrate", expect=None)

    def json(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        status, response_headers, data = self.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        return status, response_headers, json.loads(data) if data else None

    def started_at(self) -> str:
        return docker("inspect", "--format", "{{.State.StartedAt}}", self.container()).stdout


@pytest.fixture(scope="module", params=matrix_params(COVERING_SET))
def stack(request, engine, baked):
    for image in (f"python:{request.param['python_version']}-slim", "postgres:17"):
        if docker("image", "inspect", image, expect=None).returncode != 0:
            pytest.skip(f"no {image} image on this engine; nothing can be pulled here")
    stack = DatabaseStack(baked(request.param), request.param)
    docker("build", "--tag", stack.image, stack.project)
    stack.up()
    yield stack
    stack.compose("down", "--volumes", "--remove-orphans", expect=None)
    docker("image", "rm", "--force", stack.image, expect=None)


def wait_for(check, seconds=60):
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, f"still not so after {seconds} s"
        time.sleep(0.5)
    return result


def test_the_stack_is_healthy_and_the_migrations_apply(stack):
    """compose.yaml alone (the Fargate task) waits for db; make migrate's command applies."""
    states = stack.compose("ps", "--format", "{{.Service}} {{.Health}}").stdout.split("\n")
    assert sorted(line for line in states if line) == ["app healthy", "db healthy"]
    result = stack.migrate()
    assert result.returncode == 0, result.stdout + result.stderr
    current = stack.compose(
        "exec", "-T", "app", "python", "-m", f"{PACKAGE}.migrate", "current", expect=None
    )
    assert "(head)" in current.stdout + current.stderr


def test_notes_are_created_listed_and_survive_down_and_up(stack):
    """Rows are in the db volume: `docker compose down` and `up` keep them."""
    assert stack.migrate().returncode == 0
    status, _, created = stack.json("POST", NOTES, {"text": "kept across restarts"})
    assert status == 201, created
    stack.compose("down")
    stack.up()
    status, _, page = stack.json("GET", f"{NOTES}?page_size=100")
    assert status == 200
    assert created in page["notes"]
    status, _, note = stack.json("GET", f"{NOTES}/{created['id']}")
    assert (status, note) == (200, created)


def test_the_service_answers_503_while_db_is_down_and_recovers_by_itself(stack):
    """db stopped: /readyz 503 naming it, the notes routes a JSON 503, /healthz 200.
    db started again: both back, the app container never restarted."""
    assert stack.migrate().returncode == 0
    started = stack.started_at()
    stack.compose("stop", "db")
    try:
        status, _, ready = stack.json("GET", "/readyz")
        assert (status, ready["status"], ready["check"]) == (503, "unavailable", "database")
        assert stack.json("GET", "/healthz")[0] == 200
        for method, path, body in (("GET", NOTES, None), ("POST", NOTES, {"text": "x"})):
            status, headers, error = stack.json(method, path, body)
            assert (status, error["error"]["status"]) == (503, 503), error
            assert headers["Retry-After"]
    finally:
        stack.compose("start", "db")
    wait_for(lambda: stack.json("GET", "/readyz")[0] == 200)
    assert stack.json("POST", NOTES, {"text": "after the outage"})[0] == 201
    assert stack.json("GET", NOTES)[0] == 200
    assert stack.started_at() == started
    lines = stack.compose("logs", "--no-log-prefix", "app").stdout.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert not [r for r in records if r.get("status") == 500 or "exc_info" in r]


def test_the_generated_database_tests_pass_against_postgres(stack):
    """The baked repo's own suite, with REQUIRE_DATABASE=1: its database tests run, none skip."""
    name = f"{stack.name}-pg"
    port = free_port()
    docker("run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:5432",
           "--env", f"POSTGRES_PASSWORD={DB_PASSWORD}", "--env", "POSTGRES_USER=app",
           "--env", "POSTGRES_DB=app", "postgres:17")  # fmt: skip
    try:
        wait_for(
            lambda: (
                docker("exec", name, "pg_isready", "-h", "127.0.0.1", expect=None).returncode == 0
            )
        )
        environ = {
            **os.environ,
            "DATABASE_HOST": "127.0.0.1",
            "DATABASE_PORT": str(port),
            "DATABASE_NAME": "app",
            "DATABASE_USER": "app",
            "DATABASE_PASSWORD": DB_PASSWORD,
            "DATABASE_SSLMODE": "disable",
            "REQUIRE_DATABASE": "1",
        }
        result = run(
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
            "tests/test_db.py", "tests/test_notes.py", "tests/test_migrations.py",
            "tests/test_openapi.py",
            cwd=stack.project, env=environ, expect=None,
        )  # fmt: skip
    finally:
        docker("rm", "--force", name, expect=None)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " skipped" not in result.stdout.splitlines()[-1], result.stdout[-2000:]
