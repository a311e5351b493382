"""The generated GitLab pipeline's lint-test job, run for real by gitlab-ci-local.

gitlab-ci-local (locked in .tools/, `make install-tools`) reads the baked
.gitlab-ci.yml, evaluates its rules and runs lint-test's script in the job's
own image on the local Docker engine, as a runner's docker executor would,
with the job's services (a database=postgres bake's PostgreSQL 17) beside it.
build-image and deploy stay out: their docker:*-cli and docker:*-dind images
add packages from Alpine's mirrors at job start, and deploy needs AWS;
template-update needs the template's repository.
"""

import json
import os
import re
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import assert_exited, bake, require, run, skip_or_fail
from pipelines import (
    REPORT_EVERY_TEST,
    add_failing_test,
    assert_database_tests_passed,
    commit_all,
    missing_image_hint,
    require_database_tests,
    require_engine,
    run_pipeline,
    suite_passed,
)

pytestmark = pytest.mark.container

# gitlab-ci-local 4.75 calls Set.prototype.union, which Node.js has from 22 on.
NODE_MAJOR = 22

# Before a job's script, gitlab-ci-local waits until each service's exposed TCP ports
# take a connection, as a runner does, by running `<wait image> ALIAS:PORT -t SECONDS` in
# the services' network. Its default wait image (docker.io/sumina46/wait-for-it) may not
# be in the engine; this script is the same check, run by an image built from the job's.
WAIT_FOR_IT = """\
import socket, sys, time
target, seconds = sys.argv[1], float(sys.argv[sys.argv.index("-t") + 1])
host, port = target.rsplit(":", 1)
deadline = time.monotonic() + seconds
while True:
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        sys.exit(0)
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"{target}: no connection within {seconds:g} s")
        time.sleep(0.5)
"""


@pytest.fixture(scope="module")
def gitlab_ci_local() -> tuple[str, dict]:
    """Return gitlab-ci-local's path and an environment whose node runs it."""
    require_engine()
    tool = require("gitlab-ci-local", "make install-tools puts it in .tools")
    node = require("node", "make install-tools puts Node 22 in .tools")
    major = int(run(node, "--version").stdout.strip().lstrip("v").split(".")[0])
    if major < NODE_MAJOR:
        skip_or_fail(
            f"gitlab-ci-local needs Node {NODE_MAJOR}+, {node} is older (make install-tools)"
        )
    require("rsync", "gitlab-ci-local copies files with it: apt-get install rsync")
    # The tool's shebang is `env node`: the node found above must come first on PATH.
    return tool, {**os.environ, "PATH": f"{Path(node).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture(scope="module")
def wait_image():
    """Return a function that builds the wait image on a job's image, once per image."""
    built: dict[str, str] = {}

    def build(base: str) -> str:
        if base not in built:
            image = f"template-gcl-wait-{uuid.uuid4().hex[:10]}:latest"
            entrypoint = json.dumps(["python3", "-c", WAIT_FOR_IT])
            run(
                "docker",
                "build",
                "--quiet",
                "--tag",
                image,
                "-",
                input=f"FROM {base}\nENTRYPOINT {entrypoint}\n",
                note=missing_image_hint(base),
            )
            built[base] = image
        return built[base]

    yield build
    for image in built.values():
        run("docker", "image", "rm", "--force", image, expect=None)


def run_gitlab_job(
    project: Path,
    gitlab_ci_local: tuple[str, dict],
    job: str = "lint-test",
    options: tuple[str, ...] = (),
):
    """Run one job of the project's GitLab pipeline; return the result and the job's log."""
    tool, env = gitlab_ci_local
    image = yaml.safe_load((project / ".gitlab-ci.yml").read_text())[job]["image"]
    command = [
        tool,
        job,
        # A runner's default is `always`; the engine may hold images it cannot pull.
        "--pull-policy",
        "if-not-present",
        # The helper container only chowns the job's volumes: the job's image can.
        "--helper-image",
        image,
        *options,
    ]
    log = project / ".gitlab-ci-local" / "output" / f"{job}.log"
    result, job_log = run_pipeline(command, project, env, log)
    return result, job_log, f"job log\n{job_log}{missing_image_hint(image)}"


def gitlab_summary(job: str, verdict: str) -> re.Pattern:
    """Match gitlab-ci-local's closing line for job, e.g. ' PASS  lint-test'."""
    return re.compile(rf"^\s*{verdict}\s+{re.escape(job)}\s*$", re.MULTILINE)


def test_gitlab_lint_test_job_passes(cookies, gitlab_ci_local):
    """A clean bake's lint-test job runs make lint and make test, and passes."""
    project = commit_all(bake(cookies, ci_provider="gitlab"))
    result, log, note = run_gitlab_job(project, gitlab_ci_local)
    assert_exited(result, 0, note)
    assert gitlab_summary("lint-test", "PASS").search(result.stdout), note
    # The job ran the pipeline's own script, and pytest's closing line says all passed.
    assert "$ make lint" in log and "$ make test" in log, note
    assert suite_passed(log), note


def test_gitlab_lint_test_job_fails_on_a_failing_test(cookies, gitlab_ci_local):
    """A failing test fails lint-test, and the job log names it."""
    project = bake(cookies, ci_provider="gitlab")
    add_failing_test(project)
    result, log, note = run_gitlab_job(commit_all(project), gitlab_ci_local)
    assert_exited(result, 1, note)
    assert gitlab_summary("lint-test", "FAIL").search(result.stdout), note
    assert "FAILED tests/test_broken.py::test_fails" in log, note


def test_gitlab_lint_test_job_runs_the_database_tests(cookies, gitlab_ci_local, wait_image):
    """A postgres bake's lint-test job starts PostgreSQL 17; the database tests pass on it."""
    project = bake(cookies, ci_provider="gitlab", database="postgres")
    require_database_tests(project)
    job = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["lint-test"]
    assert [service["name"] for service in job["services"]] == ["postgres:17"]
    options = ("--wait-image", wait_image(job["image"]), "--variable", REPORT_EVERY_TEST)
    result, log, note = run_gitlab_job(commit_all(project), gitlab_ci_local, options=options)
    # gitlab-ci-local's own lines (services, health check), without the job's output.
    own = "\n".join(line for line in result.stdout.splitlines() if " > " not in line)
    note += f"\n--- gitlab-ci-local\n{own}"
    assert_exited(result, 0, note)
    assert gitlab_summary("lint-test", "PASS").search(result.stdout), note
    # The script started after the service's port took connections.
    assert "service image: postgres:17 healthcheck passed" in result.stdout, note
    assert suite_passed(log), note
    assert_database_tests_passed(log, note)
